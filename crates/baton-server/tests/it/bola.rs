//! The BOLA matrix: every `/v1` route × every role × own and foreign objects, with a
//! bearer key and with a console session, answers the status documented in
//! `docs/security.md`. [`ROUTES`] is the one table; the doc's matrix is rendered from it
//! (a separate test fails when the two differ), and the live test calls every cell and
//! lists every wrong one at once.
//!
//! Objects: for conversations, a conversation assigned to agent A, one assigned to
//! agent B, and one that does not exist; for agents, `/v1/agents/A`, `/v1/agents/B` and
//! an unknown agent; for offers, an offer made to A, one made to B and an unknown one;
//! for keys, a key that exists and one that does not. A cell that succeeds on a route
//! that changes its object gets an object of its own; every refusal runs against the
//! shared objects, which are checked afterwards to be unchanged.

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
}

/// One object a cell is called on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The route has no object.
    Only,
    /// Agent A's (or, for keys, one that exists).
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
            On::Key => &[Object::OfA, Object::Missing],
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
    /// The JSON body sent (`{skill}` is the agent object's own skill).
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
