//! `spawn_app()`: a real baton server on 127.0.0.1:0 over a fresh SQLite directory
//! (or, with `spawn_app_on_postgres()`, a fresh PostgreSQL schema), with request
//! helpers, a store handle for seeding, and a small SSE frame parser.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use baton_core::ledger::{Digest, GENESIS};
use baton_core::state::ConversationState;
use baton_core::{Actor, ConversationId, Event, EventBody, EventId, Timestamp};
use baton_server::{AppConfig, AppState};
use baton_store::postgres::{PgOptions, PgStore, SchemaName, Scratch};
use baton_store::sqlite::SqliteStore;
use baton_store::{AppendBatch, ConversationSummary, SealedEvent, Store};
use futures_util::{Stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long any single awaited thing may take before the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(20);

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The bootstrap admin key.
    pub admin_key: String,
    /// The data directory (deleted when the app is dropped).
    pub dir: TempDir,
    /// A client with a request timeout.
    pub client: reqwest::Client,
    /// The store the server writes to (for seeding conversations before first use).
    pub store: Arc<dyn Store>,
    /// The same store when it is the embedded one (closed on stop).
    sqlite: Option<Arc<SqliteStore>>,
    /// The PostgreSQL schema the store lives in, dropped with the app.
    pub schema: Option<PgSchema>,
    /// The server's state, for in-process calls.
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
}

/// Starts a server over a fresh temporary directory.
pub async fn spawn_app() -> TestApp {
    spawn_app_in(tempfile::tempdir().unwrap()).await
}

/// Starts a server over an existing directory (a restart).
pub async fn spawn_app_in(dir: TempDir) -> TestApp {
    spawn_app_in_with(dir, AppConfig::default()).await
}

/// Starts a server with `config` (its admin key replaced by a fresh one) over `dir`.
pub async fn spawn_app_in_with(dir: TempDir, config: AppConfig) -> TestApp {
    spawn_app_over(dir, config, |store| store).await
}

/// Starts a server whose store is `wrap` of the SQLite store over `dir` (a test's
/// fault-injecting or slowed wrapper).
pub async fn spawn_app_over(
    dir: TempDir,
    config: AppConfig,
    wrap: impl FnOnce(Arc<SqliteStore>) -> Arc<dyn Store>,
) -> TestApp {
    let sqlite = Arc::new(SqliteStore::open(dir.path()).unwrap());
    let store = wrap(sqlite.clone());
    start(dir, store, Some(sqlite), None, config).await
}

/// A PostgreSQL schema of a test's own, in the database `BATON_TEST_POSTGRES_URL`
/// names; dropped when the value is.
pub struct PgSchema {
    /// The schema.
    pub scratch: Scratch,
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        // Its own thread and runtime: drop runs inside the test's runtime, which may
        // not be able to block.
        let scratch = self.scratch.clone();
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?
                .block_on(scratch.drop_schema())
                .map_err(|e| e.to_string())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("cannot drop test schema {}", self.scratch.name.as_str());
        }
    }
}

/// The test database's URL; `None` (the test passes without running) only when `CI`
/// is unset too.
pub fn postgres_url() -> Option<String> {
    const VAR: &str = "BATON_TEST_POSTGRES_URL";
    match std::env::var(VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {VAR} is not: the PostgreSQL tests must run in CI")
        }
        _ => {
            eprintln!("{VAR} is unset: PostgreSQL test skipped");
            None
        }
    }
}

/// A fresh schema in the test database, or `None` when the tests may skip.
pub async fn postgres_schema() -> Option<PgSchema> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let url = postgres_url()?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let unique =
        nanos ^ (u64::from(std::process::id()) << 40) ^ NEXT.fetch_add(1, Ordering::Relaxed);
    let name = SchemaName::random("baton_it", unique).unwrap();
    Some(PgSchema {
        scratch: Scratch::create(&url, name).await.unwrap(),
    })
}

/// Starts a server over a fresh PostgreSQL schema; `None` when the tests may skip.
pub async fn spawn_app_on_postgres() -> Option<TestApp> {
    let schema = postgres_schema().await?;
    Some(spawn_app_on_schema(schema).await)
}

