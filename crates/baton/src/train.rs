//! `baton train`: fit calibration from the store's labelled conversations (read-backs
//! and resolutions with `true_intent`) and the failure model's weights from resolved
//! conversations, print the held-out figures of each (fitted on the older cases,
//! measured on the newer) and write a policy with what was fitted in force.
//!
//! Nothing changes in a running server: the file takes effect when a server loads it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_core::event::EventKind;
use baton_core::insights::calibration::DEFAULT_MIN_SAMPLES;
use baton_core::insights::failure::{failure_cases, train_failure};
use baton_core::insights::intents::labelled_cases;
use baton_core::insights::train::train;
use baton_core::policy::Policy;
use baton_core::{ConversationId, Event, Timestamp};
use clap::Args;

use baton_store::KindEvent;

use crate::cli::{MasterKeyArgs, StoreArgs};

/// `baton train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    // The master key that opens an encrypted store, as `serve` takes it.
    #[command(flatten)]
    pub keys: MasterKeyArgs,
    /// Only conversations labelled at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Write the trained policy here (else only the report is printed).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The policy to start from (the built-in default when absent).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Share of the newest cases held out.
    #[arg(long, default_value_t = 0.2)]
    pub test_share: f64,
    /// Fewest labelled cases an intent needs for a map of its own.
    #[arg(long, default_value_t = DEFAULT_MIN_SAMPLES)]
    pub min_samples: usize,
}

const MAX_EVENTS: u32 = 5_000_000;

/// What `train` reads: the labels calibration needs, and every type the signals fold
/// plus the decisions, surveys and resolutions the failure model's cases are built from.
const KINDS: [EventKind; 9] = [
    EventKind::CustomerMessage,
    EventKind::BotMessage,
    EventKind::Nlu,
    EventKind::HandoffRequested,
    EventKind::Decision,
    EventKind::BouncedBack,
    EventKind::ReadBack,
    EventKind::Survey,
    EventKind::Resolved,
];

/// Runs `baton train`: the report as JSON on stdout; exit 1 when there is too little
/// data to fit either part.
pub async fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let since = since_arg(args.since.as_deref())?;
    let base = match &args.policy {
        Some(path) => crate::serve::load_policy(path)?,
        None => Policy::default(),
    };
    let conversations = conversations_since(&args.store, &args.keys, &KINDS, since).await?;
    let logs = || conversations.iter().map(|(c, e)| (c, e.as_slice()));
    let cases = labelled_cases(logs(), since, Timestamp::from_unix_millis(i64::MAX / 2));
    // Features are folded under the base policy: the one whose decisions are in the log.
    let outcomes = failure_cases(logs(), &base);
    let mut policy = base.clone();
    let calibration = train(&cases, args.test_share, args.min_samples, &base).map(|(p, r)| {
        policy.confidence = p.confidence;
        r
    });
    let failure = train_failure(&outcomes, args.test_share, &base).map(|(p, r)| {
        policy.failure = p.failure;
        r
    });
    if calibration.is_none() && failure.is_none() {
        eprintln!(
            "too little data: {} conversations with a read-back or a true_intent, {} resolved conversations with a decision before any handoff; each part needs at least two to fit and two to test (and the failure model both outcomes among those fitted)",
            cases.len(),
            outcomes.len()
        );
        return Ok(ExitCode::from(1));
    }
    let skipped = |what: &str, n: usize| serde_json::json!({"skipped": format!("too little data: {n} {what}")});
    let report = serde_json::json!({
        "calibration": match &calibration {
            Some(r) => serde_json::to_value(r)?,
            None => skipped("labelled conversations", cases.len()),
        },
        "failure": match &failure {
            Some(r) => serde_json::to_value(r)?,
            None => skipped("resolved conversations, or one outcome only", outcomes.len()),
        },
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(out) = &args.out {
        let text = policy
            .to_toml_string()
            .map_err(|e| anyhow::anyhow!("cannot write the policy: {e}"))?;
        let header = "# Written by `baton train`: what was fitted from the store's conversations is in\n# force ([confidence.learned] with calibration = \"learned\", the [failure] weights).\n# Check with `baton policy check`.\n";
        std::fs::write(out, format!("{header}{text}"))
            .with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote {}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `--since`: an RFC 3339 time, or the beginning of time.
pub fn since_arg(raw: Option<&str>) -> anyhow::Result<Timestamp> {
    match raw {
        Some(raw) => Timestamp::parse(raw)
            .map_err(|_| anyhow::anyhow!("--since must be an RFC 3339 time, got {raw:?}")),
        None => Ok(Timestamp::from_unix_millis(0)),
    }
}

/// Events read per call when a labelled conversation is read whole.
const PAGE: u32 = 10_000;

/// The events of `kinds` of every conversation labelled (a read-back or a resolution)
/// at or after `since`, per conversation in seq order, from the store `store` names
/// (decrypted with the master key `keys` give, or the data directory's): what `train`
/// and `export training` read.
///
/// A label's reading and utterance (the `nlu`, the customer's message) usually come
/// before it, often before a cut-off the label itself falls after: so with a cut-off
/// each labelled conversation is read whole, not only its events written since.
pub async fn conversations_since(
    store: &StoreArgs,
    keys: &MasterKeyArgs,
    kinds: &[EventKind],
    since: Timestamp,
) -> anyhow::Result<BTreeMap<ConversationId, Vec<Event>>> {
    let store = crate::keys::open_decrypting(store, keys).await?;
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    // Without a cut-off every conversation is read whole anyway, in one query.
    if since == Timestamp::from_unix_millis(0) {
        let rows = store
            .events_of_kinds(&names, since, MAX_EVENTS)
            .await
            .context("cannot read the store")?;
        return Ok(KindEvent::by_conversation(rows)?);
    }
    let labels = [EventKind::ReadBack.as_str(), EventKind::Resolved.as_str()];
    let labelled: BTreeSet<ConversationId> = store
        .events_of_kinds(&labels, since, MAX_EVENTS)
        .await
        .context("cannot read the store")?
        .into_iter()
        .map(|row| row.conversation)
        .collect();
    // One paged read per labelled conversation: an offline command, and the conversations
    // since a cut-off are usually a small part of the store.
    let mut out = BTreeMap::new();
    for conversation in labelled {
        let mut events = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .events_after(&conversation, after, PAGE)
                .await
                .context("cannot read the store")?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for stored in page {
                let event: Event = serde_json::from_str(&stored.canonical).with_context(|| {
                    format!("stored event {conversation}/{} does not parse", stored.seq)
                })?;
                if kinds.contains(&event.body.event_kind()) {
                    events.push(event);
                }
            }
        }
        out.insert(conversation, events);
    }
    Ok(out)
}
