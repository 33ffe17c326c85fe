//! Helpers of the API tests: the example pods with the offline test images, an in-process engine with the API
//! beside it, and the real `kubectl` run against it with a private HOME, KUBECONFIG and discovery cache.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use podtui::api::{ApiConfig, ApiServer, ApiSources};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::common::engine::{TestEngine, fast_backoff};
use super::common::{BUSYBOX, SEEDED};

/// The kubectl the tests run: `$PODTUI_TEST_KUBECTL`, else `kubectl` from PATH. Fails the test with what to do
/// when it is missing or older than 1.30.
pub fn kubectl_binary() -> PathBuf {
    let bin = std::env::var_os("PODTUI_TEST_KUBECTL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("kubectl"));
    let out = std::process::Command::new(&bin)
        .args(["version", "--client", "-o", "json"])
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "the API tests need kubectl >= 1.30 ({}: {e}); install it or set PODTUI_TEST_KUBECTL",
                bin.display()
            )
        });
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("kubectl version -o json");
    let minor: u32 = v["clientVersion"]["minor"]
        .as_str()
        .unwrap_or("0")
        .trim_end_matches('+')
        .parse()
        .unwrap_or(0);
    assert!(
        v["clientVersion"]["major"] == "1" && minor >= 30,
        "the API tests need kubectl >= 1.30, {} is {}",
        bin.display(),
        v["clientVersion"]["gitVersion"]
    );
    bin
}

fn example(file: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("manifests")
            .join(file),
    )
    .unwrap()
}

/// manifests/nginx.yaml with the test images: "nginx" serves HTTP with busybox httpd from an image that, like
/// nginx's, has files at /var/log/nginx (as tests/engine_pods.rs rewrites it).
pub fn nginx_pod() -> String {
    example("nginx.yaml")
        .replace(
            "    image: nginx\n",
            &format!(
                "    image: {SEEDED}\n    command: [/bin/sh, -c, 'mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 80 -h /www']\n"
            ),
        )
        .replace("image: busybox", &format!("image: {BUSYBOX}"))
        .replace("spec:\n", "spec:\n  terminationGracePeriodSeconds: 2\n")
}

/// manifests/crashloop.yaml with the test image.
pub fn crashloop_pod() -> String {
    example("crashloop.yaml").replace("image: busybox", &format!("image: {BUSYBOX}"))
}

/// manifests/job.yaml with the test image.
pub fn job_pod() -> String {
    example("job.yaml").replace("image: busybox", &format!("image: {BUSYBOX}"))
}

/// manifests/init-demo.yaml with the test image and no hostPort (tests run in parallel).
pub fn init_demo_pod() -> String {
    example("init-demo.yaml")
        .replace("image: busybox", &format!("image: {BUSYBOX}"))
        .replace("      hostPort: 8080\n", "")
}

/// An engine on its own manifests, node name and state dir, the API beside it, and kubectl's private home.
pub struct Playground {
    /// The engine.
    pub t: TestEngine,
    /// The API.
    pub api: Option<ApiServer>,
    /// HOME and the discovery cache of kubectl.
    pub home: tempfile::TempDir,
    /// The kubectl binary.
    pub kubectl: PathBuf,
}

impl Playground {
    /// Writes `files`, starts the engine (fast back-off) and the API on 127.0.0.1, port 0.
    pub async fn start(test: &str, files: &[(&str, String)]) -> Self {
        Self::start_with(test, files, |_| {}).await
    }

    /// [`Playground::start`] with the engine's config changed by `adjust` (a single-file source, say).
    pub async fn start_with(
        test: &str,
        files: &[(&str, String)],
        adjust: impl FnOnce(&mut podtui::engine::EngineConfig),
    ) -> Self {
        let kubectl = kubectl_binary();
        let mut t = TestEngine::new(test);
        for (name, text) in files {
            t.write(name, text);
        }
        t.start_with(fast_backoff(), adjust);
        let cfg = ApiConfig {
            state_dir: t.state.path().to_path_buf(),
            node: t.node.clone(),
            address: "127.0.0.1:0".parse().unwrap(),
        };
        let api = ApiServer::start(cfg, ApiSources::from_handle(t.handle()))
            .await
            .unwrap();
        Self {
            t,
            api: Some(api),
            home: tempfile::tempdir().unwrap(),
            kubectl,
        }
    }

