//! `baton train` and `baton export training` on a store filled through the HTTP API of
//! a real `baton serve`: labelled conversations from resolutions with `true_intent` and
//! from read-backs carried by an accept, their figures counted by hand.
//!
//! The fixture, in the order it is labelled (which is the order `train` splits by):
//! - `fit-0` .. `fit-15`: the customer asks for a refund, the bot reads `billing.refund`
//!   at 0.9; the admin resolves the even ones as `billing.refund` (right), the odd
//!   ones as `billing.dispute` (wrong).
//! - `rb-0` .. `rb-3`: the same reading, then the customer asks for a human; agent ana
//!   accepts the offer with a read-back: `rb-0` and `rb-1` confirmed, `rb-2` and `rb-3`
//!   corrected to `account.locked`.
//!
//! So `train` (20 % held out) fits on the 16 `fit-*` cases, where 0.9 meant right half
//! the time, and tests on the 4 read-backs, right half the time too: the raw
//! confidence's expected calibration error there is |0.5 - 0.9| = 0.4; the fitted map
//! reads 0.9 as 0.5, an error of 0.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_KEY, Server, WAIT, baton, run, start, workspace};

const FIT: usize = 16;
const READ_BACKS: usize = 4;
/// One distinct word per conversation: the utterances carry no digits, which the
/// export's masking could take for personal data.
const WORDS: [&str; FIT + READ_BACKS] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
    "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
];

fn utterance(i: usize) -> String {
    format!("I want my money back for the {} order", WORDS[i])
}

async fn post(server: &Server, path: &str, key: &str, body: Value) -> Value {
    server.call_ok(reqwest::Method::POST, path, key, body).await
}

/// The bot's reading of the customer's refund request.
async fn refund_request(server: &Server, bot: &str, cid: &str, i: usize) {
    post(
        server,
        &format!("/v1/conversations/{cid}/events"),
        bot,
        json!({"events": [
            {"type": "customer_message", "text": utterance(i)},
            {"type": "nlu", "intent": "billing.refund", "confidence": 0.9},
        ]}),
    )
    .await;
}

/// Fills a store with the fixture of this file's header; its (text, bot intent, human
/// intent) rows as `export training` must give them.
async fn labelled_store(server: &Server) -> Vec<(String, String, String)> {
    let bot = server.key("bot").await;
    let mut expected = Vec::new();
    for i in 0..FIT {
        let cid = format!("fit-{i}");
        refund_request(server, &bot, &cid, i).await;
        let truth = if i % 2 == 0 {
            "billing.refund"
        } else {
            "billing.dispute"
        };
        resolve(server, &cid, truth).await;
        expected.push((utterance(i), "billing.refund".to_owned(), truth.to_owned()));
    }
    // Every fit-* conversation is closed now, so the agent is offered only these.
    server
        .call_ok(
            reqwest::Method::PUT,
            "/v1/agents/ana",
            ADMIN_KEY,
            json!({"skills": {"billing": 3, "general": 3}, "capacity": 10}),
        )
        .await;
    let ana = post(
        server,
        "/v1/keys",
        ADMIN_KEY,
        json!({"role": "agent", "agent_id": "ana"}),
    )
    .await["key"]
        .as_str()
        .unwrap()
        .to_owned();
    post(
        server,
        "/v1/agents/ana/presence",
        &ana,
        json!({"status": "available"}),
    )
    .await;
    for r in 0..READ_BACKS {
        let i = FIT + r;
        let cid = format!("rb-{r}");
        refund_request(server, &bot, &cid, i).await;
        post(
            server,
            &format!("/v1/conversations/{cid}/events"),
            &bot,
            json!({"events": [{"type": "customer_message", "text": "Let me talk to a human agent please"}]}),
        )
        .await;
        let offer = offer_for(server, &ana, &cid).await;
        let (intent, truth) = if r < 2 {
            (json!("confirmed"), "billing.refund")
        } else {
            (json!({"corrected": "account.locked"}), "account.locked")
        };
        post(
            server,
            &format!("/v1/offers/{offer}/accept"),
            &ana,
            json!({"read_back": {"intent": intent}}),
        )
        .await;
        expected.push((utterance(i), "billing.refund".to_owned(), truth.to_owned()));
    }
    let read_backs = server.events("rb-3").await;
    let read_back = read_backs
        .iter()
        .find(|e| e["type"] == "read_back")
        .expect("the accept wrote its read-back");
    assert_eq!(read_back["bot_intent"], "billing.refund", "{read_back}");
    expected
}

