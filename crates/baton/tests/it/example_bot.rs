//! `examples/python_bot` end to end against a real `baton serve`: the bot registers its
//! webhook, answers while it owns the conversation, goes silent when a webhook says
//! agent ana took over, resumes when she bounces it back, and refuses a forged
//! delivery. What the bot did is read from its own JSON lines; what reached the
//! ledger from the API.

use std::path::PathBuf;
use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::helpers::{ADMIN_KEY, Server, WAIT, start, workspace};

/// `python3`, or `None` when it is missing and CI is unset (then the test passes
/// without running; in CI a missing interpreter fails it).
fn python() -> Option<&'static str> {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    match found {
        true => Some("python3"),
        false if std::env::var_os("CI").is_some() => {
            panic!("CI is set but python3 does not run: the example bot's test must run in CI")
        }
        false => {
            eprintln!("python3 not found: example bot test skipped");
            None
        }
    }
}

/// The running bot: its stdin (customer messages) and every JSON line it printed.
struct Bot {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Lines<BufReader<ChildStdout>>,
    lines: Vec<Value>,
    stderr: PathBuf,
}

impl Bot {
    async fn say(&mut self, conversation: &str, text: &str) {
        let line = format!("{}\n", json!({"conversation": conversation, "text": text}));
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// Reads lines until one has `"event": event` (and matches `fits`); returns it.
    async fn until(&mut self, event: &str, fits: impl Fn(&Value) -> bool) -> Value {
        loop {
            let next = tokio::time::timeout(WAIT, self.stdout.next_line()).await;
            let line = match next {
                Ok(Ok(Some(line))) => line,
                other => panic!(
                    "no {event:?} line ({other:?}); the bot printed:\n{}\nstderr:\n{}",
                    self.printed(),
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                ),
            };
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("not a JSON line: {line:?}: {e}"));
            self.lines.push(value.clone());
            if value["event"] == event && fits(&value) {
                return value;
            }
        }
    }