/// Starts a server over `schema`, which the app then owns (and drops).
pub async fn spawn_app_on_schema(schema: PgSchema) -> TestApp {
    let store = PgStore::open(schema.scratch.connect_options(), PgOptions::default())
        .await
        .unwrap();
    spawn_app_on_store(Arc::new(store), Some(schema)).await
}

/// Starts another node over the schema `scratch` names, leaving the schema to whoever
/// owns it.
pub async fn spawn_node(scratch: &Scratch) -> TestApp {
    let store = PgStore::open(scratch.connect_options(), PgOptions::default())
        .await
        .unwrap();
    spawn_app_on_store(Arc::new(store), None).await
}

/// The test NATS server's URL; `None` (the test passes without running) only when
/// `CI` is unset too.
pub fn nats_url() -> Option<String> {
    const VAR: &str = "BATON_TEST_NATS_URL";
    match std::env::var(VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {VAR} is not: the NATS tests must run in CI")
        }
        _ => {
            eprintln!("{VAR} is unset: NATS test skipped");
            None
        }
    }
}

/// A JetStream stream name of this test's own.
pub fn nats_stream_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    format!(
        "BATON_IT_{}_{nanos:x}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Starts a node of a cluster over the schema `scratch` names: notified through the
/// NATS stream `nats` (URL, stream) when given, polling the store every `poll` when given.
pub async fn spawn_cluster_node(
    scratch: &Scratch,
    node_id: &str,
    nats: Option<(&str, &str)>,
    poll: Option<std::time::Duration>,
) -> TestApp {
    spawn_cluster_node_with(scratch, node_id, nats, poll, AppConfig::default()).await
}

/// [`spawn_cluster_node`] over `base` (a master key, say) instead of the defaults.
pub async fn spawn_cluster_node_with(
    scratch: &Scratch,
    node_id: &str,
    nats: Option<(&str, &str)>,
    poll: Option<std::time::Duration>,
    base: AppConfig,
) -> TestApp {
    let store = PgStore::open(scratch.connect_options(), PgOptions::default())
        .await
        .unwrap();
    let cluster = baton_server::cluster::ClusterConfig {
        node_id: node_id.to_owned(),
        nats: nats.map(|(url, stream)| baton_server::cluster::notify::NatsConfig {
            url: url.to_owned(),
            stream: stream.to_owned(),
        }),
        poll,
    };
    let config = AppConfig { cluster, ..base };
    start(
        tempfile::tempdir().unwrap(),
        Arc::new(store),
        None,
        None,
        config,
    )
    .await
}

/// Starts a server over `store` (a handle the test keeps a clone of).
pub async fn spawn_app_on_store(store: Arc<dyn Store>, schema: Option<PgSchema>) -> TestApp {
    spawn_app_on_store_with(store, schema, AppConfig::default()).await
}

/// [`spawn_app_on_store`] with `config`.
pub async fn spawn_app_on_store_with(
    store: Arc<dyn Store>,
    schema: Option<PgSchema>,
    config: AppConfig,
) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    start(dir, store, None, schema, config).await
}

