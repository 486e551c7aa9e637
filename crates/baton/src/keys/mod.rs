//! The master key: where every command that reads or writes customer data finds it,
//! the embedded default that makes one in the data directory, and
//! `baton keys rotate-master`.
//!
//! # Layout
//! - here: the sources (a file, a command, the data directory's `master.key`), the one
//!   resolution `serve` and `import` share ([`open_with_key`]), and the decrypting store of
//!   the offline readers ([`open_decrypting`]).
//! - [`command`]: runs `--master-key-command`.
//! - [`rotate`]: runs `baton keys rotate-master`.

pub mod command;
mod rotate;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use baton_core::seal::MasterKey;
use baton_store::Store;
use rand::RngCore;

use crate::cli::{Encryption, KeyArgs, MasterKeyArgs, StoreArgs};

pub use rotate::{RotateArgs, rotate};

/// The embedded default's key file, inside the data directory.
pub const KEY_FILE: &str = "master.key";

/// What to pass when a key is needed and none was found, for every error that says so.
pub const HOW_TO_GIVE: &str = "pass --master-key-file / BATON_MASTER_KEY_FILE or --master-key-command / BATON_MASTER_KEY_COMMAND";

/// Where a master key given on the command line (or in the environment) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource<'a> {
    /// A key file.
    File(&'a Path),
    /// A command whose stdout is the key.
    Command(&'a str),
}

impl<'a> KeySource<'a> {
    /// The source the arguments name, if any (clap keeps the two exclusive).
    pub fn given(args: &'a MasterKeyArgs) -> Option<Self> {
        Self::of(
            args.master_key_file.as_deref(),
            args.master_key_command.as_deref(),
        )
    }

    /// A file, else a command, else none.
    pub fn of(file: Option<&'a Path>, command: Option<&'a str>) -> Option<Self> {
        match (file, command) {
            (Some(path), _) => Some(Self::File(path)),
            (None, Some(command)) => Some(Self::Command(command)),
            (None, None) => None,
        }
    }

    /// Reads the file or runs the command.
    pub async fn load(self) -> anyhow::Result<MasterKey> {
        self.load_named(command::NAME).await
    }

    /// [`KeySource::load`] with a command's errors naming the option `name`.
    pub async fn load_named(self, name: &str) -> anyhow::Result<MasterKey> {
        match self {
            Self::File(path) => read_key_file(path),
            Self::Command(line) => command::run_named(line, command::TIMEOUT, name).await,
        }
    }
}

/// The embedded default's key file of this data directory.
pub fn default_path(store: &StoreArgs) -> PathBuf {
    store.data_dir.join(KEY_FILE)
}

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
    let mut file = create_private(path)
        .with_context(|| format!("cannot create the master key file {}", path.display()))?;
    file.write_all(MasterKey::to_hex_file(&bytes).as_bytes())?;
    file.sync_all()?;
    let key = MasterKey::from_bytes(bytes);
    bytes.fill(0);
    Ok(key)
}

/// A new file only its owner may read (0600 on Unix); fails if it exists.
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// The key the arguments give (file or command), else the embedded default's
/// `master.key` when the data directory has one. `None` when there is neither:
/// PostgreSQL has no default.
pub async fn existing(
    source: &MasterKeyArgs,
    store: &StoreArgs,
) -> anyhow::Result<Option<MasterKey>> {
    match KeySource::given(source) {
        Some(given) => given.load().await.map(Some),
        None => read_default(store),
    }
}

/// The embedded default's `master.key`, if this is an embedded store that has one.
fn read_default(store: &StoreArgs) -> anyhow::Result<Option<MasterKey>> {
    let path = default_path(store);
    if store.database_url.is_some() || !path.exists() {
        return Ok(None);
    }
    read_key_file(&path).map(Some)
}

/// Opens the store for a writer of customer data (`serve`, `import`) with the master
/// key it runs with, or `None` with `--encryption off`. Without a key given, the
/// embedded store's default is read, or made on first start. The key is checked
/// against the store's data keys later, before anything is written.
pub async fn open_with_key(
    keys: &KeyArgs,
    store_args: &StoreArgs,
) -> anyhow::Result<(Arc<dyn Store>, Option<MasterKey>)> {
    if keys.encryption == Encryption::Off {
        tracing::warn!("encryption at rest is off: customer data is stored in clear");
        return Ok((crate::serve::open_store(store_args).await?, None));
    }
    // A key given is fetched before the store is opened: a failing command or a
    // missing file leaves a new data directory uncreated.
    let given = match KeySource::given(&keys.source) {
        Some(source) => Some(source.load().await?),
        None => None,
    };
    let store = crate::serve::open_store(store_args).await?;
    let key = match given {
        Some(key) => key,
        None => default_key(store_args, store.as_ref()).await?,
    };
    tracing::info!(master_key = key.id(), "encryption at rest is on");
    Ok((store, Some(key)))
}

/// The embedded default's `master.key`: read, or made when the store has no data keys
/// yet (if it has some, their key was lost or moved, and a new one would not open
/// them).
async fn default_key(store_args: &StoreArgs, store: &dyn Store) -> anyhow::Result<MasterKey> {
    anyhow::ensure!(
        store_args.database_url.is_none(),
        "PostgreSQL needs a master key: {HOW_TO_GIVE} (or --encryption off)"
    );
    if let Some(key) = read_default(store_args)? {
        return Ok(key);
    }
    let path = default_path(store_args);
    let data_keys = store.data_keys().await?;
    anyhow::ensure!(
        data_keys.is_empty(),
        "{} is missing but this data directory holds {} data keys: restore the key file or {HOW_TO_GIVE}",
        path.display(),
        data_keys.len()
    );
    let key = create_key_file(&path)?;
    tracing::warn!(
        path = %path.display(),
        master_key = key.id(),
        "generated a master key in the data directory. It protects the data against \
         someone who copies the database file (baton.db and its WAL) or a backup of it \
         without this key file; it does NOT protect against anyone who can read the data \
         directory, where the key sits next to the data. In production keep the key \
         elsewhere: --master-key-file / BATON_MASTER_KEY_FILE or --master-key-command / \
         BATON_MASTER_KEY_COMMAND"
    );
    Ok(key)
}

/// The store as offline readers (`baton export training`, `baton train`) need it:
/// decrypted when it holds data keys, with the key given or the data directory's
/// `master.key`. Never makes a key.
pub async fn open_decrypting(
    store_args: &StoreArgs,
    source: &MasterKeyArgs,
) -> anyhow::Result<Arc<dyn Store>> {
    let store = crate::serve::open_store(store_args).await?;
    if store.data_keys().await?.is_empty() {
        return Ok(store);
    }
    let master = existing(source, store_args).await?.with_context(|| {
        format!("this store holds encrypted data but no master key was found: {HOW_TO_GIVE}")
    })?;
    let vault = baton_server::vault::Vault::open_store(master, Arc::clone(&store))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Arc::new(baton_server::unseal::Unsealing::new(
        store,
        Arc::new(vault),
    )))
}
