//! The BOLA matrix: every `/v1` route × every role × own and foreign objects, with a
//! bearer key and with a console session, answers the status documented in
//! `docs/security.md`. [`ROUTES`] is the one table; the doc's matrix is rendered from it
//! (a separate test fails when the two differ), and the live test calls every cell and
//! lists every wrong one at once.
//!
//! Objects: for conversations, a conversation assigned to agent A, one assigned to
//! agent B, and one that does not exist; for agents, `/v1/agents/A`, `/v1/agents/B` and
//! an unknown agent; for offers, an offer made to A, one made to B and an unknown one;
//! for keys and webhooks, one that exists and one that does not. A cell that succeeds
//! on a route that changes its object gets an object of its own; every refusal runs
//! against the shared objects, which are checked afterwards to be unchanged.
//!
//! [`ROUTES`] cannot fall behind the router: a test reads every route `router.rs`
//! declares and fails on a `/v1` route without a row (and on a row without a route);
//! the routes outside `/v1` are listed in [`OUTSIDE_V1`] with where they are tested.

mod fixture;

use reqwest::Method;

use crate::helpers::spawn_app_with;

/// Who calls with a bearer key, in the matrix's column order.
pub const ROLES: [&str; 8] = [
    "bot",
    "agent A",
    "agent B",
    "supervisor",
    "auditor",
    "admin",
    "no key",
    "revoked key",
];

/// What a route acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// Nothing in particular.
    Nothing,
    /// `{cid}`: assigned to A, assigned to B, none.
    Conversation,
    /// `{aid}`: A, B, none.
    Agent,
    /// `{oid}`: offered to A, offered to B, none.
    Offer,
    /// `{id}`: a key that exists, none.
    Key,
    /// `{id}`: a webhook that exists, none.
    Webhook,
}

/// One object a cell is called on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The route has no object.
    Only,
    /// Agent A's (or, for keys and webhooks, one that exists).
    OfA,
    /// Agent B's.
    OfB,
    /// One that does not exist.
    Missing,
}

impl On {
    /// The objects every role is tried on, in the order of a cell's statuses.
    pub fn objects(self) -> &'static [Object] {
        match self {
            On::Nothing => &[Object::Only],
            On::Key | On::Webhook => &[Object::OfA, Object::Missing],
            On::Conversation | On::Agent | On::Offer => {
                &[Object::OfA, Object::OfB, Object::Missing]
            }
        }
    }
}

