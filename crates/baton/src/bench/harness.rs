//! What every benchmark shares: a fresh durable store in a temporary directory, an
//! in-process server on a loopback port, keys, progress bars and percentiles.

use std::sync::Arc;

use anyhow::Context;
use baton_server::AppState;
use baton_store::sqlite::SqliteStore;
use baton_store::{Role, Store};
use indicatif::{ProgressBar, ProgressStyle};
use tokio::net::TcpListener;

/// A running in-process server over a fresh store.
pub struct BenchServer {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub base: String,
    /// The app, for in-process calls.
    pub state: AppState,
    /// A bot key.
    pub bot_key: String,
    /// The store.
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl BenchServer {
    /// Starts one.
    pub async fn start() -> anyhow::Result<Self> {
        let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
        let store = Arc::new(SqliteStore::open(dir.path())?);
        let dyn_store: Arc<dyn Store> = store.clone();
        let (state, _) = AppState::new(dyn_store, baton_server::AppConfig::default())
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let bot_key = baton_server::auth::issue_key(
            store.as_ref(),
            Role::Bot,
            None,
            baton_server::clock::Clock::System.now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.message))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let serving = state.clone();
        tokio::spawn(async move {
            baton_server::serve(listener, serving, std::future::pending()).await
        });
        Ok(Self {
            base,
            state,
            bot_key,
            store,
            _dir: dir,
        })
    }

    /// An HTTP client with a connection pool big enough for `concurrency`.
    pub fn client(&self, concurrency: usize) -> anyhow::Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .pool_max_idle_per_host(concurrency)
            .build()?)
    }
}

/// A progress bar on stderr.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{msg:>24} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}

/// The `p`-th percentile (0..=100) of unsorted samples.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    samples.sort_by(|a, b| a.total_cmp(b));
    let rank = ((p / 100.0) * (samples.len() - 1) as f64).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// Peak resident memory of this process in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    proc_status_mb("VmHWM:")
}

/// Current resident memory of this process in MiB (Linux; 0 elsewhere).
pub fn rss_mb() -> f64 {
    proc_status_mb("VmRSS:")
}

fn proc_status_mb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