    fn printed(&self) -> String {
        self.lines
            .iter()
            .map(Value::to_string)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The events of the lines printed since index `from`.
    fn events_since(&self, from: usize) -> Vec<&str> {
        self.lines[from..]
            .iter()
            .filter_map(|l| l["event"].as_str())
            .collect()
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/python_bot/bot.py")
}

async fn spawn_bot(python: &str, server: &Server, stderr: PathBuf) -> Bot {
    let log = std::fs::File::create(&stderr).unwrap();
    let mut child = Command::new(python)
        .arg(script())
        .args(["--baton", &server.base, "--listen", "127.0.0.1:0"])
        .env("BATON_ADMIN_KEY", ADMIN_KEY)
        .env_remove("BATON_BOT_KEY")
        .env_remove("BATON_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    Bot {
        stdin: child.stdin.take(),
        stdout: BufReader::new(child.stdout.take().unwrap()).lines(),
        child,
        lines: Vec::new(),
        stderr,
    }
}

/// A delivery the bot must refuse: well-formed, signed with a secret that is not its.
async fn forge(server: &Server, receiver: &str, cid: &str) -> StatusCode {
    let body = json!({"type": "assigned", "timestamp": "2026-12-02T00:00:00Z",
        "data": {"conversation": cid, "seq": 99, "event": {"type": "assigned", "agent_id": "mallory"},
                 "state": {}, "package_url": ""}});
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    server
        .client
        .post(receiver)
        .header("webhook-id", "msg_forged")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
        )
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_bot_yields_to_a_human_and_resumes_on_bounce_back() {
    let Some(python) = python() else { return };
    let (root, data) = workspace();
    let server = start(&data, &root.path().join("serve.log")).await;
    server
        .call_ok(
            reqwest::Method::PUT,
            "/v1/agents/ana",
            ADMIN_KEY,
            json!({"skills": {"billing": 3}, "capacity": 2}),
        )
        .await;
    server
        .call_ok(
            reqwest::Method::POST,
            "/v1/agents/ana/presence",
            ADMIN_KEY,
            json!({"status": "available"}),
        )
        .await;
    let ana = server
        .call_ok(
            reqwest::Method::POST,
            "/v1/keys",
            ADMIN_KEY,
            json!({"role": "agent", "agent_id": "ana"}),
        )
        .await["key"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut bot = spawn_bot(python, &server, root.path().join("bot.stderr")).await;
    let ready = bot.until("ready", |_| true).await;
    let receiver = ready["receiver"].as_str().unwrap().to_owned();
    let hooks = server.get("/v1/webhooks").await;
    assert_eq!(hooks["webhooks"][0]["id"], ready["webhook"], "{hooks}");
    assert_eq!(hooks["webhooks"][0]["url"], receiver.as_str());

    let cid = "ex-1";
    let is = |v: &Value| v["conversation"] == cid;
    bot.say(cid, "I was charged twice for order 88231").await;
    bot.until("replied", is).await;

    bot.say(cid, "I want to talk to a human please").await;
    let posted = bot.until("posted", is).await;
    assert_eq!(posted["outcome"], "handoff", "{posted}");
    bot.until("holding", is).await;

    let offer = server.offer_of("ana", cid, WAIT).await;
    server
        .call_ok(
            reqwest::Method::POST,
            &format!("/v1/offers/{offer}/accept"),
            &ana,
            json!({}),
        )
        .await;
    let takeover = bot.until("takeover", is).await;
    assert_eq!(takeover["agent"], "ana");

    let mark = bot.lines.len();
    bot.say(cid, "Hello? Is anyone there?").await;
    bot.until("silent", is).await;
    assert!(
        !bot.events_since(mark).contains(&"replied"),
        "the bot spoke over ana:\n{}",
        bot.printed()
    );

    let instructions = "Refund issued; confirm it shows within 5 days.";
    server
        .call_ok(
            reqwest::Method::POST,
            &format!("/v1/conversations/{cid}/bounce-back"),
            &ana,
            json!({"instructions": instructions}),
        )
        .await;
    let resumed = bot.until("resumed", is).await;
    assert_eq!(resumed["instructions"], instructions);
    assert_eq!(resumed["agent"], "ana");
    bot.until("replied", is).await;

    // A forged takeover is refused and changes nothing: the bot still answers.
    assert_eq!(
        forge(&server, &receiver, cid).await,
        StatusCode::UNAUTHORIZED
    );
    let rejected = bot
        .until("rejected", |v| v["webhook_id"] == "msg_forged")
        .await;
    assert_eq!(rejected["reason"], "no signature matches", "{rejected}");
    bot.say(cid, "Thanks, and is the refund done?").await;
    bot.until("replied", is).await;
    assert!(
        !bot.lines
            .iter()
            .any(|l| l["event"] == "takeover" && l["agent"] == "mallory"),
        "{}",
        bot.printed()
    );

    // The ledger agrees: no bot_message while ana owned the conversation, and the
    // customer's every message is there with the bot's NLU reading beside it.
    let events = server.events(cid).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    let assigned = kinds
        .iter()
        .position(|k| *k == "assigned")
        .expect("assigned");
    let back = kinds
        .iter()
        .position(|k| *k == "bounced_back")
        .expect("bounced_back");
    assert!(!kinds[assigned..back].contains(&"bot_message"), "{kinds:?}");
    assert!(kinds[back..].contains(&"bot_message"), "{kinds:?}");
    let count = |kind: &str| kinds.iter().filter(|k| **k == kind).count();
    assert_eq!(count("customer_message"), 4, "{kinds:?}");
    assert_eq!(count("nlu"), 4, "{kinds:?}");

    // End of input: the bot unsubscribes and exits cleanly.
    drop(bot.stdin.take());
    let stopped = bot.until("stopped", |_| true).await;
    assert_eq!(stopped["deleted"], true);
    let status = tokio::time::timeout(WAIT, bot.child.wait())
        .await
        .expect("the bot exits")
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(server.get("/v1/webhooks").await["webhooks"], json!([]));
}
