//! Package tests over real dialogues: the ABCD fixtures (tests/fixtures) replayed as
//! bot conversations that end in a handoff, then built, redacted and rendered.

use serde_json::{Value, json};

use super::*;
use crate::event::{Event, Priority};
use crate::facts::{FactConfig, FactExtractor, FactKind, FactSource, ViewerRole, normalize};
use crate::package::taskrouter::task_priority;
use crate::state::ConversationState;
use crate::timestamp::Timestamp;

const FIXTURE: &str = include_str!("../../tests/fixtures/abcd_sample.json");
const T0: i64 = 1_767_261_600_000; // 2026-01-01T10:00:00Z

fn fixtures() -> Vec<Value> {
    serde_json::from_str(FIXTURE).unwrap()
}

struct Log(Vec<Event>);

impl Log {
    fn push(&mut self, actor: &str, body: Value) {
        let seq = self.0.len() as u64 + 1;
        let mut obj = body;
        obj["seq"] = json!(seq);
        obj["id"] = json!(format!("e{seq}"));
        obj["actor"] = json!(actor);
        obj["at"] = json!(Timestamp::from_unix_millis(T0 + seq as i64 * 20_000).to_string());
        self.0.push(serde_json::from_value(obj).unwrap());
    }
    fn last_at(&self) -> Timestamp {
        self.0.last().map(|e| e.at).unwrap()
    }
}

