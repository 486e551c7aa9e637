//! The BOLA matrix's fixture: the cells to call, the keys and sessions that call them,
//! the shared objects every refusal is tried on, and one object of its own for each
//! cell that succeeds on a route that changes its object.

use std::fmt;

use baton_core::router::RouterConfig;
use baton_server::AppConfig;
use baton_server::limit::FailureLimit;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::{Object, On, ROLES, ROUTES, Route, SESSIONS};
use crate::helpers::{ConsoleSession, TestApp, eventually};

/// Failed authentications are most of the no-key and revoked-key cells: the limit
/// must not turn them into 429s. Offers must outlive the test.
pub fn config() -> AppConfig {
    AppConfig {
        auth_failure_limit: FailureLimit {
            burst: 1_000_000,
            refill: std::time::Duration::from_millis(1),
        },
        router: RouterConfig {
            offer_timeout_ms: 3_600_000,
            ..RouterConfig::default()
        },
        // Encrypted, so erasure (which destroys a data key) has a key to destroy.
        master_key: Some(baton_core::seal::MasterKey::from_bytes([3; 32])),
        ..AppConfig::default()
    }
}

/// How a cell authenticates: a column of [`ROLES`] or of [`SESSIONS`].
#[derive(Debug, Clone, Copy)]
pub enum Caller {
    /// With a bearer key.
    Bearer(usize),
    /// With a console session's cookie.
    Session(usize),
}

impl fmt::Display for Caller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Caller::Bearer(role) => write!(f, "{} (bearer)", ROLES[*role]),
            Caller::Session(session) => write!(f, "{} (session)", SESSIONS[*session]),
        }
    }
}

/// One call and the status documented for it.
pub struct Cell {
    /// The route.
    pub route: &'static Route,
    /// Who calls.
    pub caller: Caller,
    /// On what.
    pub object: Object,
    /// The documented status.
    pub expected: u16,
}

impl Cell {
    /// A success that changes its object: it needs an object of its own.
    fn needs_own(&self) -> bool {
        self.route.fresh
            && (200..300).contains(&self.expected)
            && matches!(self.object, Object::OfA | Object::OfB)
    }
}

/// Every cell of the matrix, bearer keys first.
pub fn plan() -> Vec<Cell> {
    let mut cells = Vec::new();
    for route in ROUTES {
        let objects = route.on.objects();
        for role in 0..ROLES.len() {
            for (object, expected) in objects.iter().zip(route.bearer(role)) {
                cells.push(Cell {
                    route,
                    caller: Caller::Bearer(role),
                    object: *object,
                    expected,
                });
            }
        }
    }
    for route in ROUTES {
        let objects = route.on.objects();
        for session in 0..SESSIONS.len() {
            for (object, expected) in objects.iter().zip(route.session(session)) {
                cells.push(Cell {
                    route,
                    caller: Caller::Session(session),
                    object: *object,
                    expected,
                });
            }
        }
    }
    cells
}

/// Agent A's and agent B's: ids, skills, and their conversations and offers.
const AGENTS: [&str; 2] = ["ana", "ben"];
const SKILLS: [&str; 2] = ["sk-a", "sk-b"];

/// Objects handed out to cells, one each.
#[derive(Default)]
struct Pool {
    assigned: [Vec<String>; 2],
    offers: [Vec<String>; 2],
    keys: Vec<String>,
    webhooks: Vec<String>,
}

/// The keys, sessions and objects the cells run with.
pub struct Objects {
    bearer: Vec<Option<String>>,
    sessions: Vec<(ConsoleSession, bool)>,
    /// Shared: a conversation assigned to each agent.
    assigned: [String; 2],
    /// Shared: an offer made to each agent, and its conversation.
    offers: [(String, String); 2],
    /// Shared: a key a refused revocation must leave working.
    victim_key: String,
    /// Shared: a webhook refused calls must leave as it is.
    victim_webhook: String,
    pool: Pool,
    ghosts: u32,
}

/// What refusals must not change.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot(Vec<String>);