async fn start(
    dir: TempDir,
    store: Arc<dyn Store>,
    sqlite: Option<Arc<SqliteStore>>,
    schema: Option<PgSchema>,
    config: AppConfig,
) -> TestApp {
    let admin_key = baton_server::auth::generate_key();
    let config = AppConfig {
        admin_key: Some(admin_key.clone()),
        ..config
    };
    let (state, _) = AppState::new(store.clone(), config).await.unwrap();
    let in_process = state.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (shutdown, stop) = oneshot::channel::<()>();
    let server = tokio::spawn(baton_server::serve(listener, state, async move {
        let _ = stop.await;
    }));
    let client = baton_server::http_client::builder()
        .timeout(WAIT)
        .build()
        .unwrap();
    TestApp {
        base: format!("http://{addr}"),
        admin_key,
        dir,
        client,
        store,
        sqlite,
        schema,
        state: in_process,
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

/// A response's status and JSON body (`Value::Null` when the body is not JSON).
pub type Answer = (StatusCode, Value);

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

impl TestApp {
    /// Stops the server (graceful shutdown) and hands back its directory.
    pub async fn stop(mut self) -> TempDir {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            tokio::time::timeout(WAIT, server)
                .await
                .expect("server stops")
                .unwrap()
                .unwrap();
        }
        if let Some(sqlite) = &self.sqlite {
            sqlite.close();
        }
        self.dir
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Issues a key for `role` (and agent), asserting 201.
    pub async fn key(&self, role: &str, agent: Option<&str>) -> String {
        let mut body = json!({"role": role});
        if let Some(agent) = agent {
            body["agent_id"] = json!(agent);
        }
        let (status, created) = self.post("/v1/keys", &body, Some(&self.admin_key)).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        assert_eq!(created["role"], role);
        created["key"].as_str().unwrap().to_owned()
    }

    /// POSTs JSON, with a bearer key when given.
    pub async fn post(&self, path: &str, body: &Value, key: Option<&str>) -> Answer {
        let mut request = self.client.post(self.url(path)).json(body);
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        answer(request.send().await.unwrap()).await
    }

    /// POSTs raw bytes with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        body: Vec<u8>,
        content_type: Option<&str>,
        key: &str,
    ) -> Answer {
        let mut request = self.client.post(self.url(path)).bearer_auth(key).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        answer(request.send().await.unwrap()).await
    }

    /// GETs a path, with a bearer key when given.
    pub async fn get(&self, path: &str, key: Option<&str>) -> Answer {
        let mut request = self.client.get(self.url(path));
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        answer(request.send().await.unwrap()).await
    }

    /// `POST /v1/conversations/{cid}/events` with `body` as given.
    pub async fn append(&self, cid: &str, body: &Value, key: &str) -> Answer {
        self.post(&format!("/v1/conversations/{cid}/events"), body, Some(key))
            .await
    }

    /// Appends `{"events": events}` and asserts 200.
    pub async fn append_ok(&self, cid: &str, events: Value, key: &str) -> Value {
        let (status, body) = self.append(cid, &json!({"events": events}), key).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Every event of a conversation as the API serves it (admin), or None on 404.
    pub async fn try_events(&self, cid: &str) -> Option<Vec<Value>> {
        let (status, body) = self
            .get(
                &format!("/v1/conversations/{cid}/events?limit=10000"),
                Some(&self.admin_key),
            )
            .await;
        match status {
            StatusCode::OK => Some(body["events"].as_array().unwrap().clone()),
            StatusCode::NOT_FOUND => None,
            other => panic!("GET events: {other} {body}"),
        }
    }

    /// Every event of a conversation (asserting it exists).
    pub async fn events(&self, cid: &str) -> Vec<Value> {
        self.try_events(cid)
            .await
            .unwrap_or_else(|| panic!("conversation {cid} does not exist"))
    }

    /// The conversation's state (admin), asserting 200.
    pub async fn state(&self, cid: &str) -> Value {
        let (status, body) = self
            .get(&format!("/v1/conversations/{cid}"), Some(&self.admin_key))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Writes events straight into the store, sealed and chained as baton would, for
    /// states no public endpoint reaches yet (an assigned agent, a closed conversation).
    /// Only for conversations the server has not loaded yet.
    pub async fn seed(&self, cid: &str, events: Vec<(Actor, EventBody)>) {
        seed_store(self.store.as_ref(), cid, events).await;
    }

    /// Opens a Server-Sent Events stream, asserting 200.
    pub async fn stream(&self, cid: &str, key: &str, last_event_id: Option<u64>) -> SseReader {
        let response = self.open_stream(cid, key, last_event_id).await;
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{content_type}"
        );
        SseReader::new(response)
    }

    /// Sends the stream request and returns the raw response.
    pub async fn open_stream(
        &self,
        cid: &str,
        key: &str,
        last_event_id: Option<u64>,
    ) -> reqwest::Response {
        // No total timeout on a stream: every read is bounded by `SseReader::next`.
        let client = baton_server::http_client::builder().build().unwrap();
        let mut request = client
            .get(self.url(&format!("/v1/conversations/{cid}/stream")))
            .bearer_auth(key);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        tokio::time::timeout(WAIT, request.send())
            .await
            .expect("stream opens")
            .unwrap()
    }
}

/// Seals `events` after whatever `cid` holds in `store` and appends them in one batch.
pub async fn seed_store(store: &dyn Store, cid: &str, events: Vec<(Actor, EventBody)>) {
    let conversation = ConversationId::parse(cid).unwrap();
    let stored = store.events_after(&conversation, 0, 10_000).await.unwrap();
    let mut state = ConversationState::default();
    for s in &stored {
        state.apply(&serde_json::from_str(&s.canonical).unwrap());
    }
    let mut prev: Digest = stored.last().map_or(GENESIS, |s| s.hash);
    let expected_last_seq = state.last_seq;
    let at = Timestamp::from_unix_millis(1_767_225_600_000);
    let mut sealed = Vec::new();
    for (index, (actor, body)) in events.into_iter().enumerate() {
        let event = Event {
            erased: false,
            seq: state.last_seq + 1,
            id: EventId::parse(format!("seed-{}-{index}", state.last_seq + 1)).unwrap(),
            actor,
            at,
            meta: None,
            body,
        };
        state.apply(&event);
        let s = SealedEvent::seal(&prev, &event).unwrap();
        prev = s.hash;
        sealed.push(s);
    }
    let summary = ConversationSummary {
        owner: state.owner,
        customer: state.customer_id.clone(),
        agent: state.assigned_agent.clone(),
        started_at: at,
        updated_at: at,
        intent: state.topic().cloned(),
    };
    store
        .append(AppendBatch {
            conversation,
            expected_last_seq,
            events: sealed,
            summary,
            outbox: None,
            claim: None,
            data_key: None,
        })
        .await
        .unwrap();
}

/// An event body from its JSON form (`{"type": ..., fields...}`).
pub fn body(value: Value) -> EventBody {
    serde_json::from_value(value).unwrap()
}

/// Asserts the documented error shape `{"error": {"code", "message", "field"?}}`, the
/// status, the code and the field (None: the error must not name one).
#[track_caller]
pub fn assert_error(answer: &Answer, status: StatusCode, code: &str, field: Option<&str>) {
    let (got_status, body) = answer;
    assert_eq!(*got_status, status, "status; body {body}");
    let top = body
        .as_object()
        .unwrap_or_else(|| panic!("error body is not a JSON object: {body}"));
    assert_eq!(top.len(), 1, "only `error` at the top level: {body}");
    let error = top["error"]
        .as_object()
        .unwrap_or_else(|| panic!("`error` is not an object: {body}"));
    for key in error.keys() {
        assert!(
            ["code", "message", "field"].contains(&key.as_str()),
            "unexpected key {key} in {body}"
        );
    }
    assert_eq!(error["code"], code, "code; body {body}");
    let message = error["message"].as_str().unwrap_or_default();
    assert!(
        !message.trim().is_empty(),
        "a message in plain words: {body}"
    );
    assert_eq!(
        error.get("field").and_then(Value::as_str),
        field,
        "field; body {body}"
    );
}

/// One Server-Sent Event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseFrame {
    /// `id:`.
    pub id: Option<String>,
    /// `event:`.
    pub event: Option<String>,
    /// `data:` lines joined by newlines.
    pub data: String,
}

impl SseFrame {
    /// The `id:` as a seq.
    pub fn seq(&self) -> u64 {
        self.id
            .as_deref()
            .expect("every baton SSE event carries an id")
            .parse()
            .unwrap()
    }

    /// The data as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap()
    }
}