/// One `/v1` route and what each role gets from it.
#[derive(Debug)]
pub struct Route {
    /// `METHOD /path` with `{cid}`, `{aid}`, `{oid}` or `{id}` for the object.
    pub call: &'static str,
    /// The JSON body sent (`{skill}` is the agent object's own skill; `{rating}` is
    /// `csat` for the bot, the customer's answer it relays, and `lsat` for everyone
    /// else, an agent's own).
    pub body: Option<&'static str>,
    /// What the placeholder names.
    pub on: On,
    /// Marked as a console route in `router.rs`: takes the session cookie too.
    pub console: bool,
    /// A call that succeeds changes its object, so each gets an object of its own.
    pub fresh: bool,
    /// Per role of [`ROLES`]: one status per object of `on` (or one for all of them).
    pub expect: [&'static str; 8],
}

const NOTE: &str = r#"{"events": [{"type": "note", "text": "bola probe"}]}"#;

/// Every `/v1` route. Rows read: bot, agent A, agent B, supervisor, auditor, admin,
/// no key, revoked key; a cell lists the status per object (A's, B's, none).
pub const ROUTES: &[Route] = &[
    Route {
        call: "POST /v1/keys",
        body: Some(r#"{"role": "bot"}"#),
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "403", "201", "401", "401"],
    },
    Route {
        call: "GET /v1/keys",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "403", "200", "401", "401"],
    },
    Route {
        call: "DELETE /v1/keys/{id}",
        body: None,
        on: On::Key,
        console: false,
        fresh: true,
        expect: ["403", "403", "403", "403", "403", "200 404", "401", "401"],
    },
    Route {
        call: "POST /v1/conversations/{cid}/events",
        body: Some(NOTE),
        on: On::Conversation,
        console: true,
        fresh: true,
        expect: [
            "200 200 200",
            "200 404 404",
            "404 200 404",
            "403",
            "403",
            "200 200 200",
            "401",
            "401",
        ],
    },
    Route {
        call: "GET /v1/conversations/{cid}/events",
        body: None,
        on: On::Conversation,
        console: false,
        fresh: false,
        expect: READ_CONVERSATION,
    },
    Route {
        call: "GET /v1/conversations/{cid}",
        body: None,
        on: On::Conversation,
        console: false,
        fresh: false,
        expect: READ_CONVERSATION,
    },
    Route {
        call: "GET /v1/conversations/{cid}/stream",
        body: None,
        on: On::Conversation,
        console: true,
        fresh: false,
        expect: READ_CONVERSATION,
    },
    Route {
        call: "GET /v1/conversations/{cid}/package",
        body: None,
        on: On::Conversation,
        console: false,
        fresh: false,
        expect: READ_CONVERSATION,
    },
    Route {
        call: "POST /v1/conversations/{cid}/bounce-back",
        body: Some(r#"{"instructions": "carry on"}"#),
        on: On::Conversation,
        console: true,
        fresh: true,
        expect: [
            "403",
            "200 404 404",
            "404 200 404",
            "403",
            "403",
            "403",
            "401",
            "401",
        ],
    },
    Route {
        call: "POST /v1/conversations/{cid}/resolve",
        body: Some(r#"{"resolution": "sorted out"}"#),
        on: On::Conversation,
        console: true,
        fresh: true,
        expect: [
            "409 409 404",
            "200 404 404",
            "404 200 404",
            "200 200 404",
            "403",
            "200 200 404",
            "401",
            "401",
        ],
    },
    Route {
        // Only the owning agent reads the package back; to another agent the
        // conversation does not exist.
        call: "POST /v1/conversations/{cid}/read-back",
        body: Some(r#"{"intent": "confirmed"}"#),
        on: On::Conversation,
        console: true,
        fresh: true,
        expect: [
            "403",
            "200 404 404",
            "404 200 404",
            "403",
            "403",
            "403",
            "401",
            "401",
        ],
    },
    Route {
        // The bot relays the customer's answers on any conversation it reads; an agent
        // rates the package of one it handled.
        call: "POST /v1/conversations/{cid}/survey",
        body: Some(r#"{"{rating}": 4}"#),
        on: On::Conversation,
        console: true,
        fresh: true,
        expect: [
            "200 200 404",
            "200 404 404",
            "404 200 404",
            "403",
            "403",
            "403",
            "401",
            "401",
        ],
    },
    Route {
        call: "GET /v1/agents",
        body: None,
        on: On::Nothing,
        console: true,
        fresh: false,
        expect: ["403", "403", "403", "200", "403", "200", "401", "401"],
    },
    Route {
        call: "GET /v1/agents/{aid}",
        body: None,
        on: On::Agent,
        console: true,
        fresh: false,
        expect: MANAGE_AGENT,
    },
    Route {
        call: "PUT /v1/agents/{aid}",
        // The agent's own profile again: a success changes nothing a later cell sees.
        body: Some(r#"{"skills": {"{skill}": 3}, "capacity": 100}"#),
        on: On::Agent,
        console: false,
        fresh: false,
        expect: [
            "403",
            "403",
            "403",
            "200 200 200",
            "403",
            "200 200 200",
            "401",
            "401",
        ],
    },
    Route {
        call: "POST /v1/agents/{aid}/presence",
        // Both agents are available already.
        body: Some(r#"{"status": "available"}"#),
        on: On::Agent,
        console: true,
        fresh: false,
        expect: MANAGE_AGENT,
    },
    Route {
        call: "GET /v1/agents/{aid}/offers",
        body: None,
        on: On::Agent,
        console: true,
        fresh: false,
        expect: [
            "403",
            "200 403 403",
            "403 200 403",
            "200 200 404",
            "403",
            "200 200 404",
            "401",
            "401",
        ],
    },
    Route {
        call: "POST /v1/offers/{oid}/accept",
        body: None,
        on: On::Offer,
        console: true,
        fresh: true,
        expect: OFFERED_AGENT,
    },
    Route {
        call: "POST /v1/offers/{oid}/reject",
        body: None,
        on: On::Offer,
        console: true,
        fresh: true,
        expect: OFFERED_AGENT,
    },
    Route {
        call: "GET /v1/queues",
        body: None,
        on: On::Nothing,
        console: true,
        fresh: false,
        expect: ["200", "403", "403", "200", "403", "200", "401", "401"],
    },
    Route {
        call: "GET /v1/conversations/{cid}/events?view=sealed",
        body: None,
        on: On::Conversation,
        console: false,
        fresh: false,
        expect: [
            "403",
            "403",
            "403",
            "403",
            "200 200 404",
            "200 200 404",
            "401",
            "401",
        ],
    },
    Route {
        call: "DELETE /v1/conversations/{cid}",
        body: Some(r#"{"reason": "bola probe"}"#),
        on: On::Conversation,
        console: false,
        fresh: true,
        expect: [
            "403",
            "403",
            "403",
            "403",
            "403",
            "200 200 404",
            "401",
            "401",
        ],
    },
    Route {
        call: "DELETE /v1/customers/bola-nobody",
        body: Some(r#"{"reason": "bola probe"}"#),
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "403", "404", "401", "401"],
    },
    Route {
        call: "GET /v1/customers/bola-nobody/export",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "404", "404", "401", "401"],
    },
    Route {
        call: "GET /v1/ledger/verify",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "200", "200", "401", "401"],
    },
    Route {
        // An agent searches only its own conversations; the list is filtered, not refused.
        call: "GET /v1/conversations",
        body: None,
        on: On::Nothing,
        console: true,
        fresh: false,
        expect: ["403", "200", "200", "200", "200", "200", "401", "401"],
    },
    Route {
        // Readable by auditors only (issue 16), not even by admins.
        call: "GET /v1/audit/access",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "200", "403", "401", "401"],
    },
    Route {
        call: "GET /v1/stats",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "200", "403", "200", "401", "401"],
    },
    Route {
        // Every role reads the feed; what it holds is filtered per conversation.
        call: "GET /v1/events",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["200", "200", "200", "200", "200", "200", "401", "401"],
    },
    Route {
        call: "GET /v1/events/stream",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["200", "200", "200", "200", "200", "200", "401", "401"],
    },
    Route {
        call: "GET /v1/webhooks",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "403", "200", "401", "401"],
    },
    Route {
        call: "POST /v1/webhooks",
        // Port 9 (discard): nothing listens, so the subscription delivers nowhere.
        body: Some(r#"{"url": "http://127.0.0.1:9/bola", "events": ["resolved"]}"#),
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "403", "403", "201", "401", "401"],
    },
    Route {
        call: "GET /v1/webhooks/{id}",
        body: None,
        on: On::Webhook,
        console: false,
        fresh: false,
        expect: ADMIN_WEBHOOK,
    },
    Route {
        call: "DELETE /v1/webhooks/{id}",
        body: None,
        on: On::Webhook,
        console: false,
        fresh: true,
        expect: ADMIN_WEBHOOK,
    },
    Route {
        // The default grace period: a rotation shows as `previous_secret_until`.
        call: "POST /v1/webhooks/{id}/rotate-secret",
        body: None,
        on: On::Webhook,
        console: false,
        fresh: true,
        expect: ADMIN_WEBHOOK,
    },
    Route {
        call: "GET /v1/webhooks/{id}/deliveries",
        body: None,
        on: On::Webhook,
        console: false,
        fresh: false,
        expect: ADMIN_WEBHOOK,
    },
    Route {
        // Resends past deliveries: the subscription itself does not change.
        call: "POST /v1/webhooks/{id}/replay",
        body: Some(r#"{"since": "2026-01-01T00:00:00Z"}"#),
        on: On::Webhook,
        console: false,
        fresh: false,
        expect: ADMIN_WEBHOOK,
    },
    Route {
        call: "GET /v1/insights/intents",
        body: None,
        on: On::Nothing,
        console: false,
        fresh: false,
        expect: ["403", "403", "403", "200", "403", "200", "401", "401"],
    },
    Route {
        // A console route: the outcomes page links to its CSV.
        call: "GET /v1/insights/outcomes",
        body: None,
        on: On::Nothing,
        console: true,
        fresh: false,
        expect: ["403", "403", "403", "200", "403", "200", "401", "401"],
    },
];

/// Reading a conversation: an agent only what is assigned (or offered) to it; an
/// unknown conversation is 404 for everyone.
const READ_CONVERSATION: [&str; 8] = [
    "200 200 404",
    "200 404 404",
    "404 200 404",
    "200 200 404",
    "200 200 404",
    "200 200 404",
    "401",
    "401",
];

/// An agent itself, a supervisor or an admin. To another agent, any agent id is 403,
/// whether it exists or not.
const MANAGE_AGENT: [&str; 8] = [
    "403",
    "200 403 403",
    "403 200 403",
    "200 200 404",
    "403",
    "200 200 404",
    "401",
    "401",
];

/// Only the agent the offer was made to; to another agent it does not exist.
const OFFERED_AGENT: [&str; 8] = [
    "403",
    "200 404 404",
    "404 200 404",
    "403",
    "403",
    "403",
    "401",
    "401",
];

/// Webhooks are the admin's alone.
const ADMIN_WEBHOOK: [&str; 8] = ["403", "403", "403", "403", "403", "200 404", "401", "401"];

/// Every route outside `/v1`, with what guards it: none takes a bearer key for an
/// object, so none is a row of [`ROUTES`]. A new route must be added here or there.
pub const OUTSIDE_V1: &[(&str, &str)] = &[
    ("GET /healthz", "open: no customer data"),
    ("GET /metrics", "open: bounded labels, no customer data"),
    ("GET /openapi.json", "open: the API's description"),
    (
        "GET /",
        "the sign-in form, or a redirect to the session's home",
    ),
    (
        "POST /console/session",
        "takes an agent, supervisor or admin key",
    ),
    ("POST /console/logout", "ends the caller's own session"),
    (
        "POST /console/check-reply",
        "a session; 404 unless the agent may read the conversation",
    ),
    ("GET /console/agent", "an agent's session"),
    (
        "GET /console/supervisor",
        "a supervisor's or admin's session; 403 for an agent",
    ),
    (
        "GET /console/supervisor/conversations",
        "a supervisor's or admin's session; 403 for an agent",
    ),
    (
        "GET /console/supervisor/intents",
        "a supervisor's or admin's session; 403 for an agent",
    ),
    (
        "GET /console/supervisor/outcomes",
        "a supervisor's or admin's session; 403 for an agent",
    ),
    (
        "GET /console/supervisor/charts",
        "a supervisor's or admin's session",
    ),
    (
        "GET /console/conversations/{cid}",
        "a session; the read check of GET /v1/conversations/{cid}",
    ),
    (
        "GET /assets/{name}",
        "open: the console's CSS and JavaScript",
    ),
];

/// Who calls with a console session, in the matrix's column order.
pub const SESSIONS: [&str; 7] = [
    "agent A",
    "agent B",
    "supervisor",
    "admin",
    "agent A, no CSRF header",
    "made-up cookie",
    "revoked key's session",
];

impl Route {
    /// The method and the path template.
    pub fn method_and_path(&self) -> (Method, &'static str) {
        let (method, path) = self.call.split_once(' ').expect("METHOD /path");
        (
            Method::from_bytes(method.as_bytes()).expect("a method"),
            path,
        )
    }

    /// The statuses documented for bearer column `role`, one per object.
    pub fn bearer(&self, role: usize) -> Vec<u16> {
        statuses(self.expect[role], self.on.objects().len(), self.call)
    }

    /// The cell for console session column `session`, as the doc shows it: the
    /// bearer cell of the same role on a console route, with the CSRF header on
    /// anything but a read; 401 everywhere else.
    pub fn session_cell(&self, session: usize) -> &'static str {
        let (method, _) = self.method_and_path();
        match session {
            _ if !self.console => "401",
            // agent A, agent B, supervisor, admin: their bearer column.
            0..=3 => self.expect[[1, 2, 3, 5][session]],
            4 if method.is_safe() => self.expect[1],
            4 => "403",
            _ => "401",
        }
    }

    /// The statuses documented for console session column `session`.
    pub fn session(&self, session: usize) -> Vec<u16> {
        statuses(
            self.session_cell(session),
            self.on.objects().len(),
            self.call,
        )
    }
}

fn statuses(cell: &str, objects: usize, call: &str) -> Vec<u16> {
    let parsed: Vec<u16> = cell
        .split_whitespace()
        .map(|s| s.parse().expect("a status"))
        .collect();
    match parsed.len() {
        1 => vec![parsed[0]; objects],
        n if n == objects => parsed,
        n => panic!("{call}: cell {cell:?} has {n} statuses for {objects} objects"),
    }
}

/// The matrix as `docs/security.md` shows it, between its markers.
pub fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "With a bearer key (one status per object: A's, B's, none; for keys: one that exists, none):\n\n",
    );
    table(&mut out, &ROLES, |route, column| route.expect[column]);
    out.push_str(
        "\nWith a console session (the CSRF header is sent unless the column says not):\n\n",
    );
    table(&mut out, &SESSIONS, Route::session_cell);
    out
}

