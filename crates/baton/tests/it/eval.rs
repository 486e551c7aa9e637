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

#[tokio::test]
async fn eval_reports_dev_and_test_apart_and_counts_false_handoffs() {
    let requests = eval(&["requests"]).await;
    let (dev, test) = (&requests["dev"], &requests["test"]);
    let rows = |r: &Value| r["positives"].as_u64().unwrap() + r["negatives"].as_u64().unwrap();
    assert_eq!(
        rows(dev) + rows(test),
        3_153,
        "every Bitext row on one side"
    );
    assert!(rows(test) > 800 && rows(dev) > 2_000, "{requests:#}");
    assert!(requests["caveat"].is_string());

    let handoffs = eval(&["handoffs"]).await;
    let banking = &handoffs["banking77"];
    let total =
        banking["dev"]["rows"].as_u64().unwrap() + banking["test"]["rows"].as_u64().unwrap();
    assert_eq!(total, 3_080, "{banking:#}");
    let oos = &handoffs["clinc150"]["oos"];
    let total = oos["dev"]["rows"].as_u64().unwrap() + oos["test"]["rows"].as_u64().unwrap();
    assert_eq!(total, 1_000, "{oos:#}");
    for side in [
        &banking["test"],
        &handoffs["clinc150"]["in_scope"]["test"],
        &oos["test"],
    ] {
        let rate = side["false_handoff_rate"].as_f64().unwrap();
        assert!(rate <= 0.01, "no row asks for a human: {side:#}");
    }
}
