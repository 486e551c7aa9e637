//! Runs the real `baton` binary: `serve` on 127.0.0.1:0 over a data directory, reading
//! the address from its first stdout line, and one-shot commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// How long anything awaited may take before the test fails instead of hanging.
pub const WAIT: Duration = Duration::from_secs(30);

/// The bootstrap admin key every test server gets through `BATON_ADMIN_KEY`.
pub const ADMIN_KEY: &str = "baton_test_admin_key_0123456789abcdef";

/// A running `baton serve`.
pub struct Server {
    /// `http://ADDR` as announced.
    pub base: String,
    /// A client with a request timeout.
    pub client: reqwest::Client,
    child: Child,
    // Held so the server's later stdout writes never hit a closed pipe.
    _stdout: Lines<BufReader<ChildStdout>>,
}

/// The `baton` binary, with no `BATON_*` setting inherited from the environment.
pub fn baton() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_baton"));
    for var in [
        "BATON_LISTEN",
        "BATON_DATA_DIR",
        "BATON_DATABASE_URL",
        "BATON_POLICY",
        "BATON_ADMIN_KEY",
        "BATON_MASTER_KEY_FILE",
        "BATON_MASTER_KEY_COMMAND",
        "BATON_ENCRYPTION",
        "BATON_RETENTION_CLOSED_AFTER_DAYS",
        "BATON_NATS_URL",
        "BATON_NATS_STREAM",
        "BATON_NODE_ID",
        "BATON_WEBHOOK_CA_FILE",
    ] {
        command.env_remove(var);
    }
    command.kill_on_drop(true);
    command
}

/// Starts `baton serve --listen 127.0.0.1:0 --data-dir DATA`, logging to `log`, and
/// checks the stdout contract: the first line is exactly `listening on http://ADDR`.
pub async fn start(data: &Path, log: &Path) -> Server {
    start_with(data, log, &[]).await
}

/// [`start`] with more `serve` arguments (`--policy FILE`).
pub async fn start_with(data: &Path, log: &Path, args: &[&std::ffi::OsStr]) -> Server {
    start_with_env(data, log, args, &[]).await
}

/// [`start_with`] with environment variables set.
pub async fn start_with_env(
    data: &Path,
    log: &Path,
    args: &[&std::ffi::OsStr],
    env: &[(&str, &str)],
) -> Server {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut child = baton()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .env("BATON_ADMIN_KEY", ADMIN_KEY)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("baton serve announces itself")
        .unwrap()
        .expect("stdout has a first line");
    let addr: SocketAddr = first
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("first stdout line: {first:?}"))
        .parse()
        .unwrap_or_else(|e| panic!("first stdout line {first:?}: {e}"));
    assert_eq!(
        first,
        format!("listening on http://{addr}"),
        "nothing else on the line"
    );
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0, "the real port is announced");
    let client = baton_server::http_client::builder()
        .timeout(WAIT)
        .build()
        .unwrap();
    Server {
        base: format!("http://{addr}"),
        client,
        child,
        _stdout: lines,
    }
}

impl Server {
    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Issues a key for `role` with the admin key.
    pub async fn key(&self, role: &str) -> String {
        let response = self
            .client
            .post(self.url("/v1/keys"))
            .bearer_auth(ADMIN_KEY)
            .json(&json!({"role": role}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json::<Value>().await.unwrap()["key"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Sends `method path` with `key` and a JSON body: the status and the JSON answer
    /// (`null` when the answer is not JSON).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Value,
    ) -> (StatusCode, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(key)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// [`Self::call`], asserting a 2xx answer; the JSON answer.
    pub async fn call_ok(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: Value,
    ) -> Value {
        let (status, answer) = self.call(method.clone(), path, key, body).await;
        assert!(status.is_success(), "{method} {path}: {status} {answer}");
        answer
    }

    /// The id of `cid`'s live offer to `aid` as this node lists it, once it does
    /// (waiting up to `within`).
    pub async fn offer_of(&self, aid: &str, cid: &str, within: std::time::Duration) -> String {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let offers = self.get(&format!("/v1/agents/{aid}/offers")).await;
            let found = offers["offers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["conversation"] == cid)
                .map(|o| o["offer_id"].as_str().unwrap().to_owned());
            if let Some(offer) = found {
                return offer;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{} lists no offer of {cid} to {aid}",
                self.base
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// GETs JSON with the admin key, asserting 200.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(ADMIN_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.unwrap()
    }

    /// Every event of a conversation, paging with `after`.
    pub async fn events(&self, cid: &str) -> Vec<Value> {
        let mut all: Vec<Value> = Vec::new();
        loop {
            let after = all.last().map_or(0, |e| e["seq"].as_u64().unwrap());
            let page = self
                .get(&format!(
                    "/v1/conversations/{cid}/events?after={after}&limit=10000"
                ))
                .await;
            let page = page["events"].as_array().unwrap().clone();
            if page.is_empty() {
                return all;
            }
            all.extend(page);
        }
    }

    /// The server's process id, for sending it signals.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap()
    }

    /// SIGKILL (what `Child::kill` sends on Unix), asserting the process died of it.
    pub async fn kill9(mut self) {
        self.child.start_kill().unwrap();
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .expect("the server dies")
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::process::ExitStatusExt;
            assert_eq!(status.signal(), Some(9), "{status:?}");
        }
        #[cfg(not(unix))]
        assert!(!status.success());
    }
}

/// Runs `baton ARGS...` to completion.
pub async fn run(args: &[&str], data: &Path) -> Output {
    run_with_env(args, data, &[]).await
}

/// Runs `baton ARGS...` to completion with environment variables set.
pub async fn run_with_env(args: &[&str], data: &Path, env: &[(&str, &str)]) -> Output {
    let output = baton()
        .envs(env.iter().copied())
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .stdin(Stdio::null())
        .output();
    tokio::time::timeout(WAIT, output)
        .await
        .expect("baton exits")
        .unwrap()
}

/// Whether any file under `dir`, at any depth (the WAL included), holds `needle` in its
/// raw bytes.
pub fn holds(dir: &Path, needle: &[u8]) -> bool {
    std::fs::read_dir(dir).unwrap().flatten().any(|entry| {
        let path = entry.path();
        if path.is_dir() {
            return holds(&path, needle);
        }
        std::fs::read(&path)
            .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            .unwrap_or(false)
    })
}

/// A shell command (for `--master-key-command`) that prints the file at `path`.
pub fn cat(path: &Path) -> String {
    format!("cat '{}'", path.display())
}

/// A fresh root with `data/` (the store) and room for logs beside it.
pub fn workspace() -> (tempfile::TempDir, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    (root, data)
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
