//! The master key end to end: `baton serve` makes one in a new data directory (0600),
//! customer data never reaches the disk in clear, `baton keys rotate-master` re-wraps
//! every data key so the data stays readable, and the old key is then refused.

use serde_json::json;

use crate::helpers::{run, start, workspace};

fn holds(dir: &std::path::Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|entry| {
        std::fs::read(entry.path())
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

#[tokio::test]
async fn the_default_key_is_made_rotated_and_the_old_one_refused() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let key_file = data.join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the key file is the owner's only");
    }
    let bot = server.key("bot").await;
    let response = server
        .client
        .post(server.url("/v1/conversations/r-1/events"))
        .bearer_auth(&bot)
        .json(&json!({"events": [{"type": "bot_message", "text": "orchid delivery note"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    server.kill9().await;
    assert!(!holds(&data, b"orchid"), "no plaintext under the data dir");

    let old = root.path().join("old.key");
    std::fs::copy(&key_file, &old).unwrap();
    let new = root.path().join("new.key");
    std::fs::write(&new, format!("{}\n", "5a".repeat(32))).unwrap();
    let rotated = run(
        &[
            "keys",
            "rotate-master",
            "--new-key-file",
            new.to_str().unwrap(),
        ],
        &data,
    )
    .await;
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert_eq!(
        rotated.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(stdout.contains("\"rewrapped\":1"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&key_file).unwrap(),
        std::fs::read_to_string(&new).unwrap(),
        "the embedded default now reads the new key"
    );

    let server = start(&data, &root.path().join("serve2.log")).await;
    let events = server.events("r-1").await;
    assert_eq!(
        events[0]["text"], "orchid delivery note",
        "readable after the rotation"
    );
    server.kill9().await;

    let refused = run(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--master-key-file",
            old.to_str().unwrap(),
        ],
        &data,
    )
    .await;
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("master key"), "{stderr}");
    assert!(refused.stdout.is_empty(), "never announced itself");

    let verified = run(&["ledger", "verify"], &data).await;
    assert_eq!(verified.status.code(), Some(0), "verify needs no key");
}
