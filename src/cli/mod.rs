//! `driftmgr scan`: the engine as a one-shot command, for a laptop or a CI job.
//! Exit code 0: every in-scope resource verified, no drift; 2: drift; 3: partial
//! (some regions or types could not be discovered; the unverified count is printed);
//! 1: error, or nothing could be verified.

mod output;

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use k8s_openapi::jiff::Timestamp;

use crate::crd::{
    AmbientCredentials, CircuitBreakerSettings, CloudProvider, Credentials, EndpointOverride, RateLimit,
};
use crate::drift::{self, EngineConfig, Verdict};
use crate::provider::{self, CredentialSource, ProgressSink, ProviderSettings};
use crate::resilience::{AccountGuard, GuardSettings};
use crate::state::{
    AzureCredential, CloudWorkspaces, HttpAuth, HttpClientOptions, StateFile, StateLocation,
    WorkspaceSelector, azure_store, gcs_store, read_cloud_states, read_http_state, read_local_states,
    read_object_states,
};
pub use output::{OutputFormat, render};

/// Flags of `driftmgr scan`.
#[derive(clap::Args, Debug)]
pub struct ScanArgs {
    /// State to compare: a file, a directory (every *.tfstate below it),
    /// s3://bucket/key, or s3://bucket/prefix/ (every *.tfstate under it). Repeatable.
    #[arg(long = "state", required = true)]
    pub states: Vec<String>,
    /// The cloud: one of the registered providers (aws, gcp).
    #[arg(long, default_value = "aws", value_parser = parse_provider)]
    pub provider: CloudProvider,
    /// Regions to discover (repeatable or comma-separated); every enabled region when unset.
    #[arg(long = "region", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// GCP projects to discover (repeatable or comma-separated); required for gcp.
    #[arg(long = "project", value_delimiter = ',')]
    pub projects: Vec<String>,
    /// Endpoint override for every service (an emulator, LocalStack, a VPC endpoint).
    #[arg(long, env = "DRIFTMGR_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Resource types to compare (repeatable or comma-separated); all supported when unset.
    #[arg(long = "resource-type", value_delimiter = ',')]
    pub resource_types: Vec<String>,
    /// Report everything, including provider-managed tags and default resources.
    #[arg(long)]
    pub no_default_ignores: bool,
    /// Output format.
    #[arg(long, short, value_enum, default_value = "table")]
    pub output: OutputFormat,
    /// API requests per second for the account.
    #[arg(long, default_value_t = 20)]
    pub rate_limit: u32,
}

/// A registered cloud by name.
fn parse_provider(name: &str) -> Result<CloudProvider, String> {
    let names: Vec<&str> = provider::CLOUDS.iter().map(|c| c.provider.as_str()).collect();
    provider::CLOUDS
        .iter()
        .map(|c| c.provider)
        .find(|p| p.as_str() == name)
        .ok_or_else(|| format!("unknown provider {name:?}; supported: {}", names.join(", ")))
}

/// Flags of `driftmgr policy`.
#[derive(clap::Args, Debug)]
pub struct PolicyArgs {
    /// The cloud whose read-only policy to print.
    #[arg(long, default_value = "aws", value_parser = parse_provider)]
    pub provider: CloudProvider,
}

/// Prints the least-privilege read-only policy a scan needs (derived from the type
/// declarations); returns the process exit code.
pub fn print_policy(args: &PolicyArgs) -> u8 {
    match provider::cloud(args.provider).and_then(|cloud| (cloud.read_policy)()) {
        Some(policy) => {
            println!("{policy}");
            EXIT_NO_DRIFT
        }
        None => {
            eprintln!("error: driftmgr cannot derive a read-only policy for {} yet", args.provider.as_str());
            EXIT_ERROR
        }
    }
}

/// Exit codes, documented in the README.
pub const EXIT_NO_DRIFT: u8 = 0;
pub const EXIT_ERROR: u8 = 1;
pub const EXIT_DRIFT: u8 = 2;
pub const EXIT_PARTIAL: u8 = 3;

/// Runs a scan and prints the report; returns the process exit code.
pub async fn run(args: ScanArgs) -> u8 {
    match scan(&args).await {
        Ok(report) => {
            print!("{}", render(&report, args.output));
            match report.verdict() {
                Verdict::NothingVerified => {
                    eprintln!(
                        "error: discovery failed everywhere, nothing was verified: {}",
                        report.failure_summary()
                    );
                    EXIT_ERROR
                }
                Verdict::Partial => {
                    eprintln!(
                        "partial: {} managed resources could not be verified{}",
                        report.unverified,
                        if report.failures.is_empty() {
                            String::new()
                        } else {
                            format!(" ({})", report.failure_summary())
                        }
                    );
                    EXIT_PARTIAL
                }
                Verdict::Drift => EXIT_DRIFT,
                Verdict::NoDrift => EXIT_NO_DRIFT,
            }
        }
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_ERROR
        }
    }
}