impl Objects {
    /// Issues the keys, opens the sessions, and creates the shared objects plus one
    /// of its own for every cell that needs it.
    pub async fn create(app: &TestApp, cells: &[Cell]) -> Self {
        let mut wanted = Pool::default();
        for cell in cells.iter().filter(|c| c.needs_own()) {
            let side = usize::from(cell.object == Object::OfB);
            match cell.route.on {
                On::Conversation => wanted.assigned[side].push(String::new()),
                On::Offer => wanted.offers[side].push(String::new()),
                On::Key => wanted.keys.push(String::new()),
                On::Webhook => wanted.webhooks.push(String::new()),
                On::Nothing | On::Agent => {}
            }
        }
        let ana = app.key("agent", Some("ana")).await;
        let ben = app.key("agent", Some("ben")).await;
        let supervisor = app.key("supervisor", None).await;
        let bot = app.key("bot", None).await;
        let revoked = revoked_key(app, "supervisor", None).await;
        let bearer = vec![
            Some(bot.clone()),
            Some(ana.clone()),
            Some(ben.clone()),
            Some(supervisor.clone()),
            Some(app.key("auditor", None).await),
            Some(app.admin_key.clone()),
            None,
            Some(revoked),
        ];
        for role in ["bot", "auditor"] {
            let key = app.key(role, None).await;
            let (status, body) = app
                .post("/console/session", &json!({"key": key}), None)
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{role} signs in: {body}");
        }
        let agent_a = app.sign_in(&ana).await;
        let made_up = ConsoleSession {
            cookie: format!("baton_session={}", "5".repeat(64)),
            csrf: "0".repeat(64),
        };
        let ended = {
            let key = issue(app, "agent", Some("ana")).await;
            let session = app.sign_in(&key.1).await;
            revoke(app, &key.0).await;
            session
        };
        let sessions = vec![
            (agent_a.clone(), true),
            (app.sign_in(&ben).await, true),
            (app.sign_in(&supervisor).await, true),
            (app.sign_in(&app.admin_key).await, true),
            (agent_a, false),
            (made_up, true),
            (ended, true),
        ];

        for (agent, skill) in AGENTS.iter().zip(SKILLS) {
            app.available_agent(agent, json!({ skill: 3 }), 100).await;
        }
        // Hand everything off first, then wait for the offers together.
        let mut convs: [Vec<String>; 2] = Default::default();
        for side in 0..2 {
            let assigned = 1 + wanted.assigned[side].len();
            let offered = 1 + wanted.offers[side].len();
            for i in 0..assigned + offered {
                let cid = format!("bola-{}-{i}", AGENTS[side]);
                app.hand_off(&cid, &bot, &[SKILLS[side]], "normal").await;
                convs[side].push(cid);
            }
        }
        let mut pool = Pool::default();
        let mut assigned: [String; 2] = Default::default();
        let mut offers: [(String, String); 2] = Default::default();
        let agent_keys = [&ana, &ben];
        for side in 0..2 {
            let offer_ids = all_offered(app, AGENTS[side], &convs[side]).await;
            let mut both = convs[side].iter().cloned().zip(offer_ids);
            let (cid, offer) = both.next().unwrap();
            accept(app, &offer, agent_keys[side]).await;
            assigned[side] = cid;
            for _ in 0..wanted.assigned[side].len() {
                let (cid, offer) = both.next().unwrap();
                accept(app, &offer, agent_keys[side]).await;
                pool.assigned[side].push(cid);
            }
            let (cid, offer) = both.next().unwrap();
            offers[side] = (offer, cid);
            pool.offers[side] = both.map(|(_, offer)| offer).collect();
        }
        for _ in 0..wanted.keys.len() {
            pool.keys.push(issue(app, "bot", None).await.0);
        }
        for _ in 0..wanted.webhooks.len() {
            pool.webhooks.push(subscribe(app).await);
        }
        Self {
            bearer,
            sessions,
            assigned,
            offers,
            victim_key: issue(app, "bot", None).await.0,
            victim_webhook: subscribe(app).await,
            pool,
            ghosts: 0,
        }
    }