    /// The API.
    pub fn api(&self) -> &ApiServer {
        self.api.as_ref().unwrap()
    }

    /// The kubeconfig the API wrote.
    pub fn kubeconfig(&self) -> PathBuf {
        self.api().kubeconfig.clone()
    }

    /// `kubectl` with the playground's kubeconfig, a private HOME and discovery cache.
    pub fn command(&self, kubeconfig: &Path, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(&self.kubectl);
        c.arg("--cache-dir")
            .arg(self.home.path().join("cache"))
            .args(args)
            .env("HOME", self.home.path())
            .env("KUBECONFIG", kubeconfig)
            .env_remove("KUBERNETES_SERVICE_HOST")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        c
    }

    /// Runs kubectl to the end.
    pub async fn run(&self, args: &[&str]) -> Output {
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            self.command(&self.kubeconfig(), args).output(),
        )
        .await
        .expect("kubectl finishes within 60 s")
        .unwrap();
        eprintln!(
            "$ kubectl {}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Runs kubectl, asserts it succeeded, returns its stdout.
    pub async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            out.status.success(),
            "kubectl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs kubectl, asserts it failed, returns its stderr.
    pub async fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert!(
            !out.status.success(),
            "kubectl {} succeeded",
            args.join(" ")
        );
        String::from_utf8(out.stderr).unwrap()
    }

    /// Runs kubectl with `stdin` as its standard input; returns its output.
    pub async fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut c = self.command(&self.kubeconfig(), args);
        c.stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let mut child = c.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        input.write_all(stdin.as_bytes()).await.unwrap();
        drop(input);
        let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("kubectl finishes within 60 s")
            .unwrap();
        eprintln!(
            "$ kubectl {} <<< {stdin:?}\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// The files of the manifest directory, sorted (hidden ones too: no temporary file may be left).
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.t.manifests.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// The text of a manifest file.
    pub fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.t.path(name)).unwrap()
    }

    /// The texts of `<state dir>/<sub>` (backups, trash), sorted by file name, without the trash's `.json`
    /// records.
    pub fn state_texts(&self, sub: &str) -> Vec<String> {
        let dir = self.t.state.path().join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map(|rd| rd.map(|e| e.unwrap().path()).collect())
            .unwrap_or_else(|_| Vec::new());
        names.retain(|p| p.extension().is_none_or(|x| x != "json"));
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The full pod name of `name`.
    pub fn pod(&self, name: &str) -> String {
        self.t.pod_name(name)
    }

    /// Stops the API and the engine.
    pub async fn stop(&mut self) {
        if let Some(api) = self.api.take() {
            api.shutdown().await;
        }
        self.t.stop().await;
    }
}

/// The rows of a kubectl table: the header's cells, then each row's. kubectl separates columns by at least
/// three spaces; cells such as `1 (5s ago)` hold single spaces, so cells are split at two or more.
pub fn rows(table: &str) -> Vec<Vec<String>> {
    table
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(String::from)
                .collect()
        })
        .collect()
}

/// The row whose first cell is `name` (or whose cells include it, for `-A`).
pub fn row<'a>(rows: &'a [Vec<String>], name: &str) -> Option<&'a Vec<String>> {
    rows.iter().find(|r| r.iter().any(|c| c == name))
}

/// A raw HTTPS request to the API: the CA from `kubeconfig`, `headers` as given (no token unless passed).
/// Returns the status line and the body.
pub async fn raw_request(
    api: &ApiServer,
    ca_pem: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> (String, String) {
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::{
        self, RootCertStore, pki_types::CertificateDer, pki_types::ServerName,
    };
    let mut roots = RootCertStore::empty();
    for c in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(api.address).await.unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await
        .unwrap();
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        api.address
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tls.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tls.read_to_end(&mut buf).await;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

/// The CA certificate in a kubeconfig.
pub fn kubeconfig_ca(kubeconfig: &Path) -> String {
    use base64::Engine as _;
    let v: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(kubeconfig).unwrap()).unwrap();
    let data = v["clusters"][0]["cluster"]["certificate-authority-data"]
        .as_str()
        .unwrap();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(data)
            .unwrap(),
    )
    .unwrap()
}

/// The token in a kubeconfig.
pub fn kubeconfig_token(kubeconfig: &Path) -> String {
    let v: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(kubeconfig).unwrap()).unwrap();
    v["users"][0]["user"]["token"].as_str().unwrap().to_string()
}
