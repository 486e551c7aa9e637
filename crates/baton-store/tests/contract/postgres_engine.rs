//! The PostgreSQL engine under the contract: a schema of its own per case, in the
//! database `BATON_TEST_POSTGRES_URL` names, dropped when the case ends.
//!
//! Without the variable the cases pass without running, unless `CI` is set: CI
//! must never report a green run that skipped PostgreSQL.

use std::sync::Arc;

use baton_store::Store;
use baton_store::postgres::{PgOptions, PgStore, SchemaName, Scratch};
use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::engine::{Engine, Fresh, Nodes, Place, Tamper};

const URL_VAR: &str = "BATON_TEST_POSTGRES_URL";

/// The test database's URL; `None` when the cases may be skipped.
pub fn url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI is set but {URL_VAR} is not: the PostgreSQL cases must run in CI")
        }
        _ => {
            eprintln!("{URL_VAR} is unset: PostgreSQL case skipped");
            None
        }
    }
}

/// Runs async work from the synchronous [`Engine`] and [`Tamper`] calls, on the test's
/// own runtime (the store's connections belong to it).
fn block<F: Future>(work: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(work)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime to clean up on")
            .block_on(work),
    }
}

/// A case's schema; dropping it drops the schema and its rows.
pub struct SchemaGuard {
    scratch: Scratch,
}

impl Drop for SchemaGuard {
    fn drop(&mut self) {
        if let Err(error) = block(self.scratch.drop_schema()) {
            eprintln!(
                "cannot drop test schema {}: {error}",
                self.scratch.name.as_str()
            );
        }
    }
}

/// The PostgreSQL engine.
pub struct Postgres;

impl Postgres {
    fn open(guard: SchemaGuard) -> Fresh {
        let store = block(PgStore::open(
            guard.scratch.connect_options(),
            PgOptions::default(),
        ))
        .expect("postgres store opens");
        Fresh {
            store: Arc::new(store),
            tamper: Box::new(PgTamper {
                scratch: guard.scratch.clone(),
            }),
            place: Place::Schema(Box::new(guard)),
        }
    }
}

impl Engine for Postgres {
    fn available() -> bool {
        url().is_some()
    }

    fn fresh() -> Fresh {
        let url = url().expect("checked by available()");
        let name = SchemaName::random("baton_test", rand::random()).expect("schema name");
        let scratch = block(Scratch::create(&url, name)).expect("test schema is created");
        Self::open(SchemaGuard { scratch })
    }

    fn reopen(place: Place) -> Fresh {
        match place {
            Place::Schema(guard) => Self::open(*guard),
            Place::Dir(_) => panic!("a PostgreSQL store lives in a schema"),
        }
    }
}

impl Nodes for Postgres {
    fn another_node(place: &Place) -> Arc<dyn Store> {
        let Place::Schema(guard) = place else {
            panic!("a PostgreSQL store lives in a schema");
        };
        Arc::new(
            block(PgStore::open(
                guard.scratch.connect_options(),
                PgOptions::default(),
            ))
            .expect("a second node opens the store"),
        )
    }
}

struct PgTamper {
    scratch: Scratch,
}

impl PgTamper {
    fn run(&self, statements: &[(&'static str, &[&str])]) -> Vec<u64> {
        block(async {
            let mut conn = PgConnection::connect_with(&self.scratch.connect_options())
                .await
                .expect("tamper connection");
            let mut changed = Vec::new();
            for (sql, args) in statements {
                let mut query = sqlx::query(*sql);
                for arg in *args {
                    query = query.bind(*arg);
                }
                changed.push(
                    query
                        .execute(&mut conn)
                        .await
                        .expect("tamper statement")
                        .rows_affected(),
                );
            }
            changed
        })
    }
}

impl Tamper for PgTamper {
    fn edit_event(&self, conversation: &str, seq: u64, from: &str, to: &str) {
        let seq = seq.to_string();
        let changed = self.run(&[(
            "UPDATE events SET body = replace(body, $1, $2) WHERE conversation = $3 AND seq = $4::bigint",
            &[from, to, conversation, &seq],
        )]);
        assert_eq!(changed, [1], "the edited event exists");
    }

    fn truncate(&self, conversation: &str, from_seq: u64) {
        let (from, back) = (from_seq.to_string(), (from_seq - 1).to_string());
        self.run(&[
            (
                "DELETE FROM events WHERE conversation = $1 AND seq >= $2::bigint",
                &[conversation, &from],
            ),
            (
                "UPDATE conversations SET last_seq = $2::bigint WHERE id = $1",
                &[conversation, &back],
            ),
        ]);
    }

    fn delete_conversation(&self, conversation: &str) {
        self.run(&[
            (
                "DELETE FROM events WHERE conversation = $1",
                &[conversation],
            ),
            ("DELETE FROM conversations WHERE id = $1", &[conversation]),
        ]);
    }

    fn raw(&self, statement: &'static str) -> u64 {
        self.run(&[(statement, &[])])[0]
    }
}

/// A schema written by a newer baton is refused with a message that says so, and is
/// left untouched.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_schema_is_refused() {
    if !Postgres::available() {
        return;
    }
    let fresh = Postgres::fresh();
    let Place::Schema(guard) = &fresh.place else {
        unreachable!("a PostgreSQL store lives in a schema");
    };
    let options = guard.scratch.connect_options();
    let mut conn = PgConnection::connect_with(&options).await.unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
         VALUES (99999, 'from the future', true, '\\x00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let refused = PgStore::open(options, PgOptions::default()).await;
    let message = match refused {
        Err(error) => error.to_string(),
        Ok(_) => panic!("a newer schema must be refused"),
    };
    assert!(
        message.contains("newer baton") && message.contains("99999"),
        "{message}"
    );
}
