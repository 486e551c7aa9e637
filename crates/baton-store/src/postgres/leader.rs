//! Leadership on PostgreSQL: `pg_try_advisory_lock` on a connection held for as
//! long as the node leads. Advisory locks are per database, so the key is derived
//! from the schema (`hashtextextended(current_schema() || ...)`): nodes of one
//! schema compete, stores in other schemas of the same database do not.

use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio::sync::Mutex;

use crate::StoreFuture;
use crate::leadership::Leadership;

/// What the lock is for, hashed with the schema into the advisory lock key.
const PURPOSE: &str = ".baton.router";

/// A node's claim on one schema's leadership.
pub struct PgLeadership {
    connect: PgConnectOptions,
    /// The connection holding the lock, while this claim leads.
    held: Mutex<Option<PgConnection>>,
}

impl PgLeadership {
    /// A claim that connects with `connect` (the store's own options).
    pub fn new(connect: PgConnectOptions) -> Self {
        Self {
            connect,
            held: Mutex::new(None),
        }
    }
}

impl Leadership for PgLeadership {
    fn try_lead(&self) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let mut held = self.held.lock().await;
            if let Some(conn) = held.as_mut() {
                if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                    return Ok(true);
                }
                // The connection is gone, and the lock with it: claim it anew.
                *held = None;
            }
            let mut conn = PgConnection::connect_with(&self.connect).await?;
            let won: bool = sqlx::query_scalar(
                "SELECT pg_try_advisory_lock(hashtextextended(current_schema() || $1, 0))",
            )
            .bind(PURPOSE)
            .fetch_one(&mut conn)
            .await?;
            if won {
                *held = Some(conn);
            } else {
                conn.close().await?;
            }
            Ok(won)
        })
    }

    fn still_leads(&self) -> StoreFuture<'_, bool> {
        Box::pin(async move {
            let mut held = self.held.lock().await;
            let Some(conn) = held.as_mut() else {
                return Ok(false);
            };
            if sqlx::query("SELECT 1").execute(&mut *conn).await.is_ok() {
                Ok(true)
            } else {
                *held = None;
                Ok(false)
            }
        })
    }

    fn resign(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            // Closing the session releases every advisory lock it holds.
            if let Some(conn) = self.held.lock().await.take() {
                conn.close().await?;
            }
            Ok(())
        })
    }
}
