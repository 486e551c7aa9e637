//! The application: shared state, construction, and `serve` with graceful shutdown.

use std::future::Future;
use std::sync::{Arc, RwLock};

use baton_core::facts::FactExtractor;
use baton_core::policy::Policy;

use baton_store::{Role, Store};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::auth::{KeyCache, generate_key_id, hash_key, issue_key};
use crate::derive::Derive;
use crate::error::ApiError;
use crate::fanout::Fanout;
use crate::live::Conversations;
use crate::package::ExtractorSlot;

/// Settings the server is built with.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The bootstrap admin key (`BATON_ADMIN_KEY`); generated when absent and no admin exists.
    pub admin_key: Option<String>,
    /// Largest request body, in bytes.
    pub max_body_bytes: usize,
    /// The decision policy at start-up.
    pub policy: Policy,
    /// Routing: offer timeout, sticky window, ageing...
    pub router: baton_core::router::RouterConfig,
    /// Wait after which required skills relax to the policy's fallback skills (0: never).
    pub overflow_after_ms: i64,
    /// How long a console session lasts from sign-in, whatever happens.
    pub session_ttl: std::time::Duration,
    /// Whether to believe `X-Forwarded-For` and `X-Forwarded-Proto` (only behind a
    /// proxy that sets them; otherwise any client could claim any address).
    pub trust_proxy_headers: bool,
    /// Failed authentications allowed per client address.
    pub auth_failure_limit: crate::limit::FailureLimit,
    /// How many conversations stay in memory, and for how long once idle.
    pub live: crate::live::LiveLimits,
    /// Where "now" comes from (the system; a manual clock in tests).
    pub clock: crate::clock::Clock,
    /// Webhook deliveries: timeouts, lease, retry schedule.
    pub webhooks: crate::webhooks::WebhookConfig,
    /// The master key: with one, customer data is encrypted at rest (the sealed form);
    /// without, events are stored as sent, and a store holding encrypted data is refused.
    pub master_key: Option<baton_core::seal::MasterKey>,
    /// Erase resolved conversations this long after they closed (`None`: keep them).
    pub retention: Option<crate::retention::Retention>,
    /// Whether reads of customer data are recorded in the access log (on unless a
    /// benchmark measures its cost).
    pub access_log: bool,
    /// Several nodes on one store: node id, notifications, catch-up polling.
    pub cluster: crate::cluster::ClusterConfig,
}

/// The shortest `BATON_ADMIN_KEY` accepted: as long as a generated key's 128 bits in
/// hex, so the one human-chosen key is not the weakest.
pub const MIN_ADMIN_KEY_LEN: usize = 32;

impl Default for AppConfig {
    fn default() -> Self {
        Self {
            admin_key: None,
            max_body_bytes: 1024 * 1024,
            policy: Policy::default(),
            router: baton_core::router::RouterConfig::default(),
            overflow_after_ms: 120_000,
            session_ttl: std::time::Duration::from_secs(12 * 3600),
            trust_proxy_headers: false,
            auth_failure_limit: crate::limit::FailureLimit::default(),
            live: crate::live::LiveLimits::default(),
            clock: crate::clock::Clock::System,
            webhooks: crate::webhooks::WebhookConfig::default(),
            master_key: None,
            retention: None,
            access_log: true,
            cluster: crate::cluster::ClusterConfig::default(),
        }
    }
}

/// Everything a handler can reach.
pub struct AppInner {
    /// The storage engine as handlers read it: events come back decrypted (through
    /// [`crate::unseal::Unsealing`] when encryption is on).
    pub store: Arc<dyn Store>,
    /// The engine itself: events in their stored (sealed) form, for `?view=sealed`.
    pub raw_store: Arc<dyn Store>,
    /// The keys, when encryption is on.
    pub vault: Option<Arc<crate::vault::Vault>>,
    /// Settings.
    pub config: AppConfig,
    /// Known API keys.
    pub keys: KeyCache,
    /// Failed authentications per client address.
    pub auth_failures: crate::limit::AuthFailures,
    /// Conversations in memory.
    pub conversations: Conversations,
    /// Live subscribers.
    pub fanout: Fanout,
    /// Wakes global feed streams on each commit.
    pub feed: crate::feed::FeedSignal,
    /// Webhook subscriptions and the delivery worker's wake-up.
    pub webhooks: crate::webhooks::Webhooks,
    /// Domain engines consulted on append.
    pub derive: Derive,
    /// The router and forecaster.
    pub routing: crate::routing::Routing,
    /// Whether this node's router decides (leads the nodes sharing the store).
    pub leader: crate::leader::Leader,
    /// Prometheus exposition.
    pub metrics: PrometheusHandle,
    /// Every server read of the time goes through this.
    pub clock: crate::clock::Clock,
    /// Records who read which customer data.
    pub access: crate::access_log::AccessLog,
    /// This node among others: its id and notification link.
    pub cluster: crate::cluster::Cluster,
    /// The decision policy in force (swapped whole on reload).
    policy: RwLock<Arc<Policy>>,
    /// The fact extractor compiled from it, swapped with it.
    extractor: Arc<ExtractorSlot>,
}

