//! Three real `baton serve` processes on one PostgreSQL schema and one NATS stream of
//! the test's own: appends through different nodes to the same conversations never
//! fork a chain and lose nothing; an SSE client on one node sees the others' writes
//! with no gap and no duplicate; a node killed with `kill -9` under load loses no
//! acknowledged event while its clients move to the other nodes. Routing across the
//! nodes (one leader, accepts on any node, failover) is in [`routing`].

mod routing;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use baton_store::postgres::{SchemaName, Scratch};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{Server, run_with_env, start_with_env, workspace};

/// An environment variable the tests need; `None` (skip) only when `CI` is unset too.
fn required(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var_os("CI").is_some() => panic!("CI is set but {var} is not"),
        _ => {
            eprintln!("{var} is unset: cluster test skipped");
            None
        }
    }
}

/// A fresh schema and stream name, and the database URL that selects the schema.
struct Cluster {
    scratch: Scratch,
    database_url: String,
    nats_url: String,
    stream: String,
}

impl Cluster {
    async fn new() -> Option<Self> {
        let pg = required("BATON_TEST_POSTGRES_URL")?;
        let nats_url = required("BATON_TEST_NATS_URL")?;
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            ^ (u64::from(std::process::id()) << 40);
        let name = SchemaName::random("baton_cluster", unique).unwrap();
        let scratch = Scratch::create(&pg, name).await.unwrap();
        let separator = if pg.contains('?') { '&' } else { '?' };
        let database_url = format!(
            "{pg}{separator}options[search_path]={}",
            scratch.name.as_str()
        );
        Some(Self {
            scratch,
            database_url,
            nats_url,
            stream: format!("BATON_CLUSTER_{unique:x}"),
        })
    }

    /// Starts node `n`, logging to `root/node-n.log`.
    async fn node(&self, root: &Path, n: usize) -> Server {
        let node_id = format!("node-{n}");
        // The nodes of one cluster share a master key (encryption at rest is on).
        let key_file = root.join("master.key");
        if !key_file.exists() {
            std::fs::write(&key_file, format!("{}\n", "c3".repeat(32))).unwrap();
        }
        let key_file = key_file.to_str().unwrap().to_owned();
        let args: Vec<std::ffi::OsString> = [
            "--master-key-file",
            &key_file,
            "--database-url",
            &self.database_url,
            "--database-pool-size",
            "4",
            "--nats-url",
            &self.nats_url,
            "--nats-stream",
            &self.stream,
            "--node-id",
            &node_id,
        ]
        .iter()
        .map(Into::into)
        .collect();
        let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let log = root.join(format!("{node_id}.log"));
        start_with_env(&root.join("unused-data"), &log, &args, &[]).await
    }

    /// Three nodes, started one after another (the first registers the admin key).
    async fn nodes(&self, root: &Path) -> Vec<Server> {
        let mut nodes = Vec::new();
        for n in 0..3 {
            nodes.push(self.node(root, n).await);
        }
        nodes
    }

    /// `baton ledger verify --database-url`, asserting it passes.
    async fn verify(&self, root: &Path) -> String {
        let output = run_with_env(
            &["ledger", "verify", "--database-url", &self.database_url],
            &root.join("unused-data"),
            &[],
        )
        .await;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "ledger verify: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
        stdout
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let scratch = self.scratch.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let _ = runtime.block_on(scratch.drop_schema());
        })
        .join();
    }
}

/// Appends one event with a client id; the status and body, or None when the node
/// did not answer (killed).
async fn append(node: &Server, key: &str, cid: &str, id: &str) -> Option<(StatusCode, Value)> {
    let response = node
        .client
        .post(node.url(&format!("/v1/conversations/{cid}/events")))
        .bearer_auth(key)
        .json(&json!({"events": [{"id": id, "type": "customer_message", "text": format!("text of {id}")}]}))
        .send()
        .await
        .ok()?;
    let status = response.status();
    Some((status, response.json().await.unwrap_or(Value::Null)))
}

