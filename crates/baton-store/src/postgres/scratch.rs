//! Throwaway schemas: each test and each benchmark run gets a fresh one in a shared
//! database, so runs never see each other's rows and can run side by side.
//!
//! DDL cannot take a bound parameter, so a schema name is the one identifier ever
//! spliced into SQL here, and only as a [`SchemaName`]: lowercase ASCII letters,
//! digits and `_`, starting with a letter, so it never needs quoting.

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{AssertSqlSafe, Connection};

use crate::StoreError;

/// A validated schema name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaName(String);

impl SchemaName {
    /// Validates a name: `[a-z][a-z0-9_]{0,62}`.
    pub fn parse(raw: &str) -> Result<Self, StoreError> {
        let mut bytes = raw.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_lowercase());
        let rest_ok = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if first_ok && rest_ok && raw.len() <= 63 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(StoreError::Engine(format!(
                "{raw:?} is not a schema name ([a-z][a-z0-9_]*, at most 63 bytes)"
            )))
        }
    }

    /// A fresh name `<prefix>_<16 hex digits>` from `random`.
    pub fn random(prefix: &str, random: u64) -> Result<Self, StoreError> {
        Self::parse(&format!("{prefix}_{random:016x}"))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A schema created for one run; [`Scratch::drop_schema`] removes it and its rows.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// The server and database.
    pub server: PgConnectOptions,
    /// The schema.
    pub name: SchemaName,
}

impl Scratch {
    /// Creates schema `name` in the database `url` names.
    pub async fn create(url: &str, name: SchemaName) -> Result<Self, StoreError> {
        let server: PgConnectOptions = url
            .parse()
            .map_err(|e| StoreError::Engine(format!("not a PostgreSQL URL: {e}")))?;
        let mut conn = PgConnection::connect_with(&server).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {}", name.as_str())))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(Self { server, name })
    }

    /// Connect options that put the store in this schema (`search_path`, sent by the
    /// driver as a startup parameter).
    pub fn connect_options(&self) -> PgConnectOptions {
        self.server
            .clone()
            .options([("search_path", self.name.as_str())])
    }

    /// Drops the schema and everything in it. A session that still holds a lock in
    /// it (a transaction of an app whose runtime stopped mid-way, as a test's does when
    /// it ends) would make the drop wait forever: such sessions are ended first, and
    /// the drop waits for locks a few seconds at a time.
    pub async fn drop_schema(&self) -> Result<(), StoreError> {
        let mut conn = PgConnection::connect_with(&self.server).await?;
        sqlx::query("SET lock_timeout = '3s'")
            .execute(&mut conn)
            .await?;
        let mut tries = 0;
        loop {
            sqlx::query(
                "SELECT pg_terminate_backend(pid) FROM (
                     SELECT DISTINCT l.pid FROM pg_locks l
                     JOIN pg_class c ON c.oid = l.relation
                     JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND l.pid <> pg_backend_pid()
                 ) holders",
            )
            .bind(self.name.as_str())
            .execute(&mut conn)
            .await?;
            let dropped = sqlx::query(AssertSqlSafe(format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                self.name.as_str()
            )))
            .execute(&mut conn)
            .await;
            match dropped {
                Ok(_) => break,
                Err(_) if tries < 5 => tries += 1,
                Err(error) => return Err(error.into()),
            }
        }
        conn.close().await?;
        Ok(())
    }
}
