//! `baton export training --format jsonl|rasa [--since]`: the customer utterances the
//! bot read as an intent a human then judged, with both intents, for retraining the
//! bot's NLU. Texts are masked as for an admin (personal data other than names hidden),
//! since training data travels further than the log.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use baton_core::Timestamp;
use baton_core::event::EventKind;
use baton_core::facts::redact::mask_text;
use baton_core::facts::{FactExtractor, ViewerRole};
use baton_core::insights::intents::labelled_cases;
use baton_core::insights::training::{to_rasa_yaml, training_examples};
use baton_core::policy::Policy;
use clap::{Args, Subcommand, ValueEnum};

use crate::cli::{MasterKeyArgs, StoreArgs};

/// `baton export --conversation CID | --customer ID` (the ledger as part of the customer
/// record), or `baton export training`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExportArgs {
    /// What else to export.
    #[command(subcommand)]
    pub command: Option<ExportCommand>,
    #[command(flatten)]
    pub ledger: crate::ledger::LedgerExportArgs,
}

/// `baton export` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Utterances with the bot's and the human's intent.
    Training(TrainingArgs),
}

/// The output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    /// One JSON object per line: text, bot_intent, human_intent, conversation, seq.
    Jsonl,
    /// Rasa NLU training data (YAML), grouped by the human's intent.
    Rasa,
}

/// `baton export training`.
#[derive(Debug, Args)]
pub struct TrainingArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    // The master key that opens an encrypted store, as `serve` takes it.
    #[command(flatten)]
    pub keys: MasterKeyArgs,
    /// The output format.
    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: Format,
    /// Only conversations labelled at or after this time (RFC 3339).
    #[arg(long)]
    pub since: Option<String>,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Runs `baton export`.
pub async fn run(command: ExportCommand) -> anyhow::Result<ExitCode> {
    let ExportCommand::Training(args) = command;
    let since = crate::train::since_arg(args.since.as_deref())?;
    let kinds = [
        EventKind::CustomerMessage,
        EventKind::Nlu,
        EventKind::ReadBack,
        EventKind::Resolved,
    ];
    let conversations =
        crate::train::conversations_since(&args.store, &args.keys, &kinds, since).await?;
    let cases = labelled_cases(
        conversations.iter().map(|(c, e)| (c, e.as_slice())),
        since,
        Timestamp::from_unix_millis(i64::MAX / 2),
    );
    let extractor = FactExtractor::new(&Policy::default().facts)
        .map_err(|e| anyhow::anyhow!("the fact patterns do not compile: {e}"))?;
    let mut examples = training_examples(&cases, |c| conversations.get(c).map(Vec::as_slice));
    for example in &mut examples {
        if let Some(masked) = mask_text(&example.text, ViewerRole::Admin, &extractor, &[]) {
            example.text = masked;
        }
    }
    let text = match args.format {
        Format::Rasa => to_rasa_yaml(&examples),
        Format::Jsonl => {
            let mut out = String::new();
            for example in &examples {
                out.push_str(&serde_json::to_string(example)?);
                out.push('\n');
            }
            out
        }
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{text}"),
    }
    eprintln!(
        "{} examples from {} labelled conversations",
        examples.len(),
        cases.len()
    );
    Ok(ExitCode::SUCCESS)
}