    /// Calls `cell`: its status, the path called and the start of the body.
    pub async fn call(&mut self, app: &TestApp, cell: &Cell) -> (u16, String, String) {
        let (method, template) = cell.route.method_and_path();
        let (placeholder, object, skill) = self.object_for(cell);
        let rating = match cell.caller {
            Caller::Bearer(0) => "csat",
            _ => "lsat",
        };
        let path = template.replace(placeholder, &object);
        let mut request = app.client.request(method.clone(), app.url(&path));
        match cell.caller {
            Caller::Bearer(role) => {
                if let Some(key) = &self.bearer[role] {
                    request = request.bearer_auth(key);
                }
            }
            Caller::Session(session) => {
                let (session, with_csrf) = &self.sessions[session];
                request = request.header("cookie", &session.cookie);
                if *with_csrf && !method.is_safe() {
                    request = request.header("x-csrf-token", &session.csrf);
                }
            }
        }
        if let Some(body) = cell.route.body {
            request = request
                .header("content-type", "application/json")
                .body(body.replace("{skill}", skill).replace("{rating}", rating));
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let streaming = response
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        // A stream never ends by itself: its status is the answer.
        let body = if streaming {
            String::from("(event stream)")
        } else {
            let text = response.text().await.unwrap();
            text.chars().take(160).collect()
        };
        (status, path, body)
    }

    /// The placeholder, the object standing in for it, and that object's skill.
    fn object_for(&mut self, cell: &Cell) -> (&'static str, String, &'static str) {
        let own = cell.needs_own();
        let side = usize::from(cell.object == Object::OfB);
        let skill = match cell.object {
            Object::OfA | Object::OfB => SKILLS[side],
            Object::Only | Object::Missing => "sk-ghost",
        };
        if cell.object == Object::Missing {
            self.ghosts += 1;
        }
        let n = self.ghosts;
        let object = match (cell.route.on, cell.object) {
            (On::Nothing, _) => return ("", String::new(), skill),
            (On::Conversation, Object::Missing) => format!("bola-ghost-{n}"),
            (On::Agent, Object::Missing) => format!("bola-ghost-{n}"),
            (On::Offer, Object::Missing) => format!("of-bola-ghost-{n}"),
            (On::Key, Object::Missing) => format!("key_{:016x}", 0xb01a_0000_u64 + u64::from(n)),
            (On::Webhook, Object::Missing) => format!("wh_{:016x}", 0xb01a_0000_u64 + u64::from(n)),
            (On::Conversation, _) if own => pop(&mut self.pool.assigned[side]),
            (On::Conversation, _) => self.assigned[side].clone(),
            (On::Agent, _) => AGENTS[side].to_owned(),
            (On::Offer, _) if own => pop(&mut self.pool.offers[side]),
            (On::Offer, _) => self.offers[side].0.clone(),
            (On::Key, _) if own => pop(&mut self.pool.keys),
            (On::Key, _) => self.victim_key.clone(),
            (On::Webhook, _) if own => pop(&mut self.pool.webhooks),
            (On::Webhook, _) => self.victim_webhook.clone(),
        };
        let placeholder = match cell.route.on {
            On::Nothing => "",
            On::Conversation => "{cid}",
            On::Agent => "{aid}",
            On::Offer => "{oid}",
            On::Key | On::Webhook => "{id}",
        };
        (placeholder, object, skill)
    }

    /// The shared objects as an admin sees them: each conversation's last seq, owner
    /// and agent, each shared offer still live, each agent's profile and presence, the
    /// victim key unrevoked, and the victim webhook there, unrotated.
    pub async fn snapshot(&self, app: &TestApp) -> Snapshot {
        let mut lines = Vec::new();
        let conversations = self
            .assigned
            .iter()
            .chain(self.offers.iter().map(|(_, cid)| cid));
        for cid in conversations {
            let state = app.state(cid).await;
            lines.push(format!(
                "{cid}: seq {} owner {} agent {}",
                state["last_seq"], state["owner"], state["assigned_agent"]
            ));
        }
        for (side, agent) in AGENTS.iter().enumerate() {
            let view = app.agent(agent).await;
            lines.push(format!(
                "{agent}: {} {} capacity {}",
                view["presence"], view["skills"], view["capacity"]
            ));
            let offer = &self.offers[side].0;
            let live = app
                .offers_of(agent)
                .await
                .iter()
                .any(|o| o["offer_id"] == *offer);
            lines.push(format!("{agent}: offer {offer} live {live}"));
        }
        let (_, keys) = app.get("/v1/keys", Some(&app.admin_key)).await;
        let victim = keys["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == self.victim_key)
            .cloned()
            .unwrap_or(Value::Null);
        lines.push(format!("victim key revoked_at {}", victim["revoked_at"]));
        let (status, webhook) = app
            .get(
                &format!("/v1/webhooks/{}", self.victim_webhook),
                Some(&app.admin_key),
            )
            .await;
        lines.push(format!("victim webhook {status} {webhook}"));
        Snapshot(lines)
    }
}

fn pop(pool: &mut Vec<String>) -> String {
    pool.pop().expect("an object of its own for every success")
}

/// Issues a key: its public id and the key.
async fn issue(app: &TestApp, role: &str, agent: Option<&str>) -> (String, String) {
    let mut body = json!({"role": role});
    if let Some(agent) = agent {
        body["agent_id"] = json!(agent);
    }
    let (status, created) = app.post("/v1/keys", &body, Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (
        created["id"].as_str().unwrap().to_owned(),
        created["key"].as_str().unwrap().to_owned(),
    )
}

async fn revoke(app: &TestApp, id: &str) {
    let path = format!("/v1/keys/{id}");
    let (status, body) = app.call(Method::DELETE, &path, None, &app.admin_key).await;
    assert_eq!(status, StatusCode::OK, "revoke {id}: {body}");
}

/// A key that worked once and is revoked.
async fn revoked_key(app: &TestApp, role: &str, agent: Option<&str>) -> String {
    let (id, key) = issue(app, role, agent).await;
    revoke(app, &id).await;
    key
}

/// Subscribes a webhook that delivers nowhere (port 9, discard); its id.
async fn subscribe(app: &TestApp) -> String {
    let body = json!({"url": "http://127.0.0.1:9/bola", "events": ["resolved"]});
    let (status, created) = app.post("/v1/webhooks", &body, Some(&app.admin_key)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

async fn accept(app: &TestApp, offer: &str, key: &str) {
    let path = format!("/v1/offers/{offer}/accept");
    let (status, body) = app.post(&path, &json!({}), Some(key)).await;
    assert_eq!(status, StatusCode::OK, "accept {offer}: {body}");
}

/// Waits until `agent` holds an offer for each of `convs`; their offer ids, in order.
async fn all_offered(app: &TestApp, agent: &str, convs: &[String]) -> Vec<String> {
    eventually(
        &format!("offers of {} conversations to {agent}", convs.len()),
        async || {
            let offers = app.offers_of(agent).await;
            convs
                .iter()
                .map(|cid| {
                    offers
                        .iter()
                        .find(|o| o["conversation"] == *cid)
                        .map(|o| o["offer_id"].as_str().unwrap().to_owned())
                })
                .collect::<Option<Vec<_>>>()
        },
    )
    .await
}
