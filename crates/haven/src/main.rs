//! The `haven` binary: serve the pages and API, load the demo province, run migrations, manage users and
//! keys, verify the audit chain, back up and restore.

use clap::Parser;
use haven::cli;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    cli::init_logging();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("haven: cannot start the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("haven: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
