//! The `baton` binary: serve, demo, ledger verify, bench.
//!
//! # Layout
//! - [`cli`]: the command line.
//! - [`serve`]: opening a store and running the server; [`demo`]: the guided tour.
//! - [`import`]: other systems' logs through the append pipeline.
//! - [`ledger`]: offline verification; [`bench`]: the benchmarks; [`eval`]: evaluations.

mod bench;
mod cli;
mod demo;
mod eval;
mod export;
mod import;
mod keys;
mod ledger;
mod serve;
mod train;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("baton: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("baton: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