/// An ABCD dialogue as baton events: the ABCD agent plays the bot, its actions become
/// identity checks, actions and a promise, and the conversation ends in a handoff.
fn abcd_events(convo: &Value) -> Vec<Event> {
    let mut log = Log(Vec::new());
    let scenario = &convo["scenario"];
    let mut actions = convo["action_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap());
    let mut first_customer = true;
    for turn in convo["original"].as_array().unwrap() {
        let (speaker, text) = (turn[0].as_str().unwrap(), turn[1].as_str().unwrap().trim());
        if text.is_empty() {
            continue;
        }
        match speaker {
            "customer" => {
                log.push(
                    "customer",
                    json!({"type": "customer_message", "text": text}),
                );
                if first_customer {
                    first_customer = false;
                    log.push(
                        "bot",
                        json!({"type": "nlu", "intent": scenario["subflow"], "confidence": 0.62,
                        "alternatives": [{"intent": scenario["flow"], "confidence": 0.21}]}),
                    );
                }
            }
            "agent" => log.push("bot", json!({"type": "bot_message", "text": text})),
            _ => match actions.next().unwrap_or("unknown") {
                "pull-up-account" => {
                    let id = scenario["personal"]["username"]
                        .as_str()
                        .unwrap_or("cust-1");
                    log.push("bot", json!({"type": "identity_verified", "customer_id": id, "method": "account_lookup"}));
                }
                "notify-team" => {
                    log.push("bot", json!({"type": "action", "name": "notify-team", "status": "pending", "detail": text}));
                    let due = log.last_at().plus_millis(86_400_000).to_string();
                    log.push("bot", json!({"type": "commitment", "text": "A manager will call the customer back", "due": due}));
                }
                name => log.push(
                    "bot",
                    json!({"type": "action", "name": name, "status": "done", "detail": text}),
                ),
            },
        }
    }
    log.push("bot", json!({"type": "document_retrieved", "doc_id": "kb-returns", "title": "Returns & refunds policy",
        "uri": "https://help.example.com/returns", "score": 0.81, "snippet": "Returns within 90 days of purchase."}));
    log.push("bot", json!({"type": "handoff_requested", "reason": "customer asked for a manager", "skills": [scenario["flow"]], "priority": "high"}));
    let trigger = log.0.len() as u64;
    log.push("system", json!({"type": "decision", "outcome": "handoff", "priority": "high", "skills": [scenario["flow"]],
        "trigger_seq": trigger, "policy": "2026-01",
        "reasons": [{"code": "negative_sentiment", "signal": "sentiment.level", "value": -0.41, "threshold": -0.3,
            "contribution": 0.6, "message": "the customer's mood has turned negative"}]}));
    log.0
}

fn extractor() -> FactExtractor {
    FactExtractor::new(&FactConfig::default()).unwrap()
}

fn signals() -> PackageSignals {
    PackageSignals {
        sentiment: Some(SentimentSignal {
            now: -0.52,
            level: -0.41,
            slope: -0.12,
            mood_slope: None,
            history: vec![
                SentimentPoint { seq: 3, value: 0.1 },
                SentimentPoint {
                    seq: 9,
                    value: -0.52,
                },
            ],
        }),
        confidence_history: Vec::new(),
        calibrated_confidence: None,
    }
}

fn playbooks() -> Playbooks {
    serde_json::from_value(json!([
        {"intent": "return_*", "steps": ["Check the purchase date against the 90-day window", "Offer an exchange before a refund"]},
        {"intent": "*", "steps": ["Confirm the request in one sentence"]},
    ]))
    .unwrap()
}

fn build(events: &[Event], viewer: ViewerRole, journey: &[PriorContact]) -> ContextPackage {
    let state = ConversationState::from_events(events);
    let sig = signals();
    let books = playbooks();
    let now = state.last_event_at.unwrap().plus_millis(95_000);
    let input = PackageInput {
        conversation_id: "abcd-conv",
        events,
        state: &state,
        now,
        viewer,
        signals: &sig,
        journey,
        playbooks: &books,
        policy_version: Some("2026-01"),
        facts: None,
    };
    let ex = extractor();
    let package = build_package(&input, &ex);
    // The server passes the facts it kept event by event: the package is the same.
    let mut known = crate::facts::KnownFacts::default();
    for event in events {
        known.observe(event, &ex);
    }
    let facts = known.package_facts();
    let live = PackageInput {
        facts: Some(&facts),
        ..input
    };
    assert_eq!(build_package(&live, &ex), package);
    package
}

#[test]
fn scenario_values_the_customer_typed_become_facts() {
    for convo in fixtures() {
        let events = abcd_events(&convo);
        let package = build(&events, ViewerRole::Auditor, &[]);
        let customer_text: String = convo["original"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t[0] == "customer")
            .map(|t| normalize(t[1].as_str().unwrap()))
            .collect();
        let personal = &convo["scenario"]["personal"];
        let order = &convo["scenario"]["order"];
        for (kind, value) in [
            (FactKind::PersonName, &personal["customer_name"]),
            (FactKind::Email, &personal["email"]),
            (FactKind::Phone, &personal["phone"]),
            (FactKind::OrderId, &order["order_id"]),
        ] {
            let Some(value) = value.as_str() else {
                continue;
            };
            if !customer_text.contains(&normalize(value)) {
                continue; // never typed by the customer in this dialogue
            }
            let hit = package
                .assessment
                .facts
                .iter()
                .find(|f| normalize(&f.value) == normalize(value));
            let hit = hit.unwrap_or_else(|| {
                panic!(
                    "{}: no fact for {kind} {value}: {:#?}",
                    convo["convo_id"], package.assessment.facts
                )
            });
            assert_eq!(hit.kind, kind, "{value}");
            let line = events.iter().find(|e| e.seq == hit.seq).unwrap();
            assert!(
                normalize(line.body.message_text().unwrap()).contains(&normalize(value)),
                "fact points at its message"
            );
        }
    }
}

#[test]
fn json_has_the_contract_keys_and_types() {
    let convo = &fixtures()[0];
    let package = build(&abcd_events(convo), ViewerRole::Agent, &[]);
    let v = serde_json::to_value(&package).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "assessment",
            "background",
            "recommendation",
            "situation",
            "transcript",
            "version"
        ]
    );
    assert_eq!(v["version"], PACKAGE_VERSION);
    assert!(v["situation"]["summary"].as_str().unwrap().len() > 40);
    assert!(
        ["low", "normal", "high", "urgent"].contains(&v["situation"]["priority"].as_str().unwrap())
    );
    assert!(v["situation"]["waiting_seconds"].as_i64().unwrap() >= 95);
    let facts = v["assessment"]["facts"].as_array().unwrap();
    assert!(!facts.is_empty());
    for f in facts {
        assert!(
            f["kind"].is_string() && f["value"].is_string() && f["seq"].is_u64(),
            "{f}"
        );
        assert!(["customer", "nlu"].contains(&f["source"].as_str().unwrap()));
    }
    for key in ["next_actions", "skills", "do_not_ask"] {
        assert!(v["recommendation"][key].is_array(), "{key}");
    }
    assert!(v["recommendation"]["opening_line"].is_string());
    for line in v["transcript"].as_array().unwrap() {
        assert!(
            line["seq"].is_u64()
                && line["text"].is_string()
                && line["type"].is_string()
                && line["actor"].is_string()
        );
    }
    assert!(v["background"]["timeline"].as_array().unwrap().len() >= 3);
    assert_eq!(v["background"]["identity"]["verified"], true);
}

