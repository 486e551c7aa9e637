//! The master key end to end: `baton serve` makes one in a new data directory (0600),
//! customer data never reaches the disk in clear, `baton keys rotate-master` re-wraps
//! every data key so the data stays readable, and the old key is then refused. A key
//! from `--master-key-command` opens what a key file sealed (and rotates); a command
//! that fails or prints nothing stops the start before anything is written.

use std::ffi::OsStr;
use std::path::Path;

use serde_json::json;

use crate::helpers::{
    Server, cat, holds, run, run_with_env, start, start_with, start_with_env, workspace,
};

/// Posts one bot message to `cid`.
async fn post(server: &Server, cid: &str, text: &str) {
    let bot = server.key("bot").await;
    let response = server
        .client
        .post(server.url(&format!("/v1/conversations/{cid}/events")))
        .bearer_auth(&bot)
        .json(&json!({"events": [{"type": "bot_message", "text": text}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Asserts that a `keys rotate-master` run succeeded and re-wrapped the one data key.
fn rotated_one(rotated: &std::process::Output) {
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert_eq!(
        rotated.status.code(),
        Some(0),
        "{stdout} {}",
        String::from_utf8_lossy(&rotated.stderr)
    );
    assert!(stdout.contains("\"rewrapped\":1"), "{stdout}");
}

/// `baton serve` that is expected to refuse to start: its stderr.
async fn refused_start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> String {
    let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
    all.extend_from_slice(args);
    let output = run_with_env(&all, data, env).await;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "{stderr}");
    assert!(output.stdout.is_empty(), "never announced itself: {stderr}");
    stderr
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
    rotated_one(&rotated);
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

#[tokio::test]
async fn a_key_from_a_command_opens_what_the_key_file_sealed_and_rotates() {
    let (root, data) = workspace();
    let key_file = root.path().join("vault.key");
    std::fs::write(&key_file, format!("{}\n", "3c".repeat(32))).unwrap();
    let log = root.path().join("serve.log");
    let server = start_with(
        &data,
        &log,
        &[OsStr::new("--master-key-file"), key_file.as_os_str()],
    )
    .await;
    post(&server, "c-1", "marigold invoice question").await;
    server.kill9().await;
    assert!(
        !data.join("master.key").exists(),
        "a key was given: none is made"
    );
    assert!(!holds(&data, b"marigold"));

    let from_vault = cat(&key_file);
    let server = start_with_env(
        &data,
        &log,
        &[],
        &[("BATON_MASTER_KEY_COMMAND", &from_vault)],
    )
    .await;
    let events = server.events("c-1").await;
    assert_eq!(events[0]["text"], "marigold invoice question");
    server.kill9().await;

    let next = root.path().join("vault-v2.key");
    std::fs::write(&next, format!("{}\n", "5a".repeat(32))).unwrap();
    let next_command = cat(&next);
    let rotated = run(
        &[
            "keys",
            "rotate-master",
            "--master-key-command",
            &from_vault,
            "--new-key-command",
            &next_command,
        ],
        &data,
    )
    .await;
    rotated_one(&rotated);
    assert!(
        !data.join("master.key").exists(),
        "a key from a command is never written next to the data"
    );

    let server = start_with(
        &data,
        &log,
        &[
            OsStr::new("--master-key-command"),
            OsStr::new(&next_command),
        ],
    )
    .await;
    let events = server.events("c-1").await;
    assert_eq!(
        events[0]["text"], "marigold invoice question",
        "readable after the rotation"
    );
    server.kill9().await;
    let stderr = refused_start(&data, &["--master-key-command", &from_vault], &[]).await;
    assert!(
        stderr.contains("master key"),
        "the old key is refused: {stderr}"
    );
}

#[tokio::test]
async fn a_failing_or_silent_key_command_stops_the_start_and_writes_nothing() {
    let (root, data) = workspace();
    let cases = [
        (
            "echo 'vault: permission denied' >&2; exit 7",
            "failed with exit code 7: vault: permission denied",
        ),
        ("printf '\\n'", "printed nothing"),
        ("echo not-a-key", "printed no valid master key"),
    ];
    for (command, expected) in cases {
        let stderr = refused_start(&data, &[], &[("BATON_MASTER_KEY_COMMAND", command)]).await;
        assert!(
            stderr.contains("BATON_MASTER_KEY_COMMAND (--master-key-command)"),
            "{stderr}"
        );
        assert!(stderr.contains(expected), "{stderr}");
        assert!(
            !stderr.contains("not-a-key"),
            "stdout is never quoted: {stderr}"
        );
        assert!(
            !data.exists(),
            "nothing written, not even the data directory"
        );
    }

    // `baton import` takes its key the same way.
    let file = root.path().join("one.jsonl");
    std::fs::write(
        &file,
        r#"{"conversation": "k-1", "event": {"type": "customer_message", "text": "hello"}}"#,
    )
    .unwrap();
    let imported = run(
        &[
            "import",
            file.to_str().unwrap(),
            "--format",
            "jsonl",
            "--master-key-command",
            "exit 3",
        ],
        &data,
    )
    .await;
    let stderr = String::from_utf8_lossy(&imported.stderr);
    assert!(!imported.status.success());
    assert!(
        stderr.contains("--master-key-command) failed with exit code 3"),
        "{stderr}"
    );
    assert!(!data.exists(), "nothing imported");
}

#[tokio::test]
async fn a_key_file_and_a_key_command_together_are_refused() {
    let (root, data) = workspace();
    let key_file = root.path().join("k.key");
    std::fs::write(&key_file, "3c".repeat(32)).unwrap();
    let key_path = key_file.to_str().unwrap();
    let stderr = refused_start(
        &data,
        &[
            "--master-key-file",
            key_path,
            "--master-key-command",
            "true",
        ],
        &[],
    )
    .await;
    assert!(stderr.contains("cannot be used with"), "{stderr}");
    assert!(stderr.contains("--master-key-command"), "{stderr}");
    let stderr = refused_start(
        &data,
        &[],
        &[
            ("BATON_MASTER_KEY_FILE", key_path),
            ("BATON_MASTER_KEY_COMMAND", "true"),
        ],
    )
    .await;
    assert!(
        stderr.contains("cannot be used with"),
        "through the environment too: {stderr}"
    );
    assert!(!data.exists());
}
