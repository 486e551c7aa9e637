//! `baton keys rotate-master`: unwraps every live data key with the current master key
//! and wraps it with the new one, in one transaction; events are not touched.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use baton_core::seal::MasterKey;
use baton_store::{Rewrap, Store};
use rand::RngCore;

use super::{HOW_TO_GIVE, KeySource};
use crate::cli::{MasterKeyArgs, StoreArgs};

/// `baton keys rotate-master`.
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    // The current key: as `serve` takes it (default: the data directory's `master.key`).
    #[command(flatten)]
    pub current: MasterKeyArgs,
    #[command(flatten)]
    pub new: NewKeyArgs,
}

/// The new master key: a file or a command, exactly one.
#[derive(Debug, clap::Args)]
#[group(required = true, multiple = false)]
pub struct NewKeyArgs {
    /// The new master key file (64 hex characters, e.g. `openssl rand -hex 32`).
    #[arg(long)]
    pub new_key_file: Option<PathBuf>,
    /// Command run with `sh -c` whose stdout is the new master key, as
    /// `--master-key-command` (e.g. the secrets manager's next version of the key).
    #[arg(long)]
    pub new_key_command: Option<String>,
}

impl NewKeyArgs {
    fn source(&self) -> anyhow::Result<KeySource<'_>> {
        KeySource::of(
            self.new_key_file.as_deref(),
            self.new_key_command.as_deref(),
        )
        .context("pass --new-key-file or --new-key-command")
    }
}

/// Runs `baton keys rotate-master`: prints `{"rewrapped", "from", "to"}`.
pub async fn rotate(args: RotateArgs) -> anyhow::Result<ExitCode> {
    // Both keys first: a failing source leaves the store unopened.
    let old = super::existing(&args.current, &args.store)
        .await?
        .with_context(|| format!("no current master key: {HOW_TO_GIVE}"))?;
    let new_source = args.new.source()?;
    let new = new_source.load_named("--new-key-command").await?;
    anyhow::ensure!(old.id() != new.id(), "the new key is the old key");
    let store = crate::serve::open_store(&args.store).await?;
    let rewraps = rewrap_all(store.as_ref(), &old, &new).await?;
    let count = store.rewrap_data_keys(rewraps).await?;
    if reads_default(&args) {
        follow_default(&super::default_path(&args.store), new_source, old.id())?;
    }
    println!(
        "{}",
        serde_json::json!({"rewrapped": count, "from": old.id(), "to": new.id()})
    );
    Ok(ExitCode::SUCCESS)
}

/// Every live data key unwrapped with `old` and wrapped with `new`; refused if any is
/// wrapped by a third key.
async fn rewrap_all(
    store: &dyn Store,
    old: &MasterKey,
    new: &MasterKey,
) -> anyhow::Result<Vec<Rewrap>> {
    let mut rewraps = Vec::new();
    for record in store.data_keys().await? {
        let Some(wrapped) = &record.wrapped else {
            continue;
        };
        anyhow::ensure!(
            record.master == old.id(),
            "the data key of {} is wrapped by {}, not by the old key {}",
            record.conversation,
            record.master,
            old.id()
        );
        let key = old
            .unwrap_key(&record.conversation, wrapped)
            .map_err(|e| anyhow::anyhow!("data key of {}: {e}", record.conversation))?;
        let mut nonce = [0u8; baton_core::seal::NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        rewraps.push(Rewrap {
            wrapped: new.wrap(&record.conversation, &key, nonce),
            conversation: record.conversation,
            master: new.id().to_owned(),
        });
    }
    Ok(rewraps)
}

/// Whether the current key was the embedded default's `master.key`, which the next
/// `serve` without a key option reads again.
fn reads_default(args: &RotateArgs) -> bool {
    if args.store.database_url.is_some() {
        return false;
    }
    match KeySource::given(&args.current) {
        None => true,
        Some(KeySource::File(path)) => path == super::default_path(&args.store),
        Some(KeySource::Command(_)) => false,
    }
}

/// Points the embedded default at the new key: a new key file is copied over
/// `master.key` (staged, then renamed, so a crash leaves one whole key). A key from a
/// command is not written next to the data, which would undo moving it out: the old
/// `master.key` stays (a start without the command is then refused, naming both keys).
fn follow_default(default: &Path, new: KeySource<'_>, old_id: &str) -> anyhow::Result<()> {
    match new {
        KeySource::File(path) => replace_default(default, path),
        KeySource::Command(_) => {
            eprintln!(
                "{} still holds the old key {old_id}: start baton with --master-key-command / BATON_MASTER_KEY_COMMAND, and remove the file once no backup needs it",
                default.display()
            );
            Ok(())
        }
    }
}

fn replace_default(default: &Path, new_file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(new_file)
        .with_context(|| format!("cannot read {}", new_file.display()))?;
    let staged = default.with_extension("key.new");
    let _ = std::fs::remove_file(&staged);
    let mut file = super::create_private(&staged)
        .with_context(|| format!("cannot create {}", staged.display()))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&staged, default)
        .with_context(|| format!("cannot replace {}", default.display()))?;
    Ok(())
}
