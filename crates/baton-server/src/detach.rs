//! Work that must finish once started, whether or not anyone still waits for it.
//!
//! A handler's future is dropped when its client goes away. Anything that commits to
//! the store and then updates memory (the live state, the router, a cache) must not be
//! split by that drop, or memory falls out of step with the store. Such work runs as
//! its own task, owning what it needs; the handler only awaits its answer.

use std::future::Future;

use crate::error::ApiError;

/// Runs `work` to completion on its own task and returns its answer; dropping the
/// returned future does not stop `work`.
pub async fn run<T: Send + 'static>(
    work: impl Future<Output = Result<T, ApiError>> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::spawn(work)
        .await
        .map_err(|e| ApiError::internal(format!("a detached write failed: {e}")))?
}
