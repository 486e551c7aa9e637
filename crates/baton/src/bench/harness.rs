//! What every benchmark shares: a fresh durable store (a temporary SQLite directory,
//! or a PostgreSQL schema created for the run and dropped after it), an in-process
//! server on a loopback port, keys, progress bars and percentiles.

use std::sync::Arc;

use anyhow::Context;
use baton_server::AppState;
use baton_store::postgres::{CommitMode, PgOptions, PgStore, SchemaName, Scratch};
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
    pub store: Arc<BenchStore>,
}

/// Which engine a benchmark runs on.
#[derive(Debug, Clone, clap::Args)]
pub struct EngineArgs {
    /// A `postgres://` URL: run on PostgreSQL, in a schema created for the run and
    /// dropped after it (the embedded SQLite store in a temporary directory without).
    #[arg(long)]
    pub database_url: Option<String>,
    /// PostgreSQL connections.
    #[arg(long, default_value_t = 16)]
    pub database_pool_size: u32,
    /// PostgreSQL append transactions in flight at once (0: one transaction per
    /// append, PostgreSQL's own group commit alone).
    #[arg(long, default_value_t = 2)]
    pub database_writers: usize,
    /// Encryption at rest (a random master key per run). Off by default here, so
    /// figures stay comparable with earlier sessions; `on` measures its cost.
    #[arg(long, value_enum, default_value = "off")]
    pub encryption: crate::cli::Encryption,
}

impl EngineArgs {
    /// The embedded store (benchmarks without an engine choice).
    pub fn embedded() -> Self {
        Self {
            database_url: None,
            database_pool_size: 16,
            database_writers: 2,
            encryption: crate::cli::Encryption::Off,
        }
    }
}

/// Commits so far and the appends that shared them, whichever the engine.
#[derive(Debug, Clone, Copy, Default)]
pub struct Commits {
    /// Transactions committed.
    pub commits: u64,
    /// Appends in them.
    pub appends: u64,
    /// Events in those appends.
    pub events: u64,
    /// Time the one writer was busy, on an engine that has one (SQLite).
    pub writer_busy_ns: Option<u64>,
}

/// The store a benchmark runs on, and what it lives in.
pub enum BenchStore {
    /// Embedded, in a temporary directory (deleted with the value).
    Sqlite {
        /// The store.
        store: Arc<SqliteStore>,
        /// Its directory.
        _dir: tempfile::TempDir,
    },
    /// PostgreSQL, in a schema of the run's own.
    Postgres(Arc<PgStore>, Box<Scratch>),
}

impl BenchStore {
    /// A fresh store on the engine `args` names.
    pub async fn open(args: &EngineArgs) -> anyhow::Result<Self> {
        let Some(url) = &args.database_url else {
            let dir = tempfile::tempdir().context("cannot create a temporary directory")?;
            let store = Arc::new(SqliteStore::open(dir.path())?);
            return Ok(Self::Sqlite { store, _dir: dir });
        };
        let name = SchemaName::random("baton_bench", rand::random())?;
        let scratch = Scratch::create(url, name)
            .await
            .context("cannot create the benchmark's schema")?;
        let options = PgOptions {
            pool_size: args.database_pool_size.max(1),
            commit: match args.database_writers {
                0 => CommitMode::PerAppend,
                writers => CommitMode::Batched { writers },
            },
        };
        match PgStore::open(scratch.connect_options(), options).await {
            Ok(store) => Ok(Self::Postgres(Arc::new(store), Box::new(scratch))),
            Err(error) => {
                let _ = scratch.drop_schema().await;
                Err(error.into())
            }
        }
    }

    /// The store, as the server sees it.
    pub fn dyn_store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite { store, .. } => store.clone(),
            Self::Postgres(store, _) => store.clone(),
        }
    }

    /// Commits so far.
    pub fn stats(&self) -> Commits {
        match self {
            Self::Sqlite { store, .. } => {
                let stats = store.stats();
                Commits {
                    commits: stats.commits,
                    appends: stats.appends,
                    events: stats.events,
                    writer_busy_ns: Some(stats.busy_ns),
                }
            }
            Self::Postgres(store, _) => {
                let stats = store.stats();
                Commits {
                    commits: stats.commits,
                    appends: stats.appends,
                    events: stats.events,
                    writer_busy_ns: None,
                }
            }
        }
    }

    /// Bytes the store takes.
    pub async fn disk_bytes(&self) -> anyhow::Result<u64> {
        Ok(self.dyn_store().disk_bytes().await?)
    }

    /// Drops a PostgreSQL run's schema (a temporary directory goes on drop).
    pub async fn clean_up(&self) -> anyhow::Result<()> {
        if let Self::Postgres(store, scratch) = self {
            store.close().await;
            scratch
                .drop_schema()
                .await
                .context("cannot drop the benchmark's schema")?;
        }
        Ok(())
    }
}

impl BenchServer {
    /// Starts one on the engine `engine` names.
    pub async fn start(engine: &EngineArgs) -> anyhow::Result<Self> {
        Self::start_with(engine, baton_server::AppConfig::default()).await
    }

    /// Starts one on the engine `engine` names, with `config`.
    pub async fn start_with(
        engine: &EngineArgs,
        config: baton_server::AppConfig,
    ) -> anyhow::Result<Self> {
        let store = Arc::new(BenchStore::open(engine).await?);
        let dyn_store = store.dyn_store();
        let master_key = (engine.encryption == crate::cli::Encryption::On).then(|| {
            let mut bytes = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
            baton_core::seal::MasterKey::from_bytes(bytes)
        });
        let config = baton_server::AppConfig {
            master_key,
            ..config
        };
        let (state, _) = AppState::new(dyn_store.clone(), config)
            .await
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let bot_key = baton_server::auth::issue_key(
            dyn_store.as_ref(),
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
        })
    }

    /// An HTTP client with a connection pool big enough for `concurrency`.
    pub fn client(&self, concurrency: usize) -> anyhow::Result<reqwest::Client> {
        Ok(baton_server::http_client::builder()
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
