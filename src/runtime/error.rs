//! Errors of runtime calls: every one says which operation on which object failed, and whether the engine
//! refused it or could not be reached.

use std::time::Duration;

use bollard::errors::Error as BollardError;

/// Timeout of quick calls (list, inspect, create): a hung engine is reported, not waited on forever.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// A Docker call that failed.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The engine answered with an error or could not be reached.
    #[error("{op}: {message}")]
    Docker {
        /// What podtui was doing (`create container k8s_web_…`).
        op: String,
        /// Docker's message.
        message: String,
        /// HTTP status, when the engine answered.
        status: Option<u16>,
    },
    /// The call took longer than [`CALL_TIMEOUT`].
    #[error("{op}: the Docker engine did not answer within {secs}s", secs = CALL_TIMEOUT.as_secs())]
    Timeout {
        /// What podtui was doing.
        op: String,
    },
}

impl RuntimeError {
    pub(crate) fn from_bollard(op: impl Into<String>, e: BollardError) -> Self {
        let (message, status) = match &e {
            BollardError::DockerResponseServerError {
                status_code,
                message,
            } => (message.clone(), Some(*status_code)),
            other => (error_chain(other), None),
        };
        RuntimeError::Docker {
            op: op.into(),
            message,
            status,
        }
    }

    /// The object does not exist (404).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            RuntimeError::Docker {
                status: Some(404),
                ..
            }
        )
    }

    /// The object is in a state that does not allow the call, or the name is taken (409).
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            RuntimeError::Docker {
                status: Some(409),
                ..
            }
        )
    }

    /// The engine did not answer at all (it is down or unreachable), as opposed to refusing a request.
    pub fn is_connection(&self) -> bool {
        matches!(
            self,
            RuntimeError::Docker { status: None, .. } | RuntimeError::Timeout { .. }
        )
    }

    /// A failure podtui found itself while doing `op` (no engine answer involved).
    pub fn failed(op: impl Into<String>, message: impl Into<String>) -> Self {
        RuntimeError::Docker {
            op: op.into(),
            message: message.into(),
            status: None,
        }
    }

    /// Docker's message alone.
    pub fn message(&self) -> String {
        match self {
            RuntimeError::Docker { message, .. } => message.clone(),
            RuntimeError::Timeout { .. } => "the Docker engine did not answer".into(),
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = inner.source();
    }
    s
}

/// Result of a runtime call.
pub type RtResult<T> = Result<T, RuntimeError>;

pub(crate) async fn timed<T>(
    op: impl Into<String>,
    fut: impl Future<Output = Result<T, BollardError>>,
) -> RtResult<T> {
    let op = op.into();
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(RuntimeError::from_bollard(op, e)),
        Err(_) => Err(RuntimeError::Timeout { op }),
    }
}