/// Waits for the offer of `cid` to ana; its id.
async fn offer_for(server: &Server, ana: &str, cid: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let offers = server
            .client
            .get(server.url("/v1/agents/ana/offers"))
            .bearer_auth(ana)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        if let Some(offer) = offers["offers"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["conversation"] == cid)
        {
            return offer["offer_id"].as_str().unwrap().to_owned();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no offer of {cid} to ana: {offers}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn train_reports_held_out_figures_and_writes_a_policy_that_checks() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    labelled_store(&server).await;
    server.kill9().await;

    let policy = root.path().join("trained.toml");
    let policy_arg = policy.to_str().unwrap();
    let trained = run(&["train", "--out", policy_arg], &data).await;
    assert_eq!(trained.status.code(), Some(0), "{}", stderr(&trained));
    let whole: Value = serde_json::from_str(&stdout(&trained))
        .unwrap_or_else(|e| panic!("the report is JSON ({e}): {}", stdout(&trained)));
    // The report has a part per thing fitted; this test's data labels intents.
    let report = &whole["calibration"];
    assert_eq!(report["cases"], (FIT + READ_BACKS) as u64, "{whole}");
    let held_out = &report["held_out"];
    assert_eq!(held_out["fit_cases"], FIT as u64, "{report}");
    assert_eq!(held_out["test_cases"], READ_BACKS as u64, "{report}");
    assert_eq!(held_out["before"]["count"], READ_BACKS as u64, "{report}");
    assert_eq!(held_out["after"]["count"], READ_BACKS as u64, "{report}");
    let before = held_out["before"]["ece"].as_f64().unwrap();
    let after = held_out["after"]["ece"].as_f64().unwrap();
    assert!(
        (before - 0.4).abs() < 1e-9,
        "raw 0.9, right half the time: {report}"
    );
    assert!(after.abs() < 1e-9, "0.9 read as 0.5: {report}");
    assert!(
        report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "confidence.calibration: raw -> learned"),
        "{report}"
    );

    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("calibration = \"learned\""), "{text}");
    let checked = baton()
        .args(["policy", "check", policy_arg])
        .stdin(Stdio::null())
        .output();
    let checked = tokio::time::timeout(WAIT, checked).await.unwrap().unwrap();
    assert_eq!(
        checked.status.code(),
        Some(0),
        "{}{}",
        stdout(&checked),
        stderr(&checked)
    );

    // A serve loads it: the policy is one a server accepts, not just one that parses.
    let server = crate::helpers::start_with(
        &data,
        &root.path().join("serve2.log"),
        &["--policy".as_ref(), policy.as_os_str()],
    )
    .await;
    let state = server.get("/v1/conversations/rb-0").await;
    assert_eq!(state["owner"], "agent", "{state}");
    server.kill9().await;
}

#[tokio::test]
async fn train_refuses_a_store_with_too_little_labelled_data() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let bot = server.key("bot").await;
    refund_request(&server, &bot, "lonely", 0).await;
    server.kill9().await;
    let trained = run(&["train"], &data).await;
    assert_eq!(trained.status.code(), Some(1), "{}", stdout(&trained));
    assert!(
        stderr(&trained)
            .contains("too little data: 0 conversations with a read-back or a true_intent"),
        "{}",
        stderr(&trained)
    );
}

