//! `baton import FILE... --format rasa|botframework|jsonl`: other systems' conversation
//! logs into baton, through baton's own append pipeline (the same call the HTTP
//! handler makes, as an admin), so validation, decisions and ledger sealing apply as
//! if a bot had posted the events live. See docs/import.md.
//!
//! # Layout
//! - [`source`]: files to JSON records, streamed in constant memory.
//! - [`rasa`], [`botframework`], [`jsonl`]: one record to baton events.
//! - here: batching per conversation turn, idempotency accounting, the summary.
//!
//! Every event gets a stable id (derived from the format, the conversation and the
//! record's position when the source has none), and the append path answers an id it
//! already holds with its first result: importing a file twice stores nothing twice.

mod botframework;
mod jsonl;
mod rasa;
mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use baton_core::decode::{DecodeErrorKind, decode_new_event};
use baton_core::policy::Policy;
use baton_core::{ConversationId, EventId};
use baton_server::append::{AppendRequest, MAX_BATCH_EVENTS};
use baton_server::auth::Principal;
use baton_server::{AdminBootstrap, AppConfig, AppState};
use baton_store::Role;
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::cli::{KeyArgs, StoreArgs};
use source::{Location, Read};

/// The source format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Rasa tracker-store JSON: one tracker, an array of trackers, or JSONL of trackers.
    Rasa,
    /// Bot Framework `.transcript` files: arrays of activities.
    Botframework,
    /// baton's JSONL: `{"conversation": CID, "event": E}` per line.
    Jsonl,
}

/// `baton import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import, in order.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format.
    #[arg(long, value_enum)]
    pub format: Format,
    #[command(flatten)]
    pub store: StoreArgs,
    // The master key, as `serve` takes it: imported events are sealed like served ones.
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Decision policy the imported conversations are judged by (the built-in default
    /// when absent), as `serve --policy`.
    #[arg(long, env = "BATON_POLICY")]
    pub policy: Option<PathBuf>,
}

/// One record mapped: an event for the pipeline, a deliberate skip, or a refusal.
#[derive(Debug)]
pub enum Out {
    /// An event in the append body's shape, always with an `id`.
    Event {
        /// Where it goes.
        cid: ConversationId,
        /// The event.
        event: Value,
        /// Where it came from.
        at: Location,
    },
    /// Left out on purpose; the reason is counted in the summary.
    Skip(&'static str),
    /// Could not be imported.
    Error(Location, String),
}

/// A stable event id: the same source record always gets the same id.
pub fn stable_id(format: &str, cid: &ConversationId, position: &str) -> String {
    let mut hash = Sha256::new();
    for part in [format, cid.as_str(), position] {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    let digest = hash.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("imp-{hex}")
}

/// What `baton import` prints on stdout at the end.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    /// Files read.
    pub files: u64,
    /// Records read (trackers, activities, lines).
    pub records: u64,
    /// Distinct conversations that received or already held events.
    pub conversations: u64,
    /// Events written now (baton's own derived events not counted).
    pub events_imported: u64,
    /// Events whose id was already stored (an earlier import).
    pub already_present: u64,
    /// Source items left out on purpose, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    /// Records or events that failed (each named on stderr).
    pub errors: u64,
}

/// Runs `baton import`: the summary as JSON on stdout; exit 1 if any record failed.
pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging();
    let policy = match &args.policy {
        Some(path) => crate::serve::load_policy(path)?,
        None => Policy::default(),
    };
    let (store, master_key) = crate::keys::open_with_key(&args.keys, &args.store).await?;
    let defaults = AppConfig {
        master_key,
        ..AppConfig::default()
    };
    let (app, bootstrap) = crate::serve::build_state_with(store, policy, defaults).await?;
    if let AdminBootstrap::Generated(key) = &bootstrap {
        // The store had no admin: this key is the only way in, so show it as serve would.
        eprintln!("admin key (shown once, store it now): {key}");
    }
    let total: u64 = args
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let progress = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {msg} ({elapsed})")
    {
        progress.set_style(style);
    }
    let mut importer = Importer {
        app,
        principal: Principal::in_process(Role::Admin, None),
        batch: None,
        summary: Summary::default(),
        seen: BTreeSet::new(),
        progress: progress.clone(),
    };
    for file in &args.files {
        importer.summary.files += 1;
        progress.set_message(file.display().to_string());
        importer.file(file, args.format).await;
    }
    importer.flush().await;
    progress.finish_and_clear();
    let summary = importer.summary;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(if summary.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The events of one conversation waiting to be appended together.
struct Batch {
    cid: ConversationId,
    events: Vec<(Value, Location)>,
}

struct Importer {
    app: AppState,
    principal: Principal,
    batch: Option<Batch>,
    summary: Summary,
    seen: BTreeSet<ConversationId>,
    progress: ProgressBar,
}

impl Importer {
    fn error(&mut self, at: &Location, message: &str) {
        self.summary.errors += 1;
        self.progress
            .suspend(|| eprintln!("error: {at}: {message}"));
    }

    async fn file(&mut self, path: &std::path::Path, format: Format) {
        let label: Arc<str> = path.display().to_string().into();
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) => {
                let at = Location {
                    file: label,
                    line: None,
                    element: None,
                    part: None,
                };
                self.error(&at, &format!("cannot open: {e}"));
                return;
            }
        };
        let (tx, mut rx) = tokio::sync::mpsc::channel(64);
        let reader = self.progress.wrap_read(file);
        let owned = path.to_path_buf();
        let reading =
            tokio::task::spawn_blocking(move || source::read_file(&owned, label, reader, &tx));
        let mut lines = jsonl::Jsonl::default();
        let mut out = Vec::new();
        while let Some(read) = rx.recv().await {
            match read {
                Read::Error(at, message) => self.error(&at, &message),
                Read::Record(record, at) => {
                    self.summary.records += 1;
                    match format {
                        Format::Rasa => rasa::map(record, &at, &mut out),
                        Format::Botframework => botframework::map(record, &at, &mut out),
                        Format::Jsonl => lines.map(record, &at, &mut out),
                    }
                    for item in std::mem::take(&mut out) {
                        self.take(item).await;
                    }
                }
            }
        }
        if let Err(e) = reading.await {
            let at = Location {
                file: path.display().to_string().into(),
                line: None,
                element: None,
                part: None,
            };
            self.error(&at, &format!("the reader failed: {e}"));
        }
    }

