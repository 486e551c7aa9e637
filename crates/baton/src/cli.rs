//! The command line, as DESIGN.md's CLI contract fixes it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// baton: lossless handoff between AI assistants and human agents.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Start an embedded server with sample data and replay sample conversations.
    Demo(DemoArgs),
    /// Ledger tools.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Benchmarks; each prints one JSON object per figure.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
    /// Offline evaluations on labelled data.
    #[command(subcommand)]
    Eval(crate::eval::EvalCommand),
    /// Policy tools.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Fit confidence calibration from labelled conversations; write a policy.
    Train(crate::train::TrainArgs),
    /// Export a conversation or a customer with its ledger proof, or training data.
    Export(crate::export::ExportArgs),
    /// Import conversations from Rasa trackers, Bot Framework transcripts or baton JSONL.
    Import(crate::import::ImportArgs),
    /// Master-key tools.
    #[command(subcommand)]
    Keys(KeysCommand),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Re-wrap every data key under a new master key (events are not touched).
    RotateMaster(crate::keys::RotateArgs),
}

/// Whether customer data is encrypted at rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Encryption {
    /// Seal customer data under per-conversation keys (the default).
    On,
    /// Store events as sent (benchmarks measure the cost of `on` against it).
    Off,
}

/// Where the master key comes from, when not from the embedded default's
/// `master.key`: a file, or a command (a secrets manager's CLI). At most one.
#[derive(Debug, Clone, Args)]
pub struct MasterKeyArgs {
    /// File holding the master key (64 hex characters). Without it (or a command) the
    /// embedded store uses `master.key` in the data directory (`serve` and `import`
    /// make it on first start).
    #[arg(
        long,
        env = "BATON_MASTER_KEY_FILE",
        conflicts_with = "master_key_command"
    )]
    pub master_key_file: Option<PathBuf>,
    /// Command run with `sh -c` at start whose stdout is the master key, as in a key
    /// file (e.g. `vault kv get -field=key secret/baton`); it has 10 s.
    // The value may carry a token: `--help` must not print it from the environment.
    #[arg(long, env = "BATON_MASTER_KEY_COMMAND", hide_env_values = true)]
    pub master_key_command: Option<String>,
}

/// The master key, and whether encryption is on at all.
#[derive(Debug, Clone, Args)]
pub struct KeyArgs {
    #[command(flatten)]
    pub source: MasterKeyArgs,
    /// Encryption at rest of customer data.
    #[arg(long, value_enum, default_value = "on", env = "BATON_ENCRYPTION")]
    pub encryption: Encryption,
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Validate a policy file; errors name the line.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
    /// Print the built-in default policy.
    Default,
}

/// Where the data lives.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Directory of the embedded SQLite store.
    #[arg(long, default_value = "./baton-data", env = "BATON_DATA_DIR")]
    pub data_dir: PathBuf,
    /// A `postgres://` URL selects PostgreSQL instead of the embedded store.
    #[arg(long, env = "BATON_DATABASE_URL")]
    pub database_url: Option<String>,
    /// PostgreSQL connections this node opens at most (append writers included).
    #[arg(long, default_value_t = 16, env = "BATON_DATABASE_POOL_SIZE")]
    pub database_pool_size: u32,
    /// PostgreSQL transactions of appends this node keeps in flight at once; each
    /// takes every append waiting (group commit).
    #[arg(long, default_value_t = 2, env = "BATON_DATABASE_WRITERS")]
    pub database_writers: usize,
}

/// `baton serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8640", env = "BATON_LISTEN")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub store: StoreArgs,
    /// Decision policy (TOML); the built-in default when absent.
    #[arg(long, env = "BATON_POLICY")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub keys: KeyArgs,
    /// Retention (`retention.closed_after_days`): erase resolved conversations this
    /// many days after their last event. Kept forever when absent.
    #[arg(
        long = "retention-closed-after-days",
        env = "BATON_RETENTION_CLOSED_AFTER_DAYS"
    )]
    pub retention_closed_after_days: Option<u32>,
    /// This node's name in logs, `/healthz` and metrics; the host name when absent.
    #[arg(long, env = "BATON_NODE_ID")]
    pub node_id: Option<String>,
    /// NATS (with JetStream) that tells the nodes sharing a PostgreSQL database what
    /// the others wrote. Needs `--database-url`.
    #[arg(long, env = "BATON_NATS_URL")]
    pub nats_url: Option<String>,
    /// The JetStream stream the nodes of one cluster share (tests give each its own).
    #[arg(long, env = "BATON_NATS_STREAM", default_value = "BATON", hide = true)]
    pub nats_stream: String,
}

/// `baton demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8640")]
    pub listen: SocketAddr,
    /// Directory for the demo's store (a fresh temporary one when absent).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Replay the sample conversations, print the summary and exit instead of serving on.
    #[arg(long)]
    pub exit: bool,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Recompute every chain; exit 1 naming the first broken conversation and seq.
    Verify(crate::ledger::VerifyArgs),
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => crate::serve::run(args).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Ledger(LedgerCommand::Verify(args)) => crate::ledger::verify(args).await,
        Command::Bench(command) => crate::bench::run(command).await,
        Command::Eval(command) => crate::eval::run(command).await,
        Command::Train(args) => crate::train::run(args).await,
        Command::Export(args) => match args.command {
            Some(command) => crate::export::run(command).await,
            None => crate::ledger::export(args.ledger).await,
        },
        Command::Import(args) => crate::import::run(args).await,
        Command::Keys(KeysCommand::RotateMaster(args)) => crate::keys::rotate(args).await,
        Command::Policy(PolicyCommand::Check { file }) => crate::eval::check_policy(&file),
        Command::Policy(PolicyCommand::Default) => {
            print!("{}", baton_core::policy::DEFAULT_POLICY_TOML);
            Ok(ExitCode::SUCCESS)
        }
    }
}