impl AppInner {
    /// The policy in force.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy
            .read()
            .map(|p| Arc::clone(&p))
            .unwrap_or_else(|poisoned| Arc::clone(&poisoned.into_inner()))
    }

    /// The fact extractor of the policy in force (its `[facts]` patterns).
    pub fn extractor(&self) -> Result<Arc<FactExtractor>, ApiError> {
        self.extractor.get()
    }

    /// Replaces the policy and its fact extractor; requests in flight finish with the
    /// ones they started with. Facts already read from a conversation stay as read.
    pub fn set_policy(&self, policy: Policy) {
        // A loaded policy's patterns compile (it was validated); should they not, the
        // old extractor stays rather than none.
        if let Err(e) = self.extractor.set_from(&policy) {
            tracing::error!(error = %e, "policy [facts] do not compile; keeping the old patterns");
        }
        let mut slot = self
            .policy
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Arc::new(policy);
    }
}

/// Cheap-to-clone handle on [`AppInner`].
#[derive(Clone)]
pub struct AppState(pub Arc<AppInner>);

impl std::ops::Deref for AppState {
    type Target = AppInner;
    fn deref(&self) -> &AppInner {
        &self.0
    }
}

/// What start-up did about the admin key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// `BATON_ADMIN_KEY` was given and is registered.
    FromEnvironment,
    /// No admin existed: this key was generated; show it once.
    Generated(String),
    /// An admin key already exists.
    Existing,
}

impl AppState {
    /// Builds the state over a store, registering the bootstrap admin key.
    pub async fn new(
        store: Arc<dyn Store>,
        config: AppConfig,
    ) -> Result<(Self, AdminBootstrap), ApiError> {
        let clock = config.clock.clone();
        let now = clock.now();
        // Keys are checked before anything is written: a wrong or missing master key
        // stops the start with nothing changed.
        let raw_store = Arc::clone(&store);
        let vault = match config.master_key.clone() {
            Some(master) => Some(Arc::new(
                crate::vault::Vault::open_store(master, Arc::clone(&store)).await?,
            )),
            None => {
                crate::vault::Vault::refuse_without_master(store.as_ref()).await?;
                None
            }
        };
        let store: Arc<dyn Store> = match &vault {
            Some(vault) => Arc::new(crate::unseal::Unsealing::new(store, Arc::clone(vault))),
            None => store,
        };
        let bootstrap = match &config.admin_key {
            Some(key) => {
                let length = key.chars().count();
                if length < MIN_ADMIN_KEY_LEN {
                    return Err(ApiError::invalid(
                        "admin_key_too_short",
                        format!(
                            "BATON_ADMIN_KEY is {length} characters; it must be at least {MIN_ADMIN_KEY_LEN} (e.g. `openssl rand -hex 32`)"
                        ),
                    ));
                }
                if store.find_key(&hash_key(key)).await?.is_none() {
                    store
                        .insert_key(baton_store::KeyRecord {
                            id: generate_key_id(),
                            hash: hash_key(key),
                            role: Role::Admin,
                            agent: None,
                            name: baton_core::Label::parse("BATON_ADMIN_KEY").ok(),
                            created_at: now,
                            expires_at: None,
                            revoked_at: None,
                        })
                        .await?;
                }
                AdminBootstrap::FromEnvironment
            }
            None if store.admin_key_count(now).await? == 0 => {
                AdminBootstrap::Generated(issue_key(store.as_ref(), Role::Admin, None, now).await?)
            }
            None => AdminBootstrap::Existing,
        };
        let extractor = Arc::new(ExtractorSlot::for_policy(&config.policy)?);
        let policy = RwLock::new(Arc::new(config.policy.clone()));
        let router_config = crate::routing::router_config(
            &config.router,
            &config.policy.fallback_skills,
            config.overflow_after_ms,
        );
        let routing = crate::routing::Routing::new(router_config, now)
            .map_err(|e| ApiError::internal(format!("router: {e}")))?;
        let auth_failures = crate::limit::AuthFailures::new(config.auth_failure_limit);
        let limits = config.live;
        let webhooks =
            crate::webhooks::Webhooks::load(store.as_ref(), config.webhooks.clone()).await?;
        let access = crate::access_log::AccessLog::start(
            Arc::clone(&store),
            clock.clone(),
            config.access_log,
        );
        let notifier = match &config.cluster.nats {
            Some(nats) => Some(
                crate::cluster::notify::Notifier::connect(nats)
                    .await
                    .map_err(|e| ApiError::unavailable("nats_unreachable", e.to_string()))?,
            ),
            None => None,
        };
        let cluster = crate::cluster::Cluster {
            node_id: config.cluster.node_id.clone(),
            notifier,
        };
        let leader = crate::leader::Leader::new(store.leadership());
        let inner = AppInner {
            leader,
            access,
            cluster,
            routing,
            store,
            raw_store,
            vault,
            config,
            policy,
            keys: KeyCache::default(),
            auth_failures,
            conversations: Conversations::new(Arc::clone(&extractor), limits, clock.clone()),
            extractor,
            fanout: Fanout::default(),
            feed: crate::feed::FeedSignal::default(),
            webhooks,
            derive: Derive::default(),
            metrics: crate::metrics::handle(),
            clock,
        };
        let state = Self(Arc::new(inner));
        crate::leader::start(&state).await?;
        crate::leader::spawn(&state);
        crate::routing::spawn_ticker(&state);
        crate::live::spawn_sweeper(&state);
        crate::webhooks::worker::spawn(&state);
        crate::retention::spawn(&state);
        crate::cluster::spawn(&state);
        Ok((state, bootstrap))
    }
}

/// Serves the API on `listener` until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = crate::router::build(state.clone());
    // The peer address is what failed sign-ins are limited by.
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    // Reads served before the shutdown are written before `serve` returns.
    state.access.flush().await;
    Ok(())
}