#[test]
fn opening_line_and_next_actions_use_what_is_known() {
    let convo = &fixtures()[0];
    let package = build(&abcd_events(convo), ViewerRole::Agent, &[]);
    let order = convo["scenario"]["order"]["order_id"].as_str().unwrap();
    let line = &package.recommendation.opening_line;
    assert!(line.contains(&format!("order {order}")), "{line}");
    assert!(
        line.starts_with("Hi Crystal") || line.starts_with("Hello Crystal"),
        "{line}"
    );
    let next = &package.recommendation.next_actions;
    assert!(
        next[0].contains("notify-team"),
        "pending action first: {next:?}"
    );
    assert!(
        next.iter().any(|s| s.contains("90-day")),
        "playbook for return_*: {next:?}"
    );
    let kinds: Vec<&str> = package
        .recommendation
        .do_not_ask
        .iter()
        .map(|d| d.kind.as_str())
        .collect();
    assert!(
        kinds.contains(&"identity") && kinds.contains(&"order_id") && kinds.contains(&"email"),
        "{kinds:?}"
    );
}

#[test]
fn card_numbers_are_masked_for_agents_and_clear_for_auditors() {
    let mut events = abcd_events(&fixtures()[1]);
    let seq = events.len() as u64 + 1;
    events.push(
        serde_json::from_value(json!({"seq": seq, "id": "card", "actor": "customer",
        "at": "2026-01-01T11:00:00.000Z", "type": "customer_message",
        "text": "just charge my card 4242 4242 4242 4242, email is aphoenix939@email.com"}))
        .unwrap(),
    );
    let agent = serde_json::to_string(&build(&events, ViewerRole::Agent, &[])).unwrap();
    assert!(!agent.contains("4242 4242 4242 4242"));
    assert!(agent.contains("[card ••••4242]"));
    assert!(agent.contains("aphoenix939@email.com"), "agents see emails");
    let admin = serde_json::to_string(&build(&events, ViewerRole::Admin, &[])).unwrap();
    assert!(!admin.contains("aphoenix939@email.com") && !admin.contains("4242 4242"));
    let auditor = build(&events, ViewerRole::Auditor, &[]);
    let card = auditor
        .assessment
        .facts
        .iter()
        .find(|f| f.kind == FactKind::CardNumber)
        .unwrap();
    assert_eq!(
        (card.value.as_str(), card.redacted, card.seq),
        ("4242 4242 4242 4242", false, seq)
    );
}

#[test]
fn nlu_entities_win_over_own_extraction() {
    let mut log = Log(Vec::new());
    log.push(
        "customer",
        json!({"type": "customer_message", "text": "my order 88231 was charged twice"}),
    );
    log.push("bot", json!({"type": "nlu", "intent": "billing.duplicate_charge", "confidence": 0.9,
        "entities": [{"kind": "account_number", "value": "88231"}, {"kind": "product", "value": "Pro plan"}]}));
    let package = build(&log.0, ViewerRole::Agent, &[]);
    let facts: Vec<(&str, &str, FactSource)> = package
        .assessment
        .facts
        .iter()
        .map(|f| (f.kind.as_str(), f.value.as_str(), f.source))
        .collect();
    assert_eq!(
        facts,
        [
            ("account_id", "88231", FactSource::Nlu),
            ("product", "Pro plan", FactSource::Nlu)
        ]
    );
}

#[test]
fn journey_and_html_escaping() {
    let mut log = Log(Vec::new());
    log.push(
        "customer",
        json!({"type": "customer_message", "text": "<script>alert(1)</script> & my order 555123"}),
    );
    let journey = [PriorContact {
        conversation_id: "old-1".into(),
        started_at: Timestamp::from_unix_millis(T0 - 86_400_000),
        handoffs: 1,
        resolution: Some("refund issued".into()),
        true_intent: Some("billing".into()),
        csat: Some(2),
    }];
    let package = build(&log.0, ViewerRole::Agent, &journey);
    assert_eq!(
        (
            package.background.journey.prior_contacts,
            package.background.journey.prior_handoffs
        ),
        (1, 1)
    );
    let html = render_html(&package);
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; my order 555123"));
    let md = render_markdown(&package);
    assert!(md.contains("\\<script\\>"), "{md}");
}

