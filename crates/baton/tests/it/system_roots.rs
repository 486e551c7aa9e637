//! A machine without CA certificates (a minimal container image) still runs `baton
//! serve`: the webhook client then trusts only `BATON_WEBHOOK_CA_FILE`, and says so.

use crate::helpers::{start_with_env, workspace};

#[tokio::test]
async fn a_system_without_ca_certificates_still_serves_and_warns() {
    let (root, data) = workspace();
    let empty_file = root.path().join("no-certs.pem");
    std::fs::write(&empty_file, b"").unwrap();
    let empty_dir = root.path().join("no-certs.d");
    std::fs::create_dir(&empty_dir).unwrap();
    let log = root.path().join("serve.log");
    let server = start_with_env(
        &data,
        &log,
        &[],
        &[
            ("SSL_CERT_FILE", empty_file.to_str().unwrap()),
            ("SSL_CERT_DIR", empty_dir.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(server.get("/healthz").await["status"], "ok");
    server.kill9().await;
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(
        logged.contains("no usable CA certificates"),
        "the operator is told: {logged}"
    );
}

#[tokio::test]
async fn an_unreadable_or_empty_ca_file_stops_serve_with_a_clear_message() {
    let (root, data) = workspace();
    let empty = root.path().join("empty.pem");
    std::fs::write(&empty, b"").unwrap();
    for (path, says) in [
        (root.path().join("missing.pem"), "cannot read"),
        (empty, "holds no certificate"),
    ] {
        let output = crate::helpers::baton()
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .env("BATON_WEBHOOK_CA_FILE", &path)
            .output()
            .await
            .unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("BATON_WEBHOOK_CA_FILE") && stderr.contains(says),
            "{stderr}"
        );
    }
}
