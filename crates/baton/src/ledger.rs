//! `baton ledger verify`: offline verification of a store or of an export file, and
//! `baton export --conversation | --customer`: the export that proves itself.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use baton_core::ledger::proof::{
    self, CheckpointLink, CheckpointProof, ConversationProof, LedgerExport,
};
use baton_core::ledger::{Break, CheckpointBody, with_hash};
use baton_core::{ConversationId, CustomerId};
use baton_store::Store;
use clap::Args;

use crate::cli::StoreArgs;

/// `baton ledger verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// Verify an export file (`baton export --conversation|--customer`) instead of a store.
    #[arg(long, conflicts_with = "database_url")]
    pub file: Option<PathBuf>,
}

/// `baton export --conversation CID | --customer ID [--out FILE]`.
#[derive(Debug, Args)]
#[group(id = "subject", multiple = false)]
pub struct LedgerExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The conversation to export.
    #[arg(long, group = "subject")]
    pub conversation: Option<String>,
    /// Export every conversation of this customer.
    #[arg(long, group = "subject")]
    pub customer: Option<String>,
    /// Write here instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Exit 0 if every chain verifies; else exit 1 naming the first break.
pub async fn verify(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    if let Some(file) = &args.file {
        return verify_file(file);
    }
    let args = args.store;
    if !args.data_dir.join(baton_store::sqlite::DB_FILE).exists() && args.database_url.is_none() {
        anyhow::bail!("no baton store in {}", args.data_dir.display());
    }
    let store = crate::serve::open_store(&args).await?;
    let started = std::time::Instant::now();
    match store.verify(None).await? {
        Ok(verified) => {
            let secs = started.elapsed().as_secs_f64();
            println!(
                "ok: {} conversations, {} events, {} checkpoints, {} access log entries verified in {:.2}s; ledger head {}",
                verified.conversations,
                verified.events,
                verified.checkpoints,
                verified.access_entries.unwrap_or(0),
                secs,
                verified.head
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => Ok(report_break(&broken)),
    }
}

fn report_break(broken: &Break) -> ExitCode {
    if broken.kind.is_access_log() {
        println!("broken: {:?}: {}", broken.kind, broken.message);
        return ExitCode::from(1);
    }
    let conversation = broken
        .conversation
        .as_ref()
        .map_or("(checkpoint chain)".to_owned(), |c| c.to_string());
    println!(
        "broken: conversation {conversation} at seq {}: {:?}: {}",
        broken.seq, broken.kind, broken.message
    );
    ExitCode::from(1)
}

/// `baton ledger verify --file`: the export alone, no database.
fn verify_file(path: &Path) -> anyhow::Result<ExitCode> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let export: LedgerExport = match serde_json::from_reader(std::io::BufReader::new(file)) {
        Ok(export) => export,
        Err(e) => {
            println!("broken: {} is not a ledger export: {e}", path.display());
            return Ok(ExitCode::from(1));
        }
    };
    match proof::verify(&export) {
        Ok(verified) => {
            let head = verified.ledger_head.map_or("none".to_owned(), |h| {
                format!("checkpoint {} {}", h.number, h.hash)
            });
            println!(
                "ok: {} conversations, {} events, {} checkpoints verified in {}; ledger head at export {head}",
                verified.conversations,
                verified.events,
                verified.checkpoints,
                path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => Ok(report_break(&broken)),
    }
}

/// Writes the export of one conversation or of every conversation of one customer.
pub async fn export(args: LedgerExportArgs) -> anyhow::Result<ExitCode> {
    let store = crate::serve::open_store(&args.store).await?;
    let conversations = match (&args.conversation, &args.customer) {
        (Some(cid), None) => vec![
            ConversationId::parse(cid.clone())
                .map_err(|e| anyhow::anyhow!("--conversation {cid:?}: {e}"))?,
        ],
        (None, Some(customer)) => {
            let customer = CustomerId::parse(customer.clone())
                .map_err(|e| anyhow::anyhow!("--customer {customer:?}: {e}"))?;
            store
                .conversations_of_customer(&customer)
                .await?
                .into_iter()
                .map(|row| row.id)
                .collect()
        }
        _ => anyhow::bail!(
            "say what to export: --conversation CID or --customer ID (or `export training`)"
        ),
    };
    if conversations.is_empty() {
        anyhow::bail!("no conversation of that customer is stored");
    }
    let bar = crate::bench::harness::progress(conversations.len() as u64, "conversations");
    let mut export = LedgerExport {
        format: proof::FORMAT.to_owned(),
        version: proof::VERSION,
        exported_at: baton_server::clock::Clock::System.now(),
        ledger_head: None,
        conversations: Vec::with_capacity(conversations.len()),
    };
    for cid in &conversations {
        let (conversation, head) = prove(store.as_ref(), cid).await?;
        // Each trail is read after its events, so the newest head seen covers them all.
        if head.is_some_and(|h| export.ledger_head.is_none_or(|e| h.number > e.number)) {
            export.ledger_head = head;
        }
        export.conversations.push(conversation);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let events: usize = export.conversations.iter().map(|c| c.events.len()).sum();
    let json = serde_json::to_vec_pretty(&export)?;
    match &args.out {
        Some(path) => std::fs::write(path, &json)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(&json)?;
            out.write_all(b"\n")?;
        }
    }
    eprintln!(
        "exported {} conversations, {events} events; verify with `baton ledger verify --file`",
        export.conversations.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// One conversation's events as stored (hashes included) and the checkpoints that
/// recorded it. The trail is read after the events, so it covers every event read; a
/// head it records past them (an append in between) is cut by reading on.
async fn prove(
    store: &dyn Store,
    cid: &ConversationId,
) -> anyhow::Result<(ConversationProof, Option<CheckpointLink>)> {
    let mut events = Vec::new();
    let mut after = 0;
    let trail = loop {
        loop {
            let page = store
                .events_page(cid, after, 10_000, 8 * 1024 * 1024)
                .await?;
            for event in &page.events {
                events.push(serde_json::from_str(&with_hash(
                    &event.canonical,
                    &event.hash,
                ))?);
                after = event.seq;
            }
            if !page.more {
                break;
            }
        }
        let trail = store.checkpoint_trail(cid).await?;
        let recorded = trail
            .checkpoints
            .iter()
            .filter_map(|c| serde_json::from_str::<CheckpointBody>(&c.canonical).ok())
            .flat_map(|b| {
                b.heads
                    .into_iter()
                    .filter(|h| h.conversation == *cid)
                    .map(|h| h.seq)
            })
            .max()
            .unwrap_or(0);
        if recorded <= after {
            break trail;
        }
    };
    if events.is_empty() {
        anyhow::bail!("conversation {cid} is not stored");
    }
    let checkpoints = trail
        .checkpoints
        .into_iter()
        .map(|c| {
            Ok(CheckpointProof {
                number: c.number,
                prev: c.prev,
                body: serde_json::from_str(&c.canonical)
                    .with_context(|| format!("checkpoint {} is not valid", c.number))?,
                hash: c.hash,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok((
        ConversationProof {
            conversation: cid.clone(),
            events,
            checkpoints,
        },
        trail
            .head
            .map(|(number, hash)| CheckpointLink { number, hash }),
    ))
}