fn table(out: &mut String, columns: &[&str], cell: impl Fn(&Route, usize) -> &'static str) {
    out.push_str("| route |");
    for column in columns {
        out.push_str(&format!(" {column} |"));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(columns.len()));
    out.push('\n');
    for route in ROUTES {
        out.push_str(&format!("| `{}` |", route.call));
        for column in 0..columns.len() {
            out.push_str(&format!(" {} |", cell(route, column)));
        }
        out.push('\n');
    }
}

const BEGIN: &str = "<!-- bola-matrix:begin (rendered by tests/it/bola.rs) -->\n";
const END: &str = "<!-- bola-matrix:end -->";

#[test]
fn the_matrix_in_docs_security_md_is_the_one_tested() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/security.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc
        .find(BEGIN)
        .expect("docs/security.md has the matrix markers")
        + BEGIN.len();
    let end = start + doc[start..].find(END).expect("the end marker");
    let rendered = render();
    if doc[start..end] == rendered {
        return;
    }
    if std::env::var_os("BATON_UPDATE_DOCS").is_some() {
        std::fs::write(path, format!("{}{rendered}{}", &doc[..start], &doc[end..])).unwrap();
        return;
    }
    panic!(
        "docs/security.md's BOLA matrix differs from tests/it/bola.rs (run with \
         BATON_UPDATE_DOCS=1 to rewrite it); the table should read:\n\n{rendered}"
    );
}

