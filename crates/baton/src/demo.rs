//! `baton demo`: an embedded server with sample data, so a newcomer sees the loop.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use baton_store::Store;
use baton_store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::cli::DemoArgs;

/// A sample conversation: (conversation id, batches of events).
fn samples() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "demo-refund-88231",
            vec![
                json!({"events": [{"type": "customer_message", "text": "Hi, I was charged twice for order 88231."}]}),
                json!({"events": [
                    {"type": "nlu", "intent": "billing.double_charge", "confidence": 0.62,
                     "alternatives": [{"intent": "billing.refund", "confidence": 0.21}],
                     "entities": [{"kind": "order_id", "value": "88231"}]},
                    {"type": "identity_verified", "customer_id": "cust-1042", "method": "otp"},
                    {"type": "action", "name": "refund.lookup", "status": "done", "detail": "two captures of 59.90 EUR on 2026-11-20"},
                    {"type": "bot_message", "text": "I can see two charges of 59.90 EUR for order 88231. Let me start a refund for the duplicate."},
                    {"type": "action", "name": "refund.issue", "status": "failed", "detail": "refund API timed out"},
                    {"type": "commitment", "text": "The duplicate charge will be refunded within 5 business days.", "due": "2026-11-30T17:00:00Z"}
                ]}),
                json!({"events": [{"type": "customer_message", "text": "This is the third time I'm writing about this. I want to talk to a human now!"}]}),
                json!({"events": [{"type": "bot_message", "text": "I understand. I'm connecting you with a billing specialist who can see everything we discussed."}]}),
            ],
        ),
        (
            "demo-password-reset",
            vec![
                json!({"events": [{"type": "customer_message", "text": "How do I reset my password?"}]}),
                json!({"events": [
                    {"type": "nlu", "intent": "account.password_reset", "confidence": 0.97},
                    {"type": "document_retrieved", "doc_id": "kb-112", "title": "Resetting your password", "uri": "https://help.example.com/kb/112", "score": 0.91},
                    {"type": "bot_message", "text": "Go to Settings > Security > Reset password; you'll get an email with a link."}
                ]}),
                json!({"events": [{"type": "customer_message", "text": "Great, that worked. Thanks!"}]}),
            ],
        ),
    ]
}

