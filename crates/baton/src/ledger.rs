//! `baton ledger verify`: offline verification of a store.

use std::process::ExitCode;

use crate::cli::StoreArgs;

/// Exit 0 if every chain (the access log's included) verifies; else exit 1 naming the
/// first break (`access log entry N: ...` for the access log).
pub async fn verify(args: StoreArgs) -> anyhow::Result<ExitCode> {
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
        Err(broken) => {
            if broken.kind.is_access_log() {
                println!("broken: {:?}: {}", broken.kind, broken.message);
                return Ok(ExitCode::from(1));
            }
            let conversation = broken
                .conversation
                .as_ref()
                .map_or("(checkpoint chain)".to_owned(), |c| c.to_string());
            println!(
                "broken: conversation {conversation} at seq {}: {:?}: {}",
                broken.seq, broken.kind, broken.message
            );
            Ok(ExitCode::from(1))
        }
    }
}