/// One route as `router.rs` declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Declared {
    method: String,
    path: String,
    console: bool,
}

/// Every route `router.rs` declares, read from its source: each `.route("PATH", ...)`
/// and the method routers inside it, marked when wrapped in `console(...)`.
fn declared_routes() -> Vec<Declared> {
    const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];
    let source = include_str!("../../src/router.rs");
    let mut out = Vec::new();
    for (start, _) in source.match_indices(".route(") {
        let rest = &source[start + ".route(".len()..];
        let open = rest.find('"').expect("a path literal");
        let path_len = rest[open + 1..].find('"').expect("the path's end");
        let path = &rest[open + 1..open + 1 + path_len];
        // The call's arguments: up to the parenthesis that closes `.route(`.
        let mut depth = 1;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = i;
                break;
            }
        }
        let args = &rest[open + path_len + 2..end];
        for method in METHODS {
            for (at, _) in args.match_indices(&format!("{method}(")) {
                let before = args[..at].trim_end();
                let word_start = args[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
                if word_start {
                    out.push(Declared {
                        method: method.to_uppercase(),
                        path: path.to_owned(),
                        console: before.ends_with("console("),
                    });
                }
            }
        }
    }
    out
}

/// Whether `concrete` (a row's path, without its query) is an instance of `template`.
fn instance_of(template: &str, concrete: &str) -> bool {
    let (t, c): (Vec<&str>, Vec<&str>) =
        (template.split('/').collect(), concrete.split('/').collect());
    t.len() == c.len()
        && t.iter()
            .zip(&c)
            .all(|(t, c)| t == c || (t.starts_with('{') && t.ends_with('}')))
}

