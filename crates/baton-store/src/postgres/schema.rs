//! The PostgreSQL schema: migrations embedded in the binary (`migrations/postgres/`),
//! applied on start under sqlx's advisory lock (several nodes may start at once) and
//! recorded in `_sqlx_migrations` of the schema the connection's `search_path` names.

use sqlx::migrate::Migrator;
use sqlx::postgres::PgPool;

use crate::StoreError;

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// The newest schema version this build knows.
pub fn known_version() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Refuses a schema written by a newer baton, then brings an older one up to date.
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let applied = applied_version(pool).await?;
    let known = known_version();
    if applied > known {
        return Err(StoreError::Engine(format!(
            "the database was written by a newer baton (schema {applied}, this build knows {known}); upgrade baton"
        )));
    }
    MIGRATOR
        .run(pool)
        .await
        .map_err(|e| StoreError::Engine(format!("cannot migrate the database: {e}")))
}

/// The newest migration applied, 0 on an empty schema.
pub async fn applied_version(pool: &PgPool) -> Result<i64, StoreError> {
    let table: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if table.is_none() {
        return Ok(0);
    }
    let version: Option<i64> =
        sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
            .fetch_one(pool)
            .await?;
    Ok(version.unwrap_or(0))
}