#[tokio::test]
async fn export_training_gives_each_utterance_with_the_bot_and_human_intent() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let mut expected = labelled_store(&server).await;
    server.kill9().await;
    expected.sort();

    let jsonl = run(&["export", "training", "--format", "jsonl"], &data).await;
    assert_eq!(jsonl.status.code(), Some(0), "{}", stderr(&jsonl));
    let mut rows: Vec<(String, String, String)> = stdout(&jsonl)
        .lines()
        .map(|line| {
            let row: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("a JSON line ({e}): {line}"));
            assert!(row["seq"].as_u64().is_some_and(|s| s >= 1), "{row}");
            assert!(row["conversation"].is_string(), "{row}");
            (
                row["text"].as_str().unwrap().to_owned(),
                row["bot_intent"].as_str().unwrap().to_owned(),
                row["human_intent"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    assert_eq!(rows, expected);
    assert!(
        stderr(&jsonl).contains("20 examples from 20 labelled conversations"),
        "{}",
        stderr(&jsonl)
    );

    let rasa = run(&["export", "training", "--format", "rasa"], &data).await;
    assert_eq!(rasa.status.code(), Some(0), "{}", stderr(&rasa));
    let yaml = stdout(&rasa);
    let docs = yaml_rust2::YamlLoader::load_from_str(&yaml)
        .unwrap_or_else(|e| panic!("Rasa NLU YAML ({e}):\n{yaml}"));
    let doc = &docs[0];
    assert_eq!(doc["version"].as_str(), Some("3.1"), "{yaml}");
    let mut got: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for block in doc["nlu"].as_vec().expect("an nlu list") {
        let intent = block["intent"].as_str().expect("an intent").to_owned();
        // Rasa's examples: a block string of `- utterance` lines.
        let examples: Vec<String> = block["examples"]
            .as_str()
            .expect("examples as a block string")
            .lines()
            .map(|line| {
                line.strip_prefix("- ")
                    .unwrap_or_else(|| panic!("an example line: {line:?}"))
                    .to_owned()
            })
            .collect();
        assert!(
            got.insert(intent.clone(), examples).is_none(),
            "{intent} twice"
        );
    }
    let mut want: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (text, _, human) in &expected {
        want.entry(human.clone()).or_default().push(text.clone());
    }
    for examples in got.values_mut().chain(want.values_mut()) {
        examples.sort();
    }
    assert_eq!(got, want, "{yaml}");
    assert_eq!(
        got.keys().map(String::as_str).collect::<Vec<_>>(),
        ["account.locked", "billing.dispute", "billing.refund"]
    );
    assert_eq!(got["billing.refund"].len(), 10);
}

/// Conversations labelled before the cut-off.
const OLD: usize = 6;
/// Conversations begun and labelled after it.
const NEW: usize = 9;

/// Resolves `cid` as `truth` (admin); the `at` of the `resolved` event.
async fn resolve(server: &Server, cid: &str, truth: &str) -> String {
    post(
        server,
        &format!("/v1/conversations/{cid}/resolve"),
        ADMIN_KEY,
        json!({"resolution": "answered", "true_intent": truth}),
    )
    .await;
    let events = server.events(cid).await;
    let resolved = events
        .iter()
        .find(|e| e["type"] == "resolved")
        .expect("the resolution is in the log");
    resolved["at"].as_str().unwrap().to_owned()
}

/// A store with `OLD` conversations labelled before a cut-off, one (`span`) whose
/// request comes before it and whose label after, and `NEW` wholly after; the cut-off
/// (the `at` of `span`'s resolution, so `--since` includes it exactly) and the ids
/// `--since` must keep.
async fn store_across_a_cut_off(server: &Server) -> (String, Vec<String>) {
    let bot = server.key("bot").await;
    let truth = |i: usize| {
        if i.is_multiple_of(2) {
            "billing.refund"
        } else {
            "billing.dispute"
        }
    };
    refund_request(server, &bot, "span", 0).await;
    for i in 0..OLD {
        let cid = format!("old-{i}");
        refund_request(server, &bot, &cid, 1 + i).await;
        resolve(server, &cid, truth(i)).await;
    }
    // Timestamps have millisecond precision: the cut-off falls strictly after the last
    // old label.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let cut_off = resolve(server, "span", truth(0)).await;
    let mut kept = vec!["span".to_owned()];
    for i in 0..NEW {
        let cid = format!("new-{i}");
        refund_request(server, &bot, &cid, 1 + OLD + i).await;
        resolve(server, &cid, truth(i)).await;
        kept.push(cid);
    }
    kept.sort();
    (cut_off, kept)
}

#[tokio::test]
async fn since_keeps_the_conversations_labelled_from_the_cut_off_on() {
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    let (cut_off, kept) = store_across_a_cut_off(&server).await;
    server.kill9().await;
    let all = OLD + 1 + NEW;

    // Without --since every labelled conversation counts; with it, the old ones drop
    // out, and `span` stays whole: its reading and utterance predate the cut-off.
    let cases = |output: &std::process::Output| {
        assert_eq!(output.status.code(), Some(0), "{}", stderr(output));
        let report: Value = serde_json::from_str(&stdout(output))
            .unwrap_or_else(|e| panic!("the report is JSON ({e}): {}", stdout(output)));
        report["calibration"]["cases"].as_u64()
    };
    let trained = run(&["train"], &data).await;
    assert_eq!(cases(&trained), Some(all as u64), "{}", stdout(&trained));
    let trained = run(&["train", "--since", &cut_off], &data).await;
    assert_eq!(
        cases(&trained),
        Some((1 + NEW) as u64),
        "{}",
        stdout(&trained)
    );

    let exported = run(&["export", "training"], &data).await;
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    assert!(
        stderr(&exported).contains(&format!("{all} examples from {all} labelled conversations")),
        "{}",
        stderr(&exported)
    );
    let exported = run(&["export", "training", "--since", &cut_off], &data).await;
    assert_eq!(exported.status.code(), Some(0), "{}", stderr(&exported));
    let n = 1 + NEW;
    assert!(
        stderr(&exported).contains(&format!("{n} examples from {n} labelled conversations")),
        "{}",
        stderr(&exported)
    );
    let mut conversations: Vec<String> = stdout(&exported)
        .lines()
        .map(|line| {
            let row: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("a JSON line ({e}): {line}"));
            row["conversation"].as_str().unwrap().to_owned()
        })
        .collect();
    conversations.sort();
    assert_eq!(conversations, kept);

    let refused = run(&["train", "--since", "last tuesday"], &data).await;
    assert_eq!(refused.status.code(), Some(1), "{}", stdout(&refused));
    assert!(
        stderr(&refused).contains("--since must be an RFC 3339 time"),
        "{}",
        stderr(&refused)
    );
}