type ByteStream = Pin<Box<dyn Stream<Item = Result<Vec<u8>, reqwest::Error>> + Send>>;

/// Reads SSE frames from a response body.
pub struct SseReader {
    bytes: ByteStream,
    buffer: String,
}

impl SseReader {
    /// Wraps a `text/event-stream` response.
    pub fn new(response: reqwest::Response) -> Self {
        Self {
            bytes: Box::pin(
                response
                    .bytes_stream()
                    .map(|chunk| chunk.map(|b| b.to_vec())),
            ),
            buffer: String::new(),
        }
    }

    /// The next frame that carries data (comments and keep-alives are skipped); None
    /// when the stream ends. Panics after [`WAIT`].
    pub async fn next(&mut self) -> Option<SseFrame> {
        tokio::time::timeout(WAIT, self.next_frame())
            .await
            .expect("an SSE frame within the wait")
    }

    /// The next `n` frames.
    pub async fn take(&mut self, n: usize) -> Vec<SseFrame> {
        let mut frames = Vec::with_capacity(n);
        for _ in 0..n {
            frames.push(self.next().await.expect("the stream stays open"));
        }
        frames
    }

    async fn next_frame(&mut self) -> Option<SseFrame> {
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if let Some(frame) = parse_block(&block) {
                    return Some(frame);
                }
            }
            let chunk = self.bytes.next().await?.expect("the SSE body reads");
            self.buffer.push_str(
                &String::from_utf8(chunk)
                    .expect("SSE is UTF-8")
                    .replace("\r\n", "\n"),
            );
        }
    }
}

