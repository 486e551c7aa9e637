//! `baton train`: fit calibration from the store's labelled conversations (read-backs
//! and resolutions with `true_intent`), print the held-out figures (fitted on the older
//! cases, measured on the newer) and write a policy with the map in force.
//!
//! Nothing changes in a running server: the file takes effect when a server loads it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_core::event::EventKind;
use baton_core::insights::calibration::DEFAULT_MIN_SAMPLES;
use baton_core::insights::intents::labelled_cases;
use baton_core::insights::train::train;
use baton_core::policy::Policy;
use baton_core::{ConversationId, Event, Timestamp};
use clap::Args;

use baton_store::KindEvent;

use crate::cli::StoreArgs;

/// `baton train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub store: StoreArgs,
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

/// Runs `baton train`: the report as JSON on stdout; exit 1 when there is too little
/// labelled data to split.
pub async fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let since = since_arg(args.since.as_deref())?;
    let base = match &args.policy {
        Some(path) => crate::serve::load_policy(path)?,
        None => Policy::default(),
    };
    let kinds = [EventKind::Nlu, EventKind::ReadBack, EventKind::Resolved];
    let conversations = conversations_since(&args.store, &kinds, since).await?;
    let cases = labelled_cases(
        conversations.iter().map(|(c, e)| (c, e.as_slice())),
        since,
        Timestamp::from_unix_millis(i64::MAX / 2),
    );
    let Some((policy, report)) = train(&cases, args.test_share, args.min_samples, &base) else {
        eprintln!(
            "too little labelled data: {} conversations with a read-back or a true_intent; need at least two to fit and two to test",
            cases.len()
        );
        return Ok(ExitCode::from(1));
    };
    println!("{}", serde_json::to_string_pretty(&report)?);
    if let Some(out) = &args.out {
        let text = policy
            .to_toml_string()
            .map_err(|e| anyhow::anyhow!("cannot write the policy: {e}"))?;
        let header = "# Written by `baton train`: confidence.calibration = \"learned\" with the maps\n# fitted from labelled conversations. Check with `baton policy check`.\n";
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

/// The events of `kinds` written since `since` in the store `store` names, per
/// conversation in seq order (what `train` and `export training` read).
pub async fn conversations_since(
    store: &StoreArgs,
    kinds: &[EventKind],
    since: Timestamp,
) -> anyhow::Result<BTreeMap<ConversationId, Vec<Event>>> {
    let store = crate::keys::open_decrypting(store).await?;
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    let rows = store
        .events_of_kinds(&names, since, MAX_EVENTS)
        .await
        .context("cannot read the store")?;
    Ok(KindEvent::by_conversation(rows)?)
}
