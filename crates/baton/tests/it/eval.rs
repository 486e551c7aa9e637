//! `baton eval` from a fresh clone: the default data is built in, so the evaluations
//! give figures from any working directory.

use std::process::Stdio;

use serde_json::Value;

use crate::helpers::{WAIT, baton};

async fn eval(args: &[&str]) -> Value {
    let elsewhere = tempfile::tempdir().unwrap();
    let output = baton()
        .arg("eval")
        .args(args)
        .current_dir(elsewhere.path())
        .stdin(Stdio::null())
        .output();
    let output = tokio::time::timeout(WAIT, output).await.unwrap().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "baton eval {args:?}: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

#[tokio::test]
async fn eval_requests_and_decisions_run_from_any_directory() {
    let requests = eval(&["requests"]).await;
    let text = requests.to_string();
    assert!(text.contains("recall"), "{requests:#}");
    let decisions = eval(&["decisions"]).await;
    assert!(decisions.to_string().contains("recall"), "{decisions:#}");
}

#[tokio::test]
async fn eval_facts_runs_from_any_directory() {
    let facts = eval(&["facts", "--limit", "40"]).await;
    assert_eq!(facts["rows"], 40, "{facts:#}");
    assert!(
        facts["by_type"].as_object().is_some_and(|m| !m.is_empty()),
        "{facts:#}"
    );
}
