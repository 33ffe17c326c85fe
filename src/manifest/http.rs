//! The HTTP manifest source (`--manifest-url`), as the kubelet's: GET every `--http-check-frequency` with a
//! 10 s timeout and the configured headers; only status 200 is accepted.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Timeout of one GET, as the kubelet's.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// Errors setting up the HTTP source.
#[derive(Debug, thiserror::Error)]
pub enum HttpSourceError {
    /// A `--manifest-url-header` that is not `Key:Value`.
    #[error("--manifest-url-header {0:?}: expected 'Key:Value'")]
    BadHeader(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// Parses `Key:Value` header flags.
pub fn parse_headers(flags: &[String]) -> Result<HeaderMap, HttpSourceError> {
    let mut map = HeaderMap::new();
    for flag in flags {
        let (k, v) = flag
            .split_once(':')
            .ok_or_else(|| HttpSourceError::BadHeader(flag.clone()))?;
        let name = HeaderName::from_bytes(k.trim().as_bytes())
            .map_err(|_| HttpSourceError::BadHeader(flag.clone()))?;
        let value = HeaderValue::from_str(v.trim())
            .map_err(|_| HttpSourceError::BadHeader(flag.clone()))?;
        map.append(name, value);
    }
    Ok(map)
}

/// A manifest URL and the client that fetches it.
#[derive(Clone, Debug)]
pub struct HttpSource {
    url: String,
    client: reqwest::Client,
}

impl HttpSource {
    /// A source for `url` sending `headers` with every request.
    pub fn new(url: String, headers: HeaderMap) -> Result<Self, HttpSourceError> {
        let client = reqwest::Client::builder()
            .timeout(HTTP_TIMEOUT)
            .default_headers(headers)
            .build()?;
        Ok(Self { url, client })
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One GET: the body when the status is 200, otherwise a message for the user.
    pub async fn fetch(&self) -> Result<Vec<u8>, String> {
        let resp = self
            .client
            .get(&self.url)
            .send()
            .await
            .map_err(|e| format!("GET {} failed: {}", self.url, error_chain(&e)))?;
        let status = resp.status();
        if status != reqwest::StatusCode::OK {
            return Err(format!(
                "GET {} returned {status}; only 200 is accepted",
                self.url
            ));
        }
        let body = resp.bytes().await.map_err(|e| {
            format!(
                "GET {}: reading the body failed: {}",
                self.url,
                error_chain(&e)
            )
        })?;
        if body.len() as u64 > super::files::MAX_MANIFEST_BYTES {
            return Err(format!("GET {}: the body is larger than 10 MB", self.url));
        }
        Ok(body.to_vec())
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
