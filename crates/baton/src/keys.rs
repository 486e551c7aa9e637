//! The master key: where `baton serve` finds it, the embedded default that makes one
//! in the data directory, and `baton keys rotate-master`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use baton_core::seal::MasterKey;
use baton_store::{Rewrap, Store};
use rand::RngCore;

use crate::cli::{Encryption, KeyArgs, StoreArgs};

/// The embedded default's key file, inside the data directory.
pub const KEY_FILE: &str = "master.key";

/// Reads a key file (64 hex characters).
pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the master key file {}", path.display()))?;
    MasterKey::parse_hex(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// Writes a new random key file readable by its owner only; refuses to overwrite.
pub fn create_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create the master key file {}", path.display()))?;
    file.write_all(MasterKey::to_hex_file(&bytes).as_bytes())?;
    file.sync_all()?;
    let key = MasterKey::from_bytes(bytes);
    bytes.fill(0);
    Ok(key)
}

/// The master key `baton serve` runs with, or `None` with `--encryption off`.
/// Checked against the store's data keys later, before anything is written.
pub async fn resolve(
    keys: &KeyArgs,
    store_args: &StoreArgs,
    store: &dyn Store,
) -> anyhow::Result<Option<MasterKey>> {
    if keys.encryption == Encryption::Off {
        tracing::warn!("encryption at rest is off: customer data is stored in clear");
        return Ok(None);
    }
    if let Some(path) = &keys.master_key_file {
        return read_key_file(path).map(Some);
    }
    anyhow::ensure!(
        store_args.database_url.is_none(),
        "PostgreSQL needs a master key: pass --master-key-file or BATON_MASTER_KEY_FILE (or --encryption off)"
    );
    let path = store_args.data_dir.join(KEY_FILE);
    if path.exists() {
        return read_key_file(&path).map(Some);
    }
    let existing = store.data_keys().await?;
    anyhow::ensure!(
        existing.is_empty(),
        "{} is missing but this data directory holds {} data keys: restore the key file or pass --master-key-file",
        path.display(),
        existing.len()
    );
    let key = create_key_file(&path)?;
    tracing::warn!(
        path = %path.display(),
        master_key = key.id(),
        "generated a master key in the data directory. It protects a copy of the database \
         taken without this file (a leaked backup of baton.db, a PostgreSQL dump); it does \
         NOT protect against whoever can read the whole data directory. In production keep \
         the key elsewhere and pass --master-key-file / BATON_MASTER_KEY_FILE"
    );
    Ok(Some(key))
}

/// `baton keys rotate-master`: unwraps every live data key with the old master key and
/// wraps it with the new one, in one transaction; events are not touched.
pub async fn rotate(args: RotateArgs) -> anyhow::Result<ExitCode> {
    let store = crate::serve::open_store(&args.store).await?;
    let default_path = args.store.data_dir.join(KEY_FILE);
    let old_path = args
        .master_key_file
        .clone()
        .unwrap_or_else(|| default_path.clone());
    let old = read_key_file(&old_path)?;
    let new = read_key_file(&args.new_key_file)?;
    anyhow::ensure!(old.id() != new.id(), "the new key is the old key");
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
    let count = store.rewrap_data_keys(rewraps).await?;
    // The embedded default reads its key from the data directory: it gets the new one.
    if args.master_key_file.is_none() || old_path == default_path {
        let text = std::fs::read_to_string(&args.new_key_file)?;
        let staged = default_path.with_extension("key.new");
        let _ = std::fs::remove_file(&staged);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&staged)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&staged, &default_path)?;
    }
    println!(
        "{}",
        serde_json::json!({"rewrapped": count, "from": old.id(), "to": new.id()})
    );
    Ok(ExitCode::SUCCESS)
}

/// `baton keys rotate-master`.
#[derive(Debug, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The current master key (default: the data directory's `master.key`).
    #[arg(long, env = "BATON_MASTER_KEY_FILE")]
    pub master_key_file: Option<PathBuf>,
    /// The new master key file (64 hex characters, e.g. `openssl rand -hex 32`).
    #[arg(long)]
    pub new_key_file: PathBuf,
}

/// The store as offline readers (`baton export`, `baton train`) need it: decrypted
/// when it holds data keys, with the master key from `BATON_MASTER_KEY_FILE` or the
/// data directory's `master.key`.
pub async fn open_decrypting(args: &StoreArgs) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let store = crate::serve::open_store(args).await?;
    if store.data_keys().await?.is_empty() {
        return Ok(store);
    }
    let path = std::env::var_os("BATON_MASTER_KEY_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| args.data_dir.join(KEY_FILE));
    let master = read_key_file(&path)?;
    let vault = baton_server::vault::Vault::open_store(master, std::sync::Arc::clone(&store))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(std::sync::Arc::new(baton_server::unseal::Unsealing::new(
        store,
        std::sync::Arc::new(vault),
    )))
}
