//! `baton serve`: open the store, bootstrap the admin key, listen, shut down cleanly.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use baton_core::policy::Policy;
use baton_server::{AdminBootstrap, AppConfig, AppState};
use baton_store::Store;
use baton_store::postgres::{CommitMode, PgOptions, PgStore};
use baton_store::sqlite::SqliteStore;
use tokio::net::TcpListener;

use crate::cli::{ServeArgs, StoreArgs};

/// Opens the store the arguments name: PostgreSQL for a `postgres://` URL, else the
/// embedded SQLite store in the data directory.
pub async fn open_store(args: &StoreArgs) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &args.database_url {
        let options = postgres_options(args, url)?;
        let store = PgStore::connect(url, options)
            .await
            .context("cannot open the PostgreSQL store")?;
        return Ok(Arc::new(store));
    }
    let store = SqliteStore::open(&args.data_dir)
        .with_context(|| format!("cannot open the store in {}", args.data_dir.display()))?;
    Ok(Arc::new(store))
}

/// The PostgreSQL settings the arguments name, once `url` is known to be one.
pub fn postgres_options(args: &StoreArgs, url: &str) -> anyhow::Result<PgOptions> {
    anyhow::ensure!(
        url.starts_with("postgres://") || url.starts_with("postgresql://"),
        "--database-url must be a postgres:// URL"
    );
    anyhow::ensure!(
        args.database_pool_size >= 1,
        "--database-pool-size must be at least 1"
    );
    anyhow::ensure!(
        args.database_writers >= 1 && args.database_writers < args.database_pool_size as usize,
        "--database-writers must be at least 1 and below --database-pool-size"
    );
    Ok(PgOptions {
        pool_size: args.database_pool_size,
        commit: CommitMode::Batched {
            writers: args.database_writers,
        },
    })
}

/// Logs go to stderr; stdout carries only what scripts read.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Reads and validates a policy file.
pub fn load_policy(path: &Path) -> anyhow::Result<Policy> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Policy::from_toml_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// The cluster settings the arguments name: a node id (the host name by default),
/// NATS only beside PostgreSQL, and store polling whenever the store is shared.
pub fn cluster_config(args: &ServeArgs) -> anyhow::Result<baton_server::cluster::ClusterConfig> {
    let node_id = match &args.node_id {
        Some(id) => id.trim().to_owned(),
        None => host_name(),
    };
    anyhow::ensure!(
        !node_id.is_empty() && node_id.len() <= 64 && node_id.chars().all(|c| c.is_ascii_graphic()),
        "--node-id must be 1 to 64 printable ASCII characters without spaces"
    );
    let shared = args.store.database_url.is_some();
    let nats = match &args.nats_url {
        Some(url) => {
            anyhow::ensure!(
                shared,
                "--nats-url needs --database-url: nodes share a PostgreSQL database, not an embedded SQLite store"
            );
            anyhow::ensure!(
                url.starts_with("nats://") || url.starts_with("tls://"),
                "--nats-url must be a nats:// URL"
            );
            anyhow::ensure!(
                !args.nats_stream.is_empty()
                    && args
                        .nats_stream
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'),
                "--nats-stream must be letters, digits, '_' or '-'"
            );
            Some(baton_server::cluster::notify::NatsConfig {
                url: url.clone(),
                stream: args.nats_stream.clone(),
            })
        }
        None => None,
    };
    Ok(baton_server::cluster::ClusterConfig {
        node_id,
        nats,
        // Another node may write a shared store: look for what it wrote now and then,
        // beneath the notifications.
        poll: shared.then(|| std::time::Duration::from_secs(1)),
    })
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "baton".to_owned())
}

/// Builds the app over a store with the environment's settings: `BATON_ADMIN_KEY` (at
/// least 32 characters), `BATON_SESSION_TTL_SECS` (console sessions, default 12 h),
/// `BATON_TRUST_PROXY_HEADERS=1` (believe `X-Forwarded-For`/`-Proto`; off by default),
/// `BATON_PUBLIC_URL` (the base of `package_url` in webhook payloads) and
/// `BATON_WEBHOOK_TIMEOUT_SECS` (one delivery try, default 10 s; the lease that
/// reserves a delivery for its worker is 1.5 times it plus a second) and
/// `BATON_WEBHOOK_CA_FILE` (PEM certificates trusted for `https` receivers besides the
/// system's roots).
pub async fn build_state(
    store: Arc<dyn Store>,
    policy: Policy,
) -> anyhow::Result<(AppState, AdminBootstrap)> {
    build_state_with(store, policy, AppConfig::default()).await
}