fn parse_block(block: &str) -> Option<SseFrame> {
    let mut frame = SseFrame {
        id: None,
        event: None,
        data: String::new(),
    };
    let mut has_data = false;
    for line in block.lines() {
        if line.is_empty() || line.starts_with(':') {
            continue;
        }
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match name {
            "id" => frame.id = Some(value.to_owned()),
            "event" => frame.event = Some(value.to_owned()),
            "data" => {
                if has_data {
                    frame.data.push('\n');
                }
                frame.data.push_str(value);
                has_data = true;
            }
            _ => {}
        }
    }
    has_data.then_some(frame)
}

/// The seqs of a list of API events.
pub fn seqs(events: &[Value]) -> Vec<u64> {
    events.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

/// The event with idempotency key `id`.
pub fn by_id<'a>(events: &'a [Value], id: &str) -> &'a Value {
    events
        .iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("no event with id {id}"))
}

// ===========================================================================================
// Routing, handoff and package helpers (used by routing.rs, handoff.rs, package.rs).
// ===========================================================================================

/// How long a bounded poll waits for the router to act (an offer, an expiry, an overflow).
/// The ticker runs every 250 ms, so any timer-driven step lands well inside this.
pub const ROUTING_WAIT: Duration = Duration::from_secs(5);

/// Starts a server with `config` (its admin key is replaced by a fresh one) over a fresh
/// temporary directory: small offer timeouts, overflow waits and so on.
pub async fn spawn_app_with(config: AppConfig) -> TestApp {
    spawn_app_in_with(tempfile::tempdir().unwrap(), config).await
}

