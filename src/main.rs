use std::process::ExitCode;

use clap::{Parser, Subcommand};
use driftmgr::operator::{self, OperatorArgs};
use driftmgr::telemetry::{LogFormat, init_logging};

/// Finds drift between Terraform state and the live cloud.
#[derive(Parser)]
#[command(name = "driftmgr", version, about)]
struct Cli {
    /// Log format.
    #[arg(long, global = true, env = "DRIFTMGR_LOG_FORMAT", value_enum, default_value = "json")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the controllers (behind leader election) with metrics and probes.
    Operator(OperatorArgs),
    /// Serve the REST API (beside the operator, on every replica).
    Api(driftmgr::api::ApiArgs),
    /// Print the CustomResourceDefinitions as YAML.
    Crds,
    /// Compare state with the live cloud once, without a cluster. Exit code 0: no
    /// drift, 2: drift, 1: error.
    Scan(driftmgr::cli::ScanArgs),
    /// Print the least-privilege, read-only cloud policy a scan needs (AWS: an IAM
    /// policy of Describe/List/Get actions, derived from the supported types).
    Policy(driftmgr::cli::PolicyArgs),
    /// Read a password from standard input and print its argon2id hash, for a user of
    /// the API's users Secret (docs/api.md).
    HashPassword,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    driftmgr::init_memory();
    driftmgr::init_tls();
    match cli.command {
        Command::Crds => match driftmgr::crd::crds_yaml() {
            Ok(yaml) => {
                print!("{yaml}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("error: cannot render the CRDs: {error}");
                ExitCode::FAILURE
            }
        },
        Command::Policy(args) => ExitCode::from(driftmgr::cli::print_policy(&args)),
        Command::HashPassword => {
            let mut password = String::new();
            if let Err(error) = std::io::stdin().read_line(&mut password) {
                eprintln!("error: cannot read the password from standard input: {error}");
                return ExitCode::FAILURE;
            }
            let password = password.trim_end_matches(['\r', '\n']);
            if password.is_empty() {
                eprintln!("error: the password is empty");
                return ExitCode::FAILURE;
            }
            println!("{}", driftmgr::api::identity::hash_password(password));
            ExitCode::SUCCESS
        }
        Command::Scan(args) => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(error) => {
                    eprintln!("error: cannot start the async runtime: {error}");
                    return ExitCode::FAILURE;
                }
            };
            ExitCode::from(runtime.block_on(driftmgr::cli::run(args)))
        }
        Command::Api(args) => {
            init_logging(cli.log_format);
            serve("API", driftmgr::api::run(args))
        }
        Command::Operator(args) => {
            init_logging(cli.log_format);
            serve("operator", operator::run(args))
        }
    }
}

/// Runs a long-lived process (the operator, the API) to completion on a multi-threaded
/// runtime; its error is logged with its whole chain.
fn serve(what: &str, run: impl std::future::Future<Output = anyhow::Result<()>>) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "{what} failed");
            ExitCode::FAILURE
        }
    }
}
