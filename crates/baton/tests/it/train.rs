//! `baton train` fits the failure model's weights from resolved conversations whose
//! outcome the fixture fixes: where the bot keeps not understanding, the bot hands off
//! (failed); where it understands, it resolves with a good CSAT. The fit must find
//! that and predict the newer (held-out) conversations better than the defaults, and
//! the policy it writes must pass `baton policy check`.

use baton_core::policy::Policy;
use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, Server, run, start, workspace};

async fn post(server: &Server, key: &str, path: &str, body: Value) {
    server.call_ok(reqwest::Method::POST, path, key, body).await;
}

/// Two customer turns; `understood` decides the bot's confidence, and the outcome.
async fn conversation(server: &Server, bot: &str, cid: &str, understood: bool) {
    let events = format!("/v1/conversations/{cid}/events");
    let confidence = if understood { 0.92 } else { 0.3 };
    for text in [
        "I need the statement for my account",
        "the one from last month",
    ] {
        let batch = json!({"events": [
            {"type": "customer_message", "text": text},
            {"type": "nlu", "intent": "account_statement", "confidence": confidence},
        ]});
        post(server, bot, &events, batch).await;
    }
    if understood {
        let reply = json!({"events": [{"type": "bot_message", "text": "Here is your statement."}]});
        post(server, bot, &events, reply).await;
        let resolved = json!({"resolution": "statement sent", "csat": 5});
        post(
            server,
            bot,
            &format!("/v1/conversations/{cid}/resolve"),
            resolved,
        )
        .await;
    } else {
        let ask = json!({"events": [{"type": "handoff_requested", "reason": "cannot find it"}]});
        post(server, bot, &events, ask).await;
        let resolved = json!({"resolution": "sent by an agent"});
        post(
            server,
            ADMIN_KEY,
            &format!("/v1/conversations/{cid}/resolve"),
            resolved,
        )
        .await;
    }
}

#[tokio::test]
async fn train_fits_the_failure_weights_and_writes_a_policy_that_checks() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let bot = server.key("bot").await;
    for i in 0..40 {
        conversation(&server, &bot, &format!("t{i:02}"), i % 2 == 0).await;
    }
    server.kill9().await;

    let out = root.path().join("trained.toml");
    let output = run(&["train", "--out", out.to_str().unwrap()], &data).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let failure = &report["failure"];
    assert_eq!(failure["cases"], 40, "{failure:#}");
    assert_eq!(
        (
            failure["fit_cases"].as_u64(),
            failure["test_cases"].as_u64()
        ),
        (Some(32), Some(8))
    );
    let (before, after) = (&failure["before"], &failure["after"]);
    eprintln!(
        "held out before {before}\nafter {after}\nweights {}",
        failure["weights"]
    );
    assert!(
        after["log_loss"].as_f64() < before["log_loss"].as_f64(),
        "held out: {before} -> {after}"
    );
    assert!(
        after["brier"].as_f64() < before["brier"].as_f64(),
        "{before} -> {after}"
    );
    let weight = failure["weights"]["weight_low_confidence"]
        .as_f64()
        .unwrap();
    assert!(
        weight > Policy::default().failure.weight_low_confidence,
        "not understanding predicts failure more than the default says: {weight}"
    );
    assert!(
        report["calibration"]["skipped"].is_string(),
        "no true intents in the fixture: {report:#}"
    );

    let written = std::fs::read_to_string(&out).unwrap();
    let policy = Policy::from_toml_str(&written).unwrap();
    assert_eq!(policy.failure.weight_low_confidence, weight);
    let check = crate::helpers::baton()
        .args(["policy", "check", out.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}