    async fn take(&mut self, item: Out) {
        match item {
            Out::Skip(reason) => *self.summary.skipped.entry(reason).or_insert(0) += 1,
            Out::Error(at, message) => self.error(&at, &message),
            Out::Event { cid, event, at } => {
                // Decoded here as the append path will, so one bad event is reported
                // alone instead of refusing the turn it arrived in.
                match decode_new_event(event.clone(), "event") {
                    Ok(_) => {}
                    Err(e) if e.kind == DecodeErrorKind::ReservedType => {
                        *self.summary.skipped.entry("server_written").or_insert(0) += 1;
                        return;
                    }
                    Err(e) => return self.error(&at, &e.to_string()),
                }
                let new_turn =
                    event.get("type").and_then(Value::as_str) == Some("customer_message");
                let cut = match &self.batch {
                    Some(batch) => {
                        batch.cid != cid
                            || batch.events.len() >= MAX_BATCH_EVENTS
                            || (new_turn && !batch.events.is_empty())
                    }
                    None => false,
                };
                if cut {
                    self.flush().await;
                }
                self.batch
                    .get_or_insert_with(|| Batch {
                        cid,
                        events: Vec::new(),
                    })
                    .events
                    .push((event, at));
            }
        }
    }

    /// Appends the waiting batch: one turn of one conversation (a customer message and
    /// what followed it), as a live bot posts it, so decisions come where they would
    /// have come live.
    async fn flush(&mut self) {
        let Some(Batch { cid, events }) = self.batch.take() else {
            return;
        };
        if self.seen.insert(cid.clone()) {
            self.summary.conversations += 1;
        }
        let ids: Vec<EventId> = events
            .iter()
            .filter_map(|(e, _)| e.get("id")?.as_str().and_then(|id| EventId::parse(id).ok()))
            .collect();
        // Stored ids are counted and left out, so a batch cut differently by an earlier
        // run (or interrupted) never mixes stored and new ids.
        let stored: BTreeSet<String> = match self.app.store.find_event_ids(&cid, &ids).await {
            Ok(found) => found
                .into_iter()
                .map(|f| f.id.as_str().to_owned())
                .collect(),
            Err(e) => {
                let message = format!("cannot read the store: {e}");
                for (_, at) in &events {
                    self.error(at, &message);
                }
                return;
            }
        };
        let (present, fresh): (Vec<_>, Vec<_>) = events.into_iter().partition(|(e, _)| {
            e.get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| stored.contains(id))
        });
        self.summary.already_present += present.len() as u64;
        if fresh.is_empty() {
            return;
        }
        let request = AppendRequest {
            events: fresh.iter().map(|(e, _)| e.clone()).collect(),
            expected_seq: None,
        };
        match baton_server::flow::append_events(&self.app, &self.principal, &cid, request).await {
            Ok(_) => self.summary.events_imported += fresh.len() as u64,
            // A refusal names one event but sinks the whole batch: retry one by one so
            // only the refused event is lost.
            Err(e) if e.status.is_client_error() && fresh.len() > 1 => {
                for (event, at) in fresh {
                    self.append_one(&cid, event, &at).await;
                }
            }
            Err(e) => {
                let at = &fresh[0].1;
                let message = format!("{}: {}", e.code, e.message);
                for (_, at) in &fresh[1..] {
                    self.error(at, &message);
                }
                self.refused(at, e.code, &message);
            }
        }
    }

    async fn append_one(&mut self, cid: &ConversationId, event: Value, at: &Location) {
        let request = AppendRequest {
            events: vec![event],
            expected_seq: None,
        };
        match baton_server::flow::append_events(&self.app, &self.principal, cid, request).await {
            Ok(_) => self.summary.events_imported += 1,
            Err(e) => self.refused(at, e.code, &format!("{}: {}", e.code, e.message)),
        }
    }

    /// A refused event: a handoff the imported history requests after baton's own
    /// decision already handed the conversation off is a skip, anything else an error.
    fn refused(&mut self, at: &Location, code: &str, message: &str) {
        if code == "already_handed_off" {
            *self
                .summary
                .skipped
                .entry("handoff_already_under_way")
                .or_insert(0) += 1;
        } else {
            self.error(at, message);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_ids_are_valid_and_depend_on_every_part() {
        let cid = ConversationId::parse("c-1").unwrap();
        let id = stable_id("rasa", &cid, "3.message");
        assert!(EventId::parse(id.clone()).is_ok());
        assert_eq!(id, stable_id("rasa", &cid, "3.message"));
        assert_ne!(id, stable_id("jsonl", &cid, "3.message"));
        assert_ne!(id, stable_id("rasa", &cid, "3.nlu"));
        let other = ConversationId::parse("c-2").unwrap();
        assert_ne!(id, stable_id("rasa", &other, "3.message"));
    }
}