/// Refuses resource types discovery does not list, naming the ones it does.
fn check_resource_types(cloud: CloudProvider, wanted: &[String]) -> Result<(), String> {
    let supported = provider::supported_types(cloud);
    let unknown: Vec<&str> = wanted.iter().map(String::as_str).filter(|t| !supported.contains(t)).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    Err(format!(
        "--resource-type: {} not supported for {}; supported types: {}",
        unknown.join(", "),
        cloud.as_str(),
        supported.join(", ")
    ))
}

async fn scan(args: &ScanArgs) -> Result<drift::Report, String> {
    let cloud = args.provider;
    check_resource_types(cloud, &args.resource_types)?;
    let locations: Vec<StateLocation> =
        args.states.iter().map(|s| StateLocation::parse(s)).collect::<Result<_, _>>()?;
    let guard = Arc::new(AccountGuard::new(
        GuardSettings {
            rate_limit: RateLimit {
                requests_per_second: args.rate_limit.max(1),
                burst: args.rate_limit.max(1) * 2,
            },
            circuit_breaker: CircuitBreakerSettings::default(),
            ..GuardSettings::default()
        },
        None,
    ));
    let settings = ProviderSettings {
        provider: cloud,
        regions: args.regions.clone(),
        projects: args.projects.clone(),
        endpoint: args.endpoint.clone().map(|url| EndpointOverride { url: Some(url), services: None }),
        // The CLI runs as its user: the cloud's own default chain (AWS profiles and
        // environment, Google application default credentials).
        spec: Credentials::None(AmbientCredentials {}),
        credentials: CredentialSource::Ambient,
        guard,
    };
    let provider = provider::connect(settings).await.map_err(|e| e.to_string())?;
    let mut states: Vec<StateFile> = Vec::new();
    let keep = provider::cloud_rules(provider.terraform_name()).attribute_filter();
    for location in &locations {
        match location {
            StateLocation::Local(path) => {
                states.extend(read_local_states(path, keep).map_err(|e| e.to_string())?)
            }
            StateLocation::S3 { bucket, key, prefix } => {
                let store = provider.state_bucket(bucket, None).await.map_err(|e| e.to_string())?;
                let read =
                    read_object_states(store.as_ref(), "s3", bucket, key.as_deref(), prefix.as_deref(), keep)
                        .await;
                states.extend(read.map_err(|e| e.to_string())?);
            }
            StateLocation::Gcs { bucket, key, prefix } => {
                let key_json = gcs_key_from_env()?;
                let store = gcs_store(bucket, &key_json).map_err(|e| e.to_string())?;
                let read =
                    read_object_states(store.as_ref(), "gs", bucket, key.as_deref(), prefix.as_deref(), keep);
                states.extend(read.await.map_err(|e| e.to_string())?);
            }
            StateLocation::AzureBlob { account, container, key, prefix } => {
                let credential = match (
                    std::env::var("AZURE_STORAGE_ACCOUNT_KEY"),
                    std::env::var("AZURE_STORAGE_SAS_TOKEN"),
                ) {
                    (Ok(key), _) => AzureCredential::AccessKey(key),
                    (Err(_), Ok(token)) => AzureCredential::SasToken(token),
                    _ => {
                        return Err(
                            "azblob://: set AZURE_STORAGE_ACCOUNT_KEY or AZURE_STORAGE_SAS_TOKEN".into()
                        );
                    }
                };
                let endpoint = std::env::var("AZURE_STORAGE_ENDPOINT").ok();
                let store = azure_store(account, container, &credential, endpoint.as_deref())
                    .map_err(|e| e.to_string())?;
                let bucket = format!("{account}/{container}");
                let read = read_object_states(
                    store.as_ref(),
                    "azblob",
                    &bucket,
                    key.as_deref(),
                    prefix.as_deref(),
                    keep,
                );
                states.extend(read.await.map_err(|e| e.to_string())?);
            }
            StateLocation::Http(url) => states.push(
                read_http_state(url, &http_options_from_env()?, keep).await.map_err(|e| e.to_string())?,
            ),
            StateLocation::TerraformCloud { organization, workspace } => {
                let workspaces = cloud_workspaces_from_env(organization, workspace)?;
                states.extend(read_cloud_states(&workspaces, keep).await.map_err(|e| e.to_string())?);
            }
        }
    }
    let config = EngineConfig {
        provider: provider.terraform_name().to_string(),
        resource_types: args.resource_types.clone(),
        default_ignores: !args.no_default_ignores,
        ..EngineConfig::default()
    };
    let progress = Progress::new();
    let report = crate::scan::scan(provider.as_ref(), &states, &config, &progress, Timestamp::now()).await;
    progress.bar.finish_and_clear();
    Ok(report)
}