#[test]
fn every_route_in_router_rs_has_a_row_and_every_row_a_route() {
    let declared = declared_routes();
    assert!(
        declared.len() > 50 && declared.iter().any(|d| d.console),
        "router.rs was not read as expected: {declared:?}"
    );
    let row_of = |d: &Declared| {
        ROUTES.iter().find(|route| {
            let (method, path) = route.method_and_path();
            let path = path.split('?').next().unwrap_or(path);
            method.as_str() == d.method && instance_of(&d.path, path)
        })
    };
    let mut problems = Vec::new();
    for d in &declared {
        let call = format!("{} {}", d.method, d.path);
        if !d.path.starts_with("/v1") {
            if !OUTSIDE_V1.iter().any(|(c, _)| *c == call) {
                problems.push(format!("{call}: not in OUTSIDE_V1"));
            }
            continue;
        }
        match row_of(d) {
            None => problems.push(format!("{call}: no row in ROUTES")),
            Some(route) if route.console != d.console => problems.push(format!(
                "{call}: router.rs says console = {}, the row {}",
                d.console, route.console
            )),
            Some(_) => {}
        }
    }
    for route in ROUTES {
        let (method, path) = route.method_and_path();
        let path = path.split('?').next().unwrap_or(path);
        if !declared
            .iter()
            .any(|d| method.as_str() == d.method && instance_of(&d.path, path))
        {
            problems.push(format!("row {:?}: no such route in router.rs", route.call));
        }
    }
    for (call, _) in OUTSIDE_V1 {
        if !declared
            .iter()
            .any(|d| format!("{} {}", d.method, d.path) == *call)
        {
            problems.push(format!("OUTSIDE_V1 {call:?}: no such route in router.rs"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_route_reader_sees_methods_and_console_marks() {
    let declared = declared_routes();
    let find = |method: &str, path: &str| {
        declared
            .iter()
            .find(|d| d.method == method && d.path == path)
            .unwrap_or_else(|| panic!("{method} {path} in {declared:?}"))
            .console
    };
    // One `.route` with a console method and a bearer-only one.
    assert!(find("POST", "/v1/conversations/{cid}/events"));
    assert!(!find("GET", "/v1/conversations/{cid}/events"));
    assert!(!find("DELETE", "/v1/conversations/{cid}"));
    // `agents::get` and `webhooks::delete` are handlers, not methods.
    let webhook: Vec<&str> = declared
        .iter()
        .filter(|d| d.path == "/v1/webhooks/{id}")
        .map(|d| d.method.as_str())
        .collect();
    assert_eq!(webhook, ["GET", "DELETE"]);
    assert!(instance_of(
        "/v1/customers/{customer_id}",
        "/v1/customers/bola-nobody"
    ));
    assert!(!instance_of(
        "/v1/customers/{customer_id}",
        "/v1/customers/x/export"
    ));
}

#[tokio::test]
async fn every_route_answers_every_role_as_documented() {
    let app = spawn_app_with(fixture::config()).await;
    let cells = fixture::plan();
    let mut objects = fixture::Objects::create(&app, &cells).await;
    let before = objects.snapshot(&app).await;
    let mut wrong = Vec::new();
    for cell in &cells {
        let (status, path, body) = objects.call(&app, cell).await;
        if status != cell.expected {
            wrong.push(format!(
                "| {} | {path} | {} | {:?} | {} | {status} | {body} |",
                cell.route.call, cell.caller, cell.object, cell.expected
            ));
        }
    }
    let after = objects.snapshot(&app).await;
    assert!(
        wrong.is_empty(),
        "{} of {} cells answered otherwise than documented:\n\
         | route | called | as | object | expected | got | body |\n|---|---|---|---|---|---|---|\n{}",
        wrong.len(),
        cells.len(),
        wrong.join("\n")
    );
    assert_eq!(
        before, after,
        "refused calls changed the shared conversations, offers, agents or keys"
    );
}
