//! The self-reviews: `kubectl auth can-i` and k9s ask `SelfSubjectAccessReview`s (k9s gates every view on
//! them), `kubectl auth can-i --list` a `SelfSubjectRulesReview`, `kubectl auth whoami` a `SelfSubjectReview`.
//! The bearer token is the playground's only credential and its holder may do everything, so every review
//! answers allowed; what the server does not serve still answers 404 or 405.

use http::{Request, Response};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use k8s_openapi::api::authentication::v1::{SelfSubjectReview, SelfSubjectReviewStatus, UserInfo};
use k8s_openapi::api::authorization::v1::{
    NonResourceRule, ResourceRule, SelfSubjectAccessReview, SelfSubjectRulesReview,
    SubjectAccessReviewStatus, SubjectRulesReviewStatus,
};

use super::http::{Body, json_of};
use super::status::ApiStatus;

/// The user the token authenticates.
pub const USER: &str = "podtui-admin";

const MAX_BODY: usize = 1 << 20;

/// The review in the request body. kubectl sends reviews as protobuf, which this server does not decode: the
/// answer does not depend on the question (allowed), so such a review is answered with an empty spec, in JSON
/// (clients decode a response by its content type).
async fn body<T: serde::de::DeserializeOwned + Default>(
    req: Request<Incoming>,
) -> Result<T, ApiStatus> {
    let content_type = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_string();
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|_| ApiStatus::too_large())?
        .to_bytes();
    if content_type.starts_with("application/vnd.kubernetes.protobuf") {
        return Ok(T::default());
    }
    if !content_type.starts_with("application/json") {
        return Err(ApiStatus::unsupported_media_type(&content_type));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiStatus::bad_request(format!("the request body is not valid: {e}")))
}

/// Answers a review `POST`ed to `resource`.
pub async fn review(resource: &str, req: Request<Incoming>) -> Result<Response<Body>, ApiStatus> {
    match resource {
        "selfsubjectaccessreviews" => {
            let mut r: SelfSubjectAccessReview = body(req).await?;
            r.status = Some(SubjectAccessReviewStatus {
                allowed: true,
                reason: Some("podtui: the playground's token may do everything".into()),
                ..Default::default()
            });
            Ok(json_of(201, &r))
        }
        "selfsubjectrulesreviews" => {
            let mut r: SelfSubjectRulesReview = body(req).await?;
            let all = || Some(vec!["*".to_string()]);
            r.status = Some(SubjectRulesReviewStatus {
                incomplete: false,
                non_resource_rules: vec![NonResourceRule {
                    non_resource_urls: all(),
                    verbs: vec!["*".into()],
                }],
                resource_rules: vec![ResourceRule {
                    api_groups: all(),
                    resources: all(),
                    verbs: vec!["*".into()],
                    ..Default::default()
                }],
                ..Default::default()
            });
            Ok(json_of(201, &r))
        }
        "selfsubjectreviews" => {
            let mut r: SelfSubjectReview = body(req).await?;
            r.status = Some(SelfSubjectReviewStatus {
                user_info: Some(UserInfo {
                    username: Some(USER.into()),
                    groups: Some(vec!["system:masters".into(), "system:authenticated".into()]),
                    ..Default::default()
                }),
            });
            Ok(json_of(201, &r))
        }
        _ => Err(ApiStatus::no_route()),
    }
}