/// [`build_state`] over `defaults` (master key, retention, cluster) instead of the
/// built-in ones.
pub async fn build_state_with(
    store: Arc<dyn Store>,
    policy: Policy,
    defaults: AppConfig,
) -> anyhow::Result<(AppState, AdminBootstrap)> {
    let session_ttl = match std::env::var("BATON_SESSION_TTL_SECS") {
        Ok(raw) => std::time::Duration::from_secs(
            raw.trim()
                .parse::<u64>()
                .ok()
                .filter(|secs| *secs > 0)
                .with_context(|| {
                    format!(
                        "BATON_SESSION_TTL_SECS must be a positive number of seconds, not {raw:?}"
                    )
                })?,
        ),
        Err(_) => defaults.session_ttl,
    };
    let trust_proxy_headers = match std::env::var("BATON_TRUST_PROXY_HEADERS").as_deref() {
        Ok("1" | "true") => true,
        Ok("0" | "false" | "") | Err(_) => false,
        Ok(other) => anyhow::bail!("BATON_TRUST_PROXY_HEADERS must be 1 or 0, not {other:?}"),
    };
    let mut webhooks = defaults.webhooks.clone();
    webhooks.public_url = std::env::var("BATON_PUBLIC_URL")
        .ok()
        .filter(|u| !u.is_empty());
    if let Ok(raw) = std::env::var("BATON_WEBHOOK_TIMEOUT_SECS") {
        let secs = raw
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|secs| (1..=300).contains(secs))
            .with_context(|| {
                format!("BATON_WEBHOOK_TIMEOUT_SECS must be 1 to 300 seconds, not {raw:?}")
            })?;
        webhooks.timeout = std::time::Duration::from_secs(secs);
        webhooks.lease = std::time::Duration::from_millis(secs * 1500 + 1000);
    }
    if let Ok(path) = std::env::var("BATON_WEBHOOK_CA_FILE") {
        let pem = std::fs::read(&path)
            .with_context(|| format!("BATON_WEBHOOK_CA_FILE: cannot read {path}"))?;
        webhooks.extra_roots = reqwest::Certificate::from_pem_bundle(&pem)
            .with_context(|| format!("BATON_WEBHOOK_CA_FILE: {path} is not a PEM bundle"))?;
        anyhow::ensure!(
            !webhooks.extra_roots.is_empty(),
            "BATON_WEBHOOK_CA_FILE: {path} holds no certificate"
        );
    }
    let config = AppConfig {
        webhooks,
        admin_key: std::env::var("BATON_ADMIN_KEY")
            .ok()
            .filter(|k| !k.is_empty()),
        policy,
        session_ttl,
        trust_proxy_headers,
        ..defaults
    };
    AppState::new(store, config)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start: {}", e.message))
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; draining in-flight requests");
}

/// `baton serve`.
pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let policy = match &args.policy {
        Some(path) => load_policy(path)?,
        None => Policy::default(),
    };
    let cluster = cluster_config(&args)?;
    baton_server::metrics::set_node(&cluster.node_id);
    let node = cluster.node_id.clone();
    let nats = cluster.nats.is_some();
    let (store, master_key) = crate::keys::open_with_key(&args.keys, &args.store).await?;
    let defaults = AppConfig {
        master_key,
        retention: args
            .retention_closed_after_days
            .map(|closed_after_days| baton_server::retention::Retention { closed_after_days }),
        cluster,
        ..AppConfig::default()
    };
    let (state, bootstrap) = build_state_with(store, policy, defaults).await?;
    if let Some(path) = args.policy.clone() {
        reload_on_sighup(state.clone(), path);
    }
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    announce(addr, &bootstrap);
    match &args.store.database_url {
        Some(_) => tracing::info!(%addr, %node, engine = "postgres", nats, "baton serving"),
        None => {
            tracing::info!(%addr, %node, engine = "sqlite", data_dir = %args.store.data_dir.display(), "baton serving")
        }
    }
    baton_server::serve(listener, state, shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

/// Re-reads the policy on SIGHUP. A bad file is logged and the old policy stays.
///
/// The handler is installed before this returns, so before the server announces
/// itself: a SIGHUP sent to a listening server never meets the default action
/// (terminate).
fn reload_on_sighup(state: AppState, path: PathBuf) {
    #[cfg(unix)]
    {
        let Ok(mut hangups) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        else {
            tracing::warn!("cannot listen for SIGHUP; policy reload disabled");
            return;
        };
        tokio::spawn(async move { reload_loop(&mut hangups, &state, &path).await });
    }
    #[cfg(not(unix))]
    let _ = (state, path);
}

/// Applies the policy file on each SIGHUP; a file that does not load is logged and
/// changes nothing.
#[cfg(unix)]
async fn reload_loop(hangups: &mut tokio::signal::unix::Signal, state: &AppState, path: &Path) {
    while hangups.recv().await.is_some() {
        match load_policy(path) {
            Ok(policy) => {
                let label = format!("{}@{}", policy.name, policy.version);
                state.set_policy(policy);
                tracing::info!(policy = %label, "policy reloaded");
            }
            Err(error) => {
                tracing::error!(%error, "policy reload refused; keeping the current policy")
            }
        }
    }
}

/// The stdout contract: first line `listening on http://ADDR`; a generated admin key next.
pub fn announce(addr: std::net::SocketAddr, bootstrap: &AdminBootstrap) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "listening on http://{addr}");
    if let AdminBootstrap::Generated(key) = bootstrap {
        let _ = writeln!(out, "admin key (shown once, store it now): {key}");
    }
    let _ = out.flush();
}
