//! `BATON_ADMIN_KEY` must be at least 32 characters: a shorter one stops `baton serve`
//! before it listens, with a message that says what to do.

use crate::helpers::{run_with_env, workspace};

#[tokio::test]
async fn a_short_admin_key_is_refused_at_start_up() {
    let (_root, data) = workspace();
    let output = run_with_env(
        &["serve", "--listen", "127.0.0.1:0"],
        &data,
        &[("BATON_ADMIN_KEY", "dev-admin-key")],
    )
    .await;
    assert!(!output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("listening on"), "never listens: {stdout}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("BATON_ADMIN_KEY is 13 characters") && stderr.contains("at least 32"),
        "{stderr}"
    );
}