/// `baton demo`.
pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging();
    let (_temp, dir) = match &args.data_dir {
        Some(dir) => (None, dir.clone()),
        None => {
            let temp = tempfile::tempdir().context("cannot create a temporary directory")?;
            let path = temp.path().to_path_buf();
            (Some(temp), path)
        }
    };
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir)?);
    let (state, _) =
        crate::serve::build_state(Arc::clone(&store), baton_core::policy::Policy::default())
            .await?;
    let admin = baton_server::auth::issue_key(
        store.as_ref(),
        baton_store::Role::Admin,
        None,
        baton_server::clock::Clock::System.now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let bot = baton_server::auth::issue_key(
        store.as_ref(),
        baton_store::Role::Bot,
        None,
        baton_server::clock::Clock::System.now(),
    )
    .await
    .map_err(|e| anyhow::anyhow!(e.message))?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    crate::serve::announce(addr, &baton_server::AdminBootstrap::Existing);
    let serving = state.clone();
    let server = tokio::spawn(async move {
        baton_server::serve(listener, serving, crate::serve::shutdown_signal()).await
    });

    let client = baton_server::http_client::builder().build()?;
    let call = |method: reqwest::Method, path: String, key: String, body: Option<Value>| {
        let client = client.clone();
        let url = format!("{base}{path}");
        async move {
            let mut request = client.request(method, url).bearer_auth(key);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await?;
            let status = response.status();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            anyhow::ensure!(status.is_success(), "{status}: {body}");
            Ok::<Value, anyhow::Error>(body)
        }
    };
    use reqwest::Method;

    println!("\n== an agent signs in: skills billing (5) and general (3), capacity 2");
    let agent: Value = call(
        Method::POST,
        "/v1/keys".into(),
        admin.clone(),
        Some(json!({"role": "agent", "agent_id": "ana"})),
    )
    .await?;
    let agent_key = agent["key"].as_str().unwrap_or_default().to_owned();
    call(
        Method::PUT,
        "/v1/agents/ana".into(),
        admin.clone(),
        Some(json!({"skills": {"billing": 5, "general": 3}, "capacity": 2})),
    )
    .await?;
    call(
        Method::POST,
        "/v1/agents/ana/presence".into(),
        agent_key.clone(),
        Some(json!({"status": "available"})),
    )
    .await?;

    for (cid, batches) in samples() {
        println!("\n== {cid}");
        for batch in batches {
            let body = call(
                Method::POST,
                format!("/v1/conversations/{cid}/events"),
                bot.clone(),
                Some(batch.clone()),
            )
            .await?;
            let kinds: Vec<&str> = batch["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["type"].as_str())
                .collect();
            println!(
                "  bot posts {} -> seq {} owner {}",
                kinds.join(", "),
                body["seq"],
                body["owner"]
            );
            if let Some(decision) = body.get("decision") {
                let reasons: Vec<&str> = decision["reasons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["code"].as_str())
                    .collect();
                println!(
                    "     decision: {} {}",
                    decision["outcome"],
                    reasons.join(", ")
                );
            }
        }
    }

    println!("\n== the handoff reaches ana as an offer");
    let mut offer = Value::Null;
    for _ in 0..50 {
        let offers = call(
            Method::GET,
            "/v1/agents/ana/offers".into(),
            agent_key.clone(),
            None,
        )
        .await?;
        if let Some(first) = offers["offers"].as_array().and_then(|o| o.first()) {
            offer = first.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::ensure!(!offer.is_null(), "no offer reached the agent");
    println!(
        "  offer {} ({} priority): {}",
        offer["offer_id"], offer["priority"], offer["situation"]
    );
    let oid = offer["offer_id"].as_str().unwrap_or_default().to_owned();
    let cid = offer["conversation"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let accepted = call(
        Method::POST,
        format!("/v1/offers/{oid}/accept"),
        agent_key.clone(),
        None,
    )
    .await?;
    println!("  ana accepts -> owner {}", accepted["owner"]);
    let package = call(
        Method::GET,
        format!("/v1/conversations/{cid}/package"),
        agent_key.clone(),
        None,
    )
    .await?;
    println!("  package: {}", package["recommendation"]["opening_line"]);
    let reply = call(Method::POST, format!("/v1/conversations/{cid}/events"), agent_key.clone(),
        Some(json!({"events": [{"type": "agent_message", "text": "Hi, I'm Ana from billing. I can see order 88231 was charged twice; I'm issuing the refund for the duplicate now."}]}))).await?;
    println!("  ana replies -> seq {}", reply["seq"]);
    let back = call(Method::POST, format!("/v1/conversations/{cid}/bounce-back"), agent_key.clone(),
        Some(json!({"instructions": "Refund issued (ref R-5531). Confirm the 5-day timeline and close if the customer is happy."}))).await?;
    println!("  ana bounces back to the bot -> owner {}", back["owner"]);
    let done = call(Method::POST, format!("/v1/conversations/{cid}/resolve"), bot.clone(),
        Some(json!({"resolution": "Duplicate charge refunded", "true_intent": "billing.double_charge", "csat": 5}))).await?;
    println!("  the bot resolves -> owner {}", done["owner"]);

    let verify: Value = client
        .get(format!("{base}/v1/ledger/verify"))
        .bearer_auth(&admin)
        .send()
        .await?
        .json()
        .await?;
    println!("\nledger verify: {}", verify);
    if args.exit {
        // The server stops with this process: no URL or key would work any more.
        println!("\nThe demo server has stopped; run `baton demo` without --exit to try it.");
        return Ok(ExitCode::SUCCESS);
    }
    let supervisor = call(
        Method::POST,
        "/v1/keys".into(),
        admin.clone(),
        Some(json!({"role": "supervisor"})),
    )
    .await?;
    let supervisor_key = supervisor["key"].as_str().unwrap_or_default();
    print!("{}", try_it(&base, &agent_key, supervisor_key, &admin));
    println!("\nServing until Ctrl-C.");
    server.await??;
    Ok(ExitCode::SUCCESS)
}

/// What to paste next: the console with a key per role, and curl lines for the API.
fn try_it(base: &str, agent: &str, supervisor: &str, admin: &str) -> String {
    let cid = "demo-refund-88231";
    format!(
        "\nOpen the console: {base}/
  sign in as agent ana:    {agent}
  sign in as a supervisor: {supervisor}

Try the API:
  export BATON_KEY={admin}
  curl -s -H \"Authorization: Bearer $BATON_KEY\" {base}/v1/conversations/{cid} | jq
  curl -s -H \"Authorization: Bearer $BATON_KEY\" {base}/v1/conversations/{cid}/events | jq
  curl -N -H \"Authorization: Bearer $BATON_KEY\" {base}/v1/conversations/{cid}/stream
"
    )
}
