//! Errors as the API server sends them: a `Status` object with the HTTP code, a reason and a message, so that
//! kubectl prints what it prints against a cluster (`Error from server (NotFound): pods "x" not found`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Status, StatusCause, StatusDetails};

/// An error answer of the API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiStatus {
    /// HTTP status code.
    pub code: u16,
    /// Kubernetes' reason (`NotFound`, `BadRequest`…).
    pub reason: &'static str,
    /// What kubectl prints after `Error from server (<reason>): `.
    pub message: String,
    /// The object's name and the resource, for `details`.
    pub details: Option<(String, String)>,
    /// `details.causes`: (field path, message) of each finding of an `Invalid` answer.
    pub causes: Vec<(String, String)>,
}

impl ApiStatus {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            causes: Vec::new(),
        }
    }

    /// 409 for a create of an object that exists: `pods "x" already exists`.
    pub fn already_exists(resource: &str, name: &str, why: &str) -> Self {
        Self {
            details: Some((name.to_string(), resource.to_string())),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{resource} \"{name}\" already exists{why}"),
            )
        }
    }

    /// 409 for a write that would conflict with what is there (a file shared with other pods).
    pub fn conflict(resource: &str, name: &str, message: impl Into<String>) -> Self {
        Self {
            details: Some((name.to_string(), resource.to_string())),
            ..Self::new(409, "Conflict", message)
        }
    }

    /// 422 for an object with errors: one cause per (field path, message), printed by kubectl as `The Pod
    /// "x" is invalid: <path>: <message>`.
    pub fn invalid(kind: &str, name: &str, causes: Vec<(String, String)>) -> Self {
        let list: Vec<String> = causes.iter().map(|(f, m)| format!("{f}: {m}")).collect();
        let message = match list.len() {
            1 => list[0].clone(),
            _ => format!("[{}]", list.join(", ")),
        };
        Self {
            details: Some((name.to_string(), kind.to_string())),
            causes,
            ..Self::new(
                422,
                "Invalid",
                format!("{kind} \"{name}\" is invalid: {message}"),
            )
        }
    }

    /// 404 for an object that does not exist: `pods "x" not found`.
    pub fn not_found(resource: &str, name: &str) -> Self {
        Self {
            details: Some((name.to_string(), resource.to_string())),
            ..Self::new(404, "NotFound", format!("{resource} \"{name}\" not found"))
        }
    }

    /// 404 for a path the server does not serve.
    pub fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    /// 405 for a verb a resource does not serve.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    /// 401 for a request without the bearer token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// 400 with a message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 406 when no media type in `Accept` can be served.
    pub fn not_acceptable(accept: &str) -> Self {
        Self::new(
            406,
            "NotAcceptable",
            format!(
                "only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io (asked for {accept})"
            ),
        )
    }

    /// 415 for a request body that is not JSON.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json (got {content_type})"
            ),
        )
    }

    /// 413 for a request body over the limit.
    pub fn too_large() -> Self {
        Self::new(
            413,
            "RequestEntityTooLarge",
            "the request body is too large",
        )
    }

    /// 410 for a resourceVersion (or continue token) older than what the server still has.
    pub fn expired(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    /// 503 while something the request needs (the Docker engine) is unreachable.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    /// 500 for a failure of the server itself.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message)
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Status {
        Status {
            code: Some(i32::from(self.code)),
            // The API server sends `details` with every error but authentication's.
            details: match &self.details {
                Some((name, kind)) => Some(StatusDetails {
                    name: Some(name.clone()),
                    kind: Some(kind.clone()),
                    causes: (!self.causes.is_empty()).then(|| {
                        self.causes
                            .iter()
                            .map(|(field, message)| StatusCause {
                                field: Some(field.clone()),
                                message: Some(message.clone()),
                                reason: Some("FieldValueInvalid".into()),
                            })
                            .collect()
                    }),
                    ..Default::default()
                }),
                None if self.code == 401 => None,
                None => Some(StatusDetails::default()),
            },
            message: Some(self.message.clone()),
            reason: Some(self.reason.to_string()),
            status: Some("Failure".into()),
            ..Default::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_is_what_kubectl_prints() {
        let s = serde_json::to_value(ApiStatus::not_found("pods", "x").to_status()).unwrap();
        assert_eq!(
            s,
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "pods \"x\" not found", "reason": "NotFound",
                "details": {"name": "x", "kind": "pods"}, "code": 404})
        );
    }
}