/// Polls `probe` until it yields a value, failing the test after [`ROUTING_WAIT`].
pub async fn eventually<T>(what: &str, mut probe: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + ROUTING_WAIT;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up after {ROUTING_WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The events of type `kind`, in log order.
pub fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

impl TestApp {
    /// `PUT /v1/agents/{aid}` as admin, asserting 200; returns the agent view.
    pub async fn put_agent(&self, aid: &str, skills: Value, capacity: u32) -> Value {
        let request = self
            .client
            .put(self.url(&format!("/v1/agents/{aid}")))
            .bearer_auth(&self.admin_key);
        let (status, view) = answer(
            request
                .json(&json!({"skills": skills, "capacity": capacity}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "PUT agent {aid}: {view}");
        view
    }

    /// `PUT /v1/agents/{aid}` with any body and key, unchecked.
    pub async fn try_put_agent(&self, aid: &str, body: &Value, key: &str) -> Answer {
        let request = self
            .client
            .put(self.url(&format!("/v1/agents/{aid}")))
            .bearer_auth(key)
            .json(body);
        answer(request.send().await.unwrap()).await
    }

    /// `POST /v1/agents/{aid}/presence` as admin, asserting 200.
    pub async fn set_presence(&self, aid: &str, status: &str) -> Value {
        let (code, view) = self
            .post(
                &format!("/v1/agents/{aid}/presence"),
                &json!({"status": status}),
                Some(&self.admin_key),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "presence {aid} {status}: {view}");
        view
    }

    /// Registers an agent and makes them available.
    pub async fn available_agent(&self, aid: &str, skills: Value, capacity: u32) {
        self.put_agent(aid, skills, capacity).await;
        self.set_presence(aid, "available").await;
    }

    /// `GET /v1/agents/{aid}` as admin, asserting 200.
    pub async fn agent(&self, aid: &str) -> Value {
        let (status, view) = self
            .get(&format!("/v1/agents/{aid}"), Some(&self.admin_key))
            .await;
        assert_eq!(status, StatusCode::OK, "GET agent {aid}: {view}");
        view
    }

    /// The agent's live offers (`GET /v1/agents/{aid}/offers` as admin).
    pub async fn offers_of(&self, aid: &str) -> Vec<Value> {
        let (status, body) = self
            .get(&format!("/v1/agents/{aid}/offers"), Some(&self.admin_key))
            .await;
        assert_eq!(status, StatusCode::OK, "GET offers of {aid}: {body}");
        body["offers"].as_array().unwrap().clone()
    }

    /// Waits for a live offer of `cid` to `aid` and returns its offer id.
    pub async fn wait_offer(&self, aid: &str, cid: &str) -> String {
        eventually(&format!("an offer of {cid} to {aid}"), async || {
            let offers = self.offers_of(aid).await;
            let offer = offers.iter().find(|o| o["conversation"] == cid)?;
            Some(offer["offer_id"].as_str().unwrap().to_owned())
        })
        .await
    }

    /// Waits until `GET /v1/queues` shows `waiting` conversations for `skill`
    /// (queued or offered, not yet accepted). Once it does, the router has processed them.
    pub async fn wait_waiting(&self, skill: &str, waiting: u64) {
        eventually(&format!("{waiting} waiting for {skill}"), async || {
            let (status, body) = self.get("/v1/queues", Some(&self.admin_key)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let queue = body["queues"]
                .as_array()
                .unwrap()
                .iter()
                .find(|q| q["skill"] == skill)
                .cloned();
            (queue.map_or(0, |q| q["waiting"].as_u64().unwrap()) == waiting).then_some(())
        })
        .await
    }

    /// A customer message, then the bot's `handoff_requested` with `skills` and
    /// `priority`; asserts baton decided to hand off and queued the conversation.
    pub async fn hand_off(&self, cid: &str, bot: &str, skills: &[&str], priority: &str) -> Value {
        let answer = self
            .append_ok(
                cid,
                json!([
                    {"type": "customer_message", "text": "The charge on my statement is wrong."},
                    {"type": "handoff_requested", "reason": "billing dispute", "skills": skills, "priority": priority},
                ]),
                bot,
            )
            .await;
        assert_eq!(answer["decision"]["outcome"], "handoff", "{answer}");
        assert_eq!(answer["owner"], "queued", "{answer}");
        answer
    }

    /// Waits for the offer of `cid` to `aid` and accepts it with `agent_key`; returns the offer id.
    pub async fn assign(&self, cid: &str, aid: &str, agent_key: &str) -> String {
        let offer = self.wait_offer(aid, cid).await;
        let (status, body) = self
            .post(
                &format!("/v1/offers/{offer}/accept"),
                &json!({}),
                Some(agent_key),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "accept {offer}: {body}");
        offer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sse_blocks() {
        let frame = parse_block("id: 3\nevent: note\ndata: {\"a\":1}\n\n").unwrap();
        assert_eq!(
            frame,
            SseFrame {
                id: Some("3".into()),
                event: Some("note".into()),
                data: "{\"a\":1}".into()
            }
        );
        assert_eq!(parse_block(":keep-alive\n\n"), None);
        assert_eq!(parse_block("data: a\ndata: b\n\n").unwrap().data, "a\nb");
    }
}

// ===========================================================================================
// Console sessions (used by session.rs, keys.rs, limits.rs).
// ===========================================================================================

/// A console session opened through `POST /console/session` (JSON).
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The `Cookie` header value: `baton_session=...`.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
}

impl TestApp {
    /// Signs in with `key` as the console does (JSON), asserting 200.
    pub async fn sign_in(&self, key: &str) -> ConsoleSession {
        let response = self
            .client
            .post(self.url("/console/session"))
            .json(&json!({"key": key}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let set_cookie = response.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .to_owned();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        assert!(cookie.starts_with("baton_session="), "{set_cookie}");
        let body: Value = response.json().await.unwrap();
        ConsoleSession {
            cookie,
            csrf: body["csrf"].as_str().unwrap().to_owned(),
        }
    }

    /// A request carrying the session's cookie (and its CSRF token when `csrf`).
    pub async fn with_session(
        &self,
        method: reqwest::Method,
        path: &str,
        session: &ConsoleSession,
        csrf: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header("cookie", &session.cookie);
        if let Some(token) = csrf {
            request = request.header("x-csrf-token", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }

    /// A request with `method`, JSON `body` and a bearer key.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        key: &str,
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path)).bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }
}