/// A GCS service-account key: the file `GOOGLE_APPLICATION_CREDENTIALS` names, or the
/// JSON itself in `GOOGLE_SERVICE_ACCOUNT_KEY`.
fn gcs_key_from_env() -> Result<String, String> {
    if let Ok(json) = std::env::var("GOOGLE_SERVICE_ACCOUNT_KEY") {
        return Ok(json);
    }
    let path = std::env::var("GOOGLE_APPLICATION_CREDENTIALS").map_err(|_| {
        "gs://: set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file (or GOOGLE_SERVICE_ACCOUNT_KEY to its contents)"
            .to_string()
    })?;
    std::fs::read_to_string(&path).map_err(|e| format!("GOOGLE_APPLICATION_CREDENTIALS {path}: {e}"))
}

/// The http backend's credentials as Terraform reads them from the environment
/// (`TF_HTTP_USERNAME`, `TF_HTTP_PASSWORD`), and a CA bundle (`DRIFTMGR_HTTP_CA_FILE`).
fn http_options_from_env() -> Result<HttpClientOptions, String> {
    let auth = match (std::env::var("TF_HTTP_USERNAME"), std::env::var("TF_HTTP_PASSWORD")) {
        (Ok(username), Ok(password)) => HttpAuth::Basic { username, password },
        (Ok(_), Err(_)) | (Err(_), Ok(_)) => {
            return Err("set both TF_HTTP_USERNAME and TF_HTTP_PASSWORD, or neither".into());
        }
        _ => HttpAuth::None,
    };
    let ca_pem = match std::env::var_os("DRIFTMGR_HTTP_CA_FILE") {
        Some(path) => Some(
            std::fs::read(&path)
                .map_err(|e| format!("DRIFTMGR_HTTP_CA_FILE {}: {e}", path.to_string_lossy()))?,
        ),
        None => None,
    };
    Ok(HttpClientOptions { auth, ca_pem })
}

/// A Terraform Cloud source with the token as Terraform finds it: `TF_TOKEN_<host>`
/// (dots as underscores), for `TF_CLOUD_HOSTNAME` (default app.terraform.io), or
/// `DRIFTMGR_TFC_ADDRESS` as a whole URL.
fn cloud_workspaces_from_env(organization: &str, workspace: &str) -> Result<CloudWorkspaces, String> {
    let address = match std::env::var("DRIFTMGR_TFC_ADDRESS") {
        Ok(address) => address,
        Err(_) => format!(
            "https://{}",
            std::env::var("TF_CLOUD_HOSTNAME").unwrap_or_else(|_| "app.terraform.io".into())
        ),
    };
    let url = reqwest::Url::parse(&address).map_err(|_| format!("{address}: not a URL"))?;
    let host = url.host_str().ok_or_else(|| format!("{address}: no host"))?;
    let variable = format!("TF_TOKEN_{}", host.replace(['.', '-'], "_"));
    let token = std::env::var(&variable).map_err(|_| format!("tfc://: set {variable} to an API token"))?;
    let select = match workspace.strip_suffix('*') {
        Some(prefix) => WorkspaceSelector::Prefix(prefix.to_string()),
        None => WorkspaceSelector::Name(workspace.to_string()),
    };
    Ok(CloudWorkspaces { address, organization: organization.into(), select, token, ca_pem: None })
}

/// A progress bar on stderr, shown only on a terminal.
struct Progress {
    bar: ProgressBar,
}

impl Progress {
    fn new() -> Self {
        let bar = if std::io::stderr().is_terminal() { ProgressBar::new(0) } else { ProgressBar::hidden() };
        if let Ok(style) = ProgressStyle::with_template("{spinner} discovering [{bar:30}] {pos}/{len} {msg}")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Self { bar }
    }
}

impl ProgressSink for Progress {
    fn start(&self, units: u64) {
        self.bar.set_length(units);
    }

    fn advance(&self, step: &str) {
        self.bar.set_message(step.to_string());
        self.bar.inc(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_resource_types_are_refused_with_the_supported_list() {
        assert!(check_resource_types(CloudProvider::Aws, &["aws_instance".into()]).is_ok());
        let err = check_resource_types(CloudProvider::Aws, &["aws_instance".into(), "aws_sqs_queue".into()])
            .expect_err("unknown type");
        assert!(
            err.starts_with(
                "--resource-type: aws_sqs_queue not supported for aws; supported types: aws_instance, "
            ),
            "{err}"
        );
    }
}
