//! `baton eval ...` and `baton policy check`: offline measurements of the decision
//! engine on labelled data, printed as JSON on stdout.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use baton_core::policy::Policy;
use clap::{Args, Subcommand};

/// The evaluations.
#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Replay labelled conversations (JSONL) and score handoff decisions.
    Decisions(DecisionsArgs),
    /// Score explicit-request detection on Bitext utterances (contact_human_agent vs the rest).
    Requests(RequestsArgs),
}

/// `baton eval decisions`.
#[derive(Debug, Args)]
pub struct DecisionsArgs {
    /// Labelled conversations, one JSON object per line.
    #[arg(default_value = "crates/baton-core/eval/decisions_dev.jsonl")]
    pub file: PathBuf,
    /// Policy to evaluate (the built-in one when absent).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Also list every miss.
    #[arg(long)]
    pub misses: bool,
}

/// `baton eval requests`.
#[derive(Debug, Args)]
pub struct RequestsArgs {
    /// The Bitext CSV (columns include `instruction` and `intent`).
    #[arg(default_value = "../shared/data/bitext_customer_support_dev.csv")]
    pub csv: PathBuf,
    /// Policy whose explicit-request settings to use.
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

fn policy(path: Option<&Path>) -> anyhow::Result<Policy> {
    match path {
        Some(path) => crate::serve::load_policy(path),
        None => Ok(Policy::default()),
    }
}

/// Runs an evaluation.
pub fn run(command: EvalCommand) -> anyhow::Result<ExitCode> {
    match command {
        EvalCommand::Decisions(args) => {
            let jsonl = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {}", args.file.display()))?;
            let mut report = baton_core::eval::decisions::evaluate(&jsonl, &policy(args.policy.as_deref())?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
            if !args.misses {
                report.misses.clear();
            }
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        EvalCommand::Requests(args) => {
            let mut reader = csv::Reader::from_path(&args.csv).with_context(|| format!("cannot read {}", args.csv.display()))?;
            let headers = reader.headers()?.clone();
            let column = |name: &str| {
                headers.iter().position(|h| h == name).with_context(|| format!("{} has no {name} column", args.csv.display()))
            };
            let (text, intent) = (column("instruction")?, column("intent")?);
            let mut rows = Vec::new();
            for record in reader.records() {
                let record = record?;
                let (Some(t), Some(i)) = (record.get(text), record.get(intent)) else { continue };
                rows.push((t.to_owned(), i == "contact_human_agent"));
            }
            let report = baton_core::eval::requests::evaluate_requests_with(rows, &policy(args.policy.as_deref())?);
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `baton policy check FILE`: exit 0 when valid, else 1 with the line at fault.
pub fn check_policy(file: &Path) -> anyhow::Result<ExitCode> {
    match crate::serve::load_policy(file) {
        Ok(policy) => {
            println!("ok: {} is a valid policy ({}@{})", file.display(), policy.name, policy.version);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            println!("invalid: {error:#}");
            Ok(ExitCode::from(1))
        }
    }
}
