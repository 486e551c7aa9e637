//! `baton demo`: serving, it prints the console URL and keys that work; with `--exit`
//! it prints nothing to try against the server that is gone.

use std::process::Stdio;

use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::helpers::{WAIT, baton, run, workspace};

/// The word after `label` on the line that holds it.
fn after<'a>(lines: &'a [String], label: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.split_once(label).map(|(_, rest)| rest.trim()))
        .unwrap_or_else(|| panic!("no line with {label:?} in {lines:#?}"))
}

#[tokio::test]
async fn demo_prints_the_console_and_keys_that_sign_in_an_agent_and_a_supervisor() {
    let (_root, data) = workspace();
    let mut child = baton()
        .args(["demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut lines = Vec::new();
    while !lines
        .last()
        .is_some_and(|l: &String| l.starts_with("Serving until"))
    {
        let line = tokio::time::timeout(WAIT, stdout.next_line())
            .await
            .expect("the demo finishes its replay")
            .unwrap()
            .unwrap_or_else(|| panic!("stdout ended early: {lines:#?}"));
        lines.push(line);
    }
    let base = lines[0].strip_prefix("listening on ").unwrap().to_owned();
    assert_eq!(after(&lines, "Open the console:"), format!("{base}/"));
    let agent = after(&lines, "sign in as agent ana:").to_owned();
    let supervisor = after(&lines, "sign in as a supervisor:").to_owned();
    assert!(!after(&lines, "export BATON_KEY=").is_empty());

    let client = baton_server::http_client::builder()
        .timeout(WAIT)
        .build()
        .unwrap();
    let console = client.get(format!("{base}/")).send().await.unwrap();
    assert_eq!(console.status(), StatusCode::OK);
    // Each key is what its line says: ana's agent key, a supervisor's.
    let offers = client
        .get(format!("{base}/v1/agents/ana/offers"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert_eq!(
        offers.status(),
        StatusCode::OK,
        "ana's key reads her offers"
    );
    let other = client
        .get(format!("{base}/v1/agents/bo/offers"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert!(
        other.status().is_client_error(),
        "an agent key, not a wider one"
    );
    let agents = |key: String| {
        client
            .get(format!("{base}/v1/agents"))
            .bearer_auth(key)
            .send()
    };
    let listing = agents(supervisor.clone()).await.unwrap();
    assert_eq!(
        listing.status(),
        StatusCode::OK,
        "a supervisor lists the agents"
    );
    let listing = agents(agent.clone()).await.unwrap();
    assert_eq!(listing.status(), StatusCode::FORBIDDEN, "an agent does not");
    let mint = client
        .post(format!("{base}/v1/keys"))
        .bearer_auth(&supervisor)
        .json(&serde_json::json!({"role": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        mint.status(),
        StatusCode::FORBIDDEN,
        "a supervisor, not an admin"
    );
    child.start_kill().unwrap();
}

#[tokio::test]
async fn demo_exit_prints_nothing_to_try_against_a_stopped_server() {
    let (_root, data) = workspace();
    let output = run(&["demo", "--listen", "127.0.0.1:0", "--exit"], &data).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains("ledger verify:"),
        "the summary is printed: {stdout}"
    );
    for gone in ["Try", "curl", "BATON_KEY", "sign in", "console", "Serving"] {
        assert!(!stdout.contains(gone), "{gone:?} in {stdout}");
    }
}