#[test]
fn zendesk_body_has_the_documented_shape() {
    let package = build(&abcd_events(&fixtures()[0]), ViewerRole::Agent, &[]);
    let body = render_zendesk(&package);
    let ticket = &body["ticket"];
    let keys: Vec<&str> = ticket
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in ["subject", "comment", "tags", "priority", "requester"] {
        assert!(keys.contains(&key), "{key}");
    }
    assert_eq!(ticket["priority"], "high");
    assert_eq!(ticket["comment"]["public"], false);
    assert!(
        ticket["comment"]["html_body"]
            .as_str()
            .unwrap()
            .starts_with("<section")
    );
    assert_eq!(ticket["requester"]["email"], "cminh730@email.com");
    for tag in ticket["tags"].as_array().unwrap() {
        assert!(
            tag.as_str()
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_:-".contains(c)),
            "{tag}"
        );
    }
}

#[test]
fn taskrouter_task_has_the_documented_shape() {
    let package = build(&abcd_events(&fixtures()[0]), ViewerRole::Agent, &[]);
    let task = render_taskrouter(&package);
    assert_eq!(task["task_channel"], "chat");
    // TaskRouter's priority is an integer, higher first: a high-priority handoff
    // outranks a normal one.
    assert_eq!(package.situation.priority, Priority::High);
    assert_eq!(task["priority"], 50);
    assert!(task_priority(Priority::Urgent) > task_priority(Priority::High));
    assert!(task_priority(Priority::Normal) > task_priority(Priority::Low));
    let attributes = &task["attributes"];
    assert_eq!(attributes["skills"], json!(package.recommendation.skills));
    assert_eq!(
        attributes["conversations"]["conversation_label_1"],
        package.background.conversation_id.as_str()
    );
    assert_eq!(attributes["conversations"]["direction"], "Inbound");
    assert_eq!(
        attributes["baton"]["conversation_id"],
        package.background.conversation_id.as_str()
    );
    let reasons: Vec<&str> = package
        .situation
        .reasons
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(attributes["baton"]["reasons"], json!(reasons));
    // The desk JSON-encodes the attributes into the `Attributes` form parameter: they
    // must stay a JSON object.
    assert!(attributes.is_object());
}

#[test]
fn botframework_activity_carries_transcript_attachment() {
    let events = abcd_events(&fixtures()[1]);
    let package = build(&events, ViewerRole::Agent, &[]);
    let activity = render_botframework(&package);
    assert_eq!(
        (activity["type"].as_str(), activity["name"].as_str()),
        (Some("event"), Some("handoff.initiate"))
    );
    let attachment = &activity["attachments"][0];
    assert_eq!(attachment["name"], "Transcript");
    let activities = attachment["content"]["activities"].as_array().unwrap();
    let messages = events
        .iter()
        .filter(|e| e.body.message_text().is_some())
        .count();
    assert_eq!(activities.len(), messages);
    assert!(activities.iter().all(|a| a["type"] == "message"));
}

#[test]
fn snapshots_of_every_renderer() {
    for convo in fixtures() {
        let id = convo["convo_id"].as_u64().unwrap();
        let package = build(&abcd_events(&convo), ViewerRole::Agent, &[]);
        insta::assert_snapshot!(format!("abcd_{id}_markdown"), render_markdown(&package));
        insta::assert_snapshot!(format!("abcd_{id}_html"), render_html(&package));
        insta::assert_json_snapshot!(
            format!("abcd_{id}_botframework"),
            render_botframework(&package)
        );
    }
}

/// Not a timed assertion (the bench measures): prints the build time of a 50-turn
/// conversation. `cargo test --release -p baton-core package_build_time -- --ignored --nocapture`
#[test]
#[ignore]
fn package_build_time() {
    let base = abcd_events(&fixtures()[0]);
    let mut events: Vec<Event> = Vec::new();
    while events.len() < 100 {
        for e in &base {
            if e.body.message_text().is_some() || matches!(e.body, crate::event::EventBody::Nlu(_))
            {
                let mut e = e.clone();
                e.seq = events.len() as u64 + 1;
                events.push(e);
            }
        }
    }
    let state = ConversationState::from_events(&events);
    let (sig, books, ex) = (signals(), playbooks(), extractor());
    let input = PackageInput {
        conversation_id: "bench",
        events: &events,
        state: &state,
        now: state.last_event_at.unwrap(),
        viewer: ViewerRole::Agent,
        signals: &sig,
        journey: &[],
        playbooks: &books,
        policy_version: None,
        facts: None,
    };
    // On a shared machine wall time lies; the thread's own CPU time does not.
    let cpu_ns = || -> u64 {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()
            .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
            .unwrap_or(0)
    };
    let n = 2000;
    let (start, cpu0) = (std::time::Instant::now(), cpu_ns());
    for _ in 0..n {
        std::hint::black_box(build_package(&input, &ex));
    }
    let per = start.elapsed() / n;
    println!(
        "events {} build_package wall {:?} cpu {} us per package",
        events.len(),
        per,
        (cpu_ns() - cpu0) / u64::from(n) / 1000
    );
    let start = std::time::Instant::now();
    for _ in 0..n {
        std::hint::black_box(crate::facts::collect_facts(&events, &ex));
    }
    println!("collect_facts {:?}", start.elapsed() / n);
    let start = std::time::Instant::now();
    for _ in 0..n {
        for e in &events {
            match &e.body {
                crate::event::EventBody::CustomerMessage(m) => {
                    std::hint::black_box(ex.extract(m.text.as_str(), 1));
                }
                crate::event::EventBody::BotMessage(m) => {
                    std::hint::black_box(crate::facts::repeat::asked_kinds(m.text.as_str()));
                }
                _ => {}
            }
        }
    }
    println!("extract+asked {:?}", start.elapsed() / n);
    let facts = crate::facts::collect_facts(&events, &ex);
    let start = std::time::Instant::now();
    for _ in 0..n {
        for e in &events {
            if let Some(t) = e.body.message_text() {
                std::hint::black_box(crate::facts::redact::redact_text(
                    t,
                    ViewerRole::Agent,
                    &ex,
                    &facts,
                ));
            }
        }
    }
    println!("redact all {:?}", start.elapsed() / n);
}