/// `cid`'s events on `node` once it serves at least `want` (catching up is
/// asynchronous: polled up to 20 s).
async fn served_within(node: &Server, cid: &str, want: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let events = node.events(cid).await;
        if events.len() >= want || Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn assert_contiguous(cid: &str, events: &[Value]) {
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(
        seqs,
        (1..=events.len() as u64).collect::<Vec<_>>(),
        "{cid}: one chain"
    );
}

async fn bot_key(node: &Server) -> String {
    node.key("bot").await
}

/// Reads SSE `data:` lines from a stream response until `want` events have arrived.
async fn streamed(response: reqwest::Response, want: usize) -> Vec<Value> {
    use futures_util::StreamExt;
    let mut bytes = response.bytes_stream();
    let mut buffer = String::new();
    let mut events = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while events.len() < want {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = tokio::time::timeout(left, bytes.next())
            .await
            .expect("the stream delivers within 20 s")
            .expect("the stream stays open")
            .unwrap();
        buffer.push_str(&String::from_utf8_lossy(&chunk).replace("\r\n", "\n"));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let data: Vec<&str> = block
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if !data.is_empty() {
                events.push(serde_json::from_str(&data.join("\n")).unwrap());
            }
        }
    }
    events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_share_conversations_without_fork_loss_gap_or_duplicate() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let (root, _) = workspace();
    let nodes = cluster.nodes(root.path()).await;
    for node in &nodes {
        let health = node.get("/healthz").await;
        assert_eq!(health["nats"], "ok", "{health}");
        assert_eq!(health["database"], "ok", "{health}");
    }
    let bot = bot_key(&nodes[0]).await;
    let conversations = ["c-1", "c-2", "c-3"];
    for cid in conversations {
        let (status, body) = append(&nodes[0], &bot, cid, &format!("{cid}-first"))
            .await
            .unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // An SSE client on node 2 for c-1, while nodes 0 and 1 write it.
    let sse = nodes[2]
        .client
        .get(nodes[2].url("/v1/conversations/c-1/stream"))
        .bearer_auth(&bot)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), StatusCode::OK);

    // Every node writes every conversation at once: 3 nodes x 3 conversations x 6.
    let writes = (0..54).map(|i| {
        let (node, bot) = (&nodes[i % 3], bot.clone());
        let cid = conversations[(i / 3) % 3];
        async move {
            let id = format!("{cid}-{i}");
            let (status, body) = append(node, &bot, cid, &id)
                .await
                .expect("the node answers");
            assert_eq!(
                status,
                StatusCode::OK,
                "{id} through node {}: {body}",
                i % 3
            );
            (cid, id)
        }
    });
    let acknowledged = futures_util::future::join_all(writes).await;

    let mut finals = Vec::new();
    for cid in conversations {
        let events = nodes[0].events(cid).await;
        assert_contiguous(cid, &events);
        let ids: BTreeSet<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
        for (c, id) in &acknowledged {
            if *c == cid {
                assert!(ids.contains(id.as_str()), "{id} is stored");
            }
        }
        for node in &nodes[1..] {
            assert_eq!(
                served_within(node, cid, events.len()).await,
                events,
                "{cid}: every node serves the same log"
            );
        }
        finals.push(events);
    }
    let streamed = streamed(sse, finals[0].len()).await;
    assert_eq!(streamed, finals[0], "node 2's stream: no gap, no duplicate");
    let verified = cluster.verify(root.path()).await;
    let total: usize = finals.iter().map(Vec::len).sum();
    assert!(
        verified.starts_with(&format!("ok: 3 conversations, {total} events")),
        "{verified}"
    );
    drop(nodes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_loses_no_acknowledged_event() {
    let Some(cluster) = Cluster::new().await else {
        return;
    };
    let (root, _) = workspace();
    let mut nodes: Vec<Option<Server>> = cluster
        .nodes(root.path())
        .await
        .into_iter()
        .map(Some)
        .collect();
    let bot = bot_key(nodes[0].as_ref().unwrap()).await;
    let bases: Vec<String> = nodes
        .iter()
        .map(|n| n.as_ref().unwrap().base.clone())
        .collect();

    // Four clients, each writing its own ids to two shared conversations through
    // "its" node, moving to the next node when one does not answer; they keep on
    // until each has had 10 writes acknowledged after the kill.
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clients = (0..4).map(|c| {
        let (bases, bot, killed) = (bases.clone(), bot.clone(), killed.clone());
        tokio::spawn(async move {
            let client = baton_server::http_client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            let mut acknowledged = Vec::new();
            let mut after_kill = 0;
            let mut node = c % 3;
            for i in 0..2_000 {
                if after_kill >= 10 {
                    break;
                }
                let cid = if i % 2 == 0 { "k-a" } else { "k-b" };
                let id = format!("w{c}-{i}");
                let body = json!({"events": [{"id": id, "type": "customer_message", "text": "x"}]});
                let mut tries = 0;
                let mut last_error = String::new();
                loop {
                    tries += 1;
                    assert!(tries < 20, "{id}: no node takes it: {last_error}");
                    let was_killed = killed.load(std::sync::atomic::Ordering::SeqCst);
                    let sent = client
                        .post(format!("{}/v1/conversations/{cid}/events", bases[node]))
                        .bearer_auth(&bot)
                        .json(&body)
                        .send()
                        .await;
                    match sent {
                        Ok(response) if response.status() == StatusCode::OK => {
                            acknowledged.push((cid, id.clone(), node));
                            if was_killed {
                                after_kill += 1;
                            }
                            break;
                        }
                        Ok(response) if response.status().is_server_error() => {
                            last_error = response.text().await.unwrap_or_default();
                            node = (node + 1) % 3;
                        }
                        Ok(response) => {
                            panic!(
                                "{id}: {} {}",
                                response.status(),
                                response.text().await.unwrap_or_default()
                            )
                        }
                        // Killed mid-request: the outcome is unknown, so the same id
                        // goes to another node (an idempotent retry).
                        Err(error) => {
                            last_error = error.to_string();
                            node = (node + 1) % 3;
                        }
                    }
                }
            }
            acknowledged
        })
    });
    let clients: Vec<_> = clients.collect();
    // Kill node 0 once the load is under way.
    let deadline = Instant::now() + Duration::from_secs(20);
    let probe = nodes[1].as_ref().unwrap();
    loop {
        let head = probe.get("/v1/events?limit=1000").await;
        let written = head["events"].as_array().map_or(0, Vec::len);
        if written >= 40 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nodes[0].take().unwrap().kill9().await;
    killed.store(true, std::sync::atomic::Ordering::SeqCst);

    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    eprintln!(
        "{} writes acknowledged, {} by the killed node",
        acknowledged.len(),
        acknowledged
            .iter()
            .filter(|(_, _, node)| *node == 0)
            .count()
    );
    assert!(
        acknowledged.iter().any(|(_, _, node)| *node == 0),
        "node 0 acknowledged writes before it was killed"
    );
    let survivor = nodes[1].as_ref().unwrap();
    for cid in ["k-a", "k-b"] {
        let events = survivor.events(cid).await;
        assert_contiguous(cid, &events);
        let ids: Vec<&str> = events.iter().filter_map(|e| e["id"].as_str()).collect();
        let unique: BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "{cid}: a retried id is stored once"
        );
        for (c, id, _) in &acknowledged {
            if *c == cid {
                assert!(unique.contains(id.as_str()), "acknowledged {id} is stored");
            }
        }
    }
    cluster.verify(root.path()).await;
}
