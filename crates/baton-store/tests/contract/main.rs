//! The store contract: what every engine behind [`baton_store::Store`] must do, written
//! once and run against each engine. Every store feature lands with its case here.
//!
//! # Layout
//! - `engine`: what an engine under test provides, and the embedded one.
//! - `postgres_engine`: the PostgreSQL engine, a schema per case.
//! - `seed`: sealed batches as the server would write them.
//! - `log`, `ledger`, `keys`, `directory`, `feed`, `outbox`, `data_keys`, `access`,
//!   `claims`: the cases, generic over the engine.
//! - `nodes`: cases for an engine several nodes share (two handles on one store),
//!   leadership among them included.
// clippy.toml allows unwrap in #[test] fns; the cases these tests share may unwrap too.
#![allow(clippy::unwrap_used)]

mod access;
mod claims;
mod data_keys;
mod directory;
mod engine;
mod feed;
mod keys;
mod ledger;
mod log;
mod nodes;
mod outbox;
mod postgres_engine;
mod seed;

/// One `#[tokio::test]` per case for an engine.
macro_rules! contract {
    ($name:ident, $engine:ty: $($module:ident :: $case:ident),* $(,)?) => {
        mod $name {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    if !<$engine as crate::engine::Engine>::available() {
                        return;
                    }
                    crate::$module::$case::<$engine>().await;
                }
            )*
        }
    };
}

/// Every engine runs every case; an engine may add cases of its own after them.
macro_rules! every_case {
    ($name:ident, $engine:ty $(, $module:ident :: $case:ident)* $(,)?) => {
        contract!($name, $engine:
    log::appended_events_read_back_in_order,
    log::a_batch_is_all_or_nothing,
    log::a_batch_refused_mid_write_leaves_its_neighbours_committed,
    log::a_stale_expected_seq_is_refused,
    log::ids_are_found_by_conversation,
    log::concurrent_appends_to_one_conversation_never_fork_it,
    log::pages_are_bounded_by_count_and_bytes,
    log::acknowledged_appends_survive_a_reopen,
    log::a_lone_node_leads,
    ledger::an_untouched_ledger_verifies_with_its_checkpoints,
    ledger::an_edited_event_is_named,
    ledger::a_truncated_tail_is_caught,
    ledger::a_deleted_conversation_is_caught,
    ledger::a_conversations_checkpoint_trail_proves_it_offline,
    keys::keys_are_found_by_hash_and_listed_oldest_first,
    keys::revoking_records_once_and_spares_the_last_admin,
    keys::sessions_are_stored_found_and_ended,
    directory::agents_are_created_replaced_and_listed,
    directory::summaries_filter_by_owner_agent_and_customer,
    directory::search_filters_and_pages_without_skipping_or_repeating,
    directory::events_are_found_by_kind_across_conversations,
    feed::positions_follow_commit_order_across_conversations,
    feed::concurrent_commits_get_increasing_positions,
    feed::positions_survive_a_reopen,
    outbox::subscriptions_are_stored_replaced_and_deleted,
    outbox::deliveries_are_written_with_their_batch_or_not_at_all,
    outbox::a_conversation_is_delivered_in_order_and_others_are_not_held_up,
    outbox::a_failed_try_waits_for_its_retry_then_dead_letters_and_replays,
    outbox::a_backlog_fans_out_in_order,
    data_keys::data_keys_are_stored_once_and_rewrapped,
    data_keys::a_destroyed_data_key_is_gone_and_stays_gone,
    data_keys::a_first_batch_stores_its_data_key_with_its_events_or_not_at_all,
    access::access_batches_chain_in_order_and_read_back,
    access::access_reads_filter_by_conversation_key_time_and_cursor,
    access::an_edited_access_entry_is_named,
    access::a_deleted_access_entry_is_named,
    access::a_truncated_access_log_is_caught,
    claims::a_claim_beyond_capacity_is_refused,
            $($module::$case,)*
        );
    };
}

every_case!(sqlite, crate::engine::Sqlite);

// Two handles on one PostgreSQL are two nodes; the embedded store has one writer.
every_case!(
    postgres,
    crate::postgres_engine::Postgres,
    nodes::two_nodes_appending_to_one_conversation_never_fork_it,
    nodes::two_nodes_keep_one_checkpoint_chain,
    nodes::two_nodes_creating_one_conversation_agree_on_one_winner,
    nodes::a_feed_reader_never_skips_what_commits_behind_it,
    nodes::two_nodes_never_claim_one_delivery,
    access::two_nodes_keep_one_access_chain,
    nodes::one_node_leads_and_another_takes_over_when_it_goes,
    claims::claims_racing_on_two_nodes_never_exceed_capacity,
);