/// A small structural checker for the subset of JSON Schema that
/// `docs/package.schema.json` uses (type, required, properties, additionalProperties,
/// items, enum, const, oneOf, minimum, maximum), so schema and output cannot drift.
fn check(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(options) = schema.get("oneOf").and_then(Value::as_array) {
        let passing = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                check(o, v, path, &mut e);
                e.is_empty()
            })
            .count();
        if passing != 1 {
            errors.push(format!("{path}: {passing} oneOf branches match"));
        }
        return;
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            t => t.as_str().into_iter().collect(),
        };
        let ok = names.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{path}: expected {names:?}, got {v}"));
            return;
        }
    }
    if let Some(options) = schema.get("enum").and_then(Value::as_array)
        && !options.contains(v)
    {
        errors.push(format!("{path}: {v} not in {options:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != v
    {
        errors.push(format!("{path}: {v} != {c}"));
    }
    if let (Some(min), Some(n)) = (schema.get("minimum").and_then(Value::as_f64), v.as_f64())
        && n < min
    {
        errors.push(format!("{path}: {n} < {min}"));
    }
    if let (Some(max), Some(n)) = (schema.get("maximum").and_then(Value::as_f64), v.as_f64())
        && n > max
    {
        errors.push(format!("{path}: {n} > {max}"));
    }
    if let Some(obj) = v.as_object() {
        for key in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !obj.contains_key(key) {
                errors.push(format!("{path}: missing {key}"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        for (key, value) in obj {
            match props.and_then(|p| p.get(key)) {
                Some(sub) => check(sub, value, &format!("{path}.{key}"), errors),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{path}: unexpected {key}")),
                    Some(sub @ Value::Object(_)) => {
                        check(sub, value, &format!("{path}.{key}"), errors)
                    }
                    _ => {}
                },
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, item) in arr.iter().enumerate() {
            check(items, item, &format!("{path}[{i}]"), errors);
        }
    }
}

#[test]
fn every_fixture_package_matches_the_published_schema() {
    let schema: Value =
        serde_json::from_str(include_str!("../../../../docs/package.schema.json")).unwrap();
    let journey = [PriorContact {
        conversation_id: "old".into(),
        started_at: Timestamp::from_unix_millis(T0),
        handoffs: 2,
        resolution: None,
        true_intent: None,
        csat: Some(4),
    }];
    for convo in fixtures() {
        for viewer in [ViewerRole::Agent, ViewerRole::Admin, ViewerRole::Auditor] {
            let package =
                serde_json::to_value(build(&abcd_events(&convo), viewer, &journey)).unwrap();
            let mut errors = Vec::new();
            check(&schema, &package, "$", &mut errors);
            assert!(errors.is_empty(), "{}: {errors:#?}", convo["convo_id"]);
        }
    }
    let mut broken =
        serde_json::to_value(build(&abcd_events(&fixtures()[0]), ViewerRole::Agent, &[])).unwrap();
    broken["assessment"]["facts"][0]["seq"] = json!("six");
    let mut errors = Vec::new();
    check(&schema, &broken, "$", &mut errors);
    assert_eq!(
        errors.len(),
        1,
        "the checker catches a wrong type: {errors:?}"
    );
}
