//! A tiny HTTP/1.1 server on 127.0.0.1 for URL manifest sources: the test sets its status and body, and reads
//! the request heads it got.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A tiny HTTP/1.1 server on 127.0.0.1 whose status and body the test changes; it records request headers.
pub struct TestServer {
    /// `http://127.0.0.1:<port>/pods.yaml`.
    pub url: String,
    /// The status and body every request gets.
    pub response: Arc<Mutex<(u16, String)>>,
    /// Each request's head, as read.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl TestServer {
    /// Listens on 127.0.0.1, port 0, answering `200` with an empty body until the test sets `response`.
    pub async fn start() -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/pods.yaml", listener.local_addr().unwrap());
        let response = Arc::new(Mutex::new((200u16, String::new())));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (resp, reqs) = (response.clone(), requests.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (resp, reqs) = (resp.clone(), reqs.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 8192];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    reqs.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let (status, body) = resp.lock().unwrap().clone();
                    let msg = format!(
                        "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(msg.as_bytes()).await;
                });
            }
        });
        TestServer {
            url,
            response,
            requests,
        }
    }
}
