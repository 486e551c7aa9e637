//! A webhook receiver on loopback: records every request (path, headers, body) and
//! answers with the status a test sets (200, 503 while "down", 307 to test that
//! redirects are not followed), after an optional delay; plus an independent check of
//! Standard Webhooks signatures (HMAC-SHA256 written out from its definition, RFC
//! 2104, on `sha2`), and the Python reference library when it is installed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// Its path.
    pub path: String,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: String,
}

impl Received {
    /// A header as text.
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no {name} header"))
            .to_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// `(conversation, seq)` of the delivered event.
    pub fn line(&self) -> (String, u64) {
        let body = self.json();
        (
            body["data"]["conversation"].as_str().unwrap().to_owned(),
            body["data"]["seq"].as_u64().unwrap(),
        )
    }
}

/// The receiver.
pub struct Receiver {
    /// `http://127.0.0.1:PORT/hook`.
    pub url: String,
    status: Arc<AtomicU16>,
    rx: mpsc::UnboundedReceiver<Received>,
}

/// Starts a receiver answering 200.
pub async fn start() -> Receiver {
    let (app, status, rx) = recording();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Receiver {
        url: format!("http://{addr}/hook"),
        status,
        rx,
    }
}

/// The certificate authority that signed [`start_https`]'s certificate (for
/// `localhost` and `127.0.0.1`, valid until 2126). Made with `openssl`: a P-256 CA,
/// and a leaf with `serverAuth` signed by it; the CA's key was thrown away.
pub const TEST_CA: &[u8] = include_bytes!("tls/ca.pem");

/// Starts a receiver answering 200 over TLS, with a certificate that only
/// [`TEST_CA`] vouches for.
pub async fn start_https() -> Receiver {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    let certs = CertificateDer::pem_slice_iter(include_bytes!("tls/receiver.pem"))
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(include_bytes!("tls/receiver.key")).unwrap();
    let tls = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let (app, status, rx) = recording();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
            });
        }
    });
    Receiver {
        url: format!("https://{addr}/hook"),
        status,
        rx,
    }
}

/// The app that records each request and answers with the status a test sets.
fn recording() -> (
    axum::Router,
    Arc<AtomicU16>,
    mpsc::UnboundedReceiver<Received>,
) {
    let status = Arc::new(AtomicU16::new(200));
    let (tx, rx) = mpsc::unbounded_channel();
    let answer = Arc::clone(&status);
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let (tx, answer) = (tx.clone(), Arc::clone(&answer));
        async move {
            let _ = tx.send(Received {
                path: uri.path().to_owned(),
                headers,
                body,
            });
            let code = StatusCode::from_u16(answer.load(Ordering::SeqCst)).unwrap();
            (code, [("location", "/elsewhere")], "").into_response()
        }
    });
    (app, status, rx)
}

impl Receiver {
    /// Answers every request with `status` from now on.
    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// The next request, or None after `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every request that arrives within `window` from now. A fixed window, not "until
    /// a silence": fast retries would keep a silence from ever coming.
    pub async fn during(&mut self, window: Duration) -> Vec<Received> {
        let end = tokio::time::Instant::now() + window;
        let mut got = Vec::new();
        while let Ok(Some(r)) = tokio::time::timeout_at(end, self.rx.recv()).await {
            got.push(r);
        }
        got
    }

    /// The next request (failing the test after [`crate::helpers::WAIT`]).
    pub async fn next(&mut self) -> Received {
        self.next_within(crate::helpers::WAIT)
            .await
            .expect("a delivery arrives")
    }
}

/// HMAC-SHA256 from its definition (RFC 2104), independent of the server's signer.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Whether one of the delivery's signatures is `secret`'s, per the specification:
/// `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body` with the base64-decoded
/// secret after `whsec_`.
pub fn signed_by(received: &Received, secret: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let signed = format!(
        "{}.{}.{}",
        received.header("webhook-id"),
        received.header("webhook-timestamp"),
        received.body
    );
    let expected = format!("v1,{}", b64.encode(hmac_sha256(&key, signed.as_bytes())));
    received
        .header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

const PYTHON_CHECK: &str = r#"
import sys
from standardwebhooks.webhooks import Webhook
secret, msg_id, timestamp, signature, path = sys.argv[1:]
body = open(path, "rb").read()
Webhook(secret).verify(body, {"webhook-id": msg_id, "webhook-timestamp": timestamp, "webhook-signature": signature})
print("verified")
"#;

/// Verifies the delivery with the Python reference implementation (`pip install
/// standardwebhooks`). Without it the check is skipped, except under CI, where it
/// must be there (.ci/run installs it).
pub fn python_verifies(received: &Received, secret: &str) -> Option<bool> {
    let importable = std::process::Command::new("python3")
        .args(["-c", "import standardwebhooks"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must have python3 with standardwebhooks (pip install standardwebhooks)"
        );
        eprintln!("python3 standardwebhooks not installed; skipping the Python check");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("body.json");
    std::fs::write(&path, &received.body).unwrap();
    let output = std::process::Command::new("python3")
        .args(["-c", PYTHON_CHECK, secret])
        .arg(received.header("webhook-id"))
        .arg(received.header("webhook-timestamp"))
        .arg(received.header("webhook-signature"))
        .arg(&path)
        .output()
        .unwrap();
    Some(output.status.success() && String::from_utf8_lossy(&output.stdout).contains("verified"))
}
