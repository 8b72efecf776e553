//! `driftmgr operator`: the controllers behind leader election, plus probes and metrics.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kube::Client;
use tokio::sync::watch;
use tracing::{error, info, warn};

use crate::controller::{self, Context, ControllerConfig, RetryPolicy, TenancyPolicy};
use crate::duration::parse_duration_arg;
use crate::leader::{LeaderConfig, LeaderElection};
use crate::telemetry::{self, HealthState, Metrics};

/// Flags of `driftmgr operator`.
#[derive(clap::Args, Debug)]
pub struct OperatorArgs {
    /// Watch only this namespace (all namespaces when unset).
    #[arg(long, env = "DRIFTMGR_WATCH_NAMESPACE")]
    pub watch_namespace: Option<String>,
    /// Address for /metrics, /healthz and /readyz.
    #[arg(long, env = "DRIFTMGR_METRICS_ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: SocketAddr,
    /// Name of the leader-election Lease.
    #[arg(long, env = "DRIFTMGR_LEASE_NAME", default_value = "driftmgr-operator")]
    pub lease_name: String,
    /// Namespace of the Lease (defaults to the pod's namespace, then `default`).
    #[arg(long, env = "POD_NAMESPACE")]
    pub lease_namespace: Option<String>,
    /// How long a lease is valid after its last renewal.
    #[arg(long, env = "DRIFTMGR_LEASE_DURATION", default_value = "15s", value_parser = parse_duration_arg)]
    pub lease_duration: Duration,
    /// How often the leader renews the lease; shorter than --lease-duration.
    #[arg(long, env = "DRIFTMGR_LEASE_RENEW_INTERVAL", default_value = "5s", value_parser = parse_duration_arg)]
    pub lease_renew_interval: Duration,
    /// This replica's identity in the Lease (defaults to the pod name, then host name and PID).
    #[arg(long, env = "POD_NAME")]
    pub identity: Option<String>,
    /// Re-check healthy objects this often.
    #[arg(long, default_value = "5m", value_parser = parse_duration_arg)]
    pub resync_interval: Duration,
    /// Re-check objects waiting on a missing reference this often.
    #[arg(long, default_value = "30s", value_parser = parse_duration_arg)]
    pub retry_interval: Duration,
    /// Reconciles each controller runs at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_concurrent_reconciles: u16,
    /// Scans of one ProviderAccount that run at once (others wait their turn).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub max_scans_per_account: u32,
    /// Longest a scan may run before it is failed with ScanDeadlineExceeded.
    #[arg(long, default_value = "30m", value_parser = parse_duration_arg)]
    pub scan_timeout: Duration,
    /// Most `driftmgr_drifted_resource` series one scan exports (the most severe
    /// items); the per-kind counts in `driftmgr_drift_items` stay complete.
    #[arg(long, default_value_t = 100)]
    pub max_drift_series_per_scan: usize,
    /// Longest wait before retrying a failed scan (the wait doubles from
    /// --retry-interval with each failure in a row).
    #[arg(long, default_value = "10m", value_parser = parse_duration_arg)]
    pub max_retry_interval: Duration,
    /// Namespaces whose ProviderAccounts may use the operator's own credentials
    /// (`credentials: none`, `assumeRole` without a source Secret), comma-separated;
    /// `*` allows all. None by default.
    #[arg(long, env = "DRIFTMGR_AMBIENT_CREDENTIAL_NAMESPACES", value_delimiter = ',')]
    pub ambient_credential_namespaces: Vec<String>,
    /// Endpoint URLs the operator's own credentials may be sent to, comma-separated.
    /// None by default: such accounts use the cloud's public endpoints only.
    #[arg(long, env = "DRIFTMGR_ALLOWED_ENDPOINTS", value_delimiter = ',')]
    pub allowed_endpoints: Vec<String>,
}

/// Runs until SIGTERM or SIGINT. Returns an error only for start-up failures.
pub async fn run(args: OperatorArgs) -> anyhow::Result<()> {
    let identity = args.identity.clone().unwrap_or_else(default_identity);
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(HealthState::default());
    let (shutdown_tx, shutdown_rx) = watch::channel(false);

    let (bound, http_task) =
        telemetry::serve(args.metrics_addr, metrics.clone(), health.clone(), wait_for(shutdown_rx.clone()))
            .await?;
    info!(addr = %bound, %identity, "serving /metrics, /healthz and /readyz");

    let client = Client::try_default().await?;
    let version = client.apiserver_version().await?;
    info!(server = %version.git_version, "connected to the API server");
    health.set_ready();

    let lease_namespace = args
        .lease_namespace
        .clone()
        .or_else(|| args.watch_namespace.clone())
        .unwrap_or_else(|| "default".into());
    let election = LeaderElection::start(
        client.clone(),
        LeaderConfig {
            lease_name: args.lease_name.clone(),
            namespace: lease_namespace,
            identity: identity.clone(),
            lease_duration: args.lease_duration,
            renew_interval: args.lease_renew_interval,
        },
    )
    .await?;

    let ctx = Arc::new(Context::new(
        client,
        metrics.clone(),
        ControllerConfig {
            namespace: args.watch_namespace.clone(),
            resync_interval: args.resync_interval,
            retry_interval: args.retry_interval,
            retry: RetryPolicy { base: args.retry_interval, max: args.max_retry_interval },
            max_drift_series: args.max_drift_series_per_scan,
            max_concurrent_reconciles: args.max_concurrent_reconciles,
            max_scans_per_account: args.max_scans_per_account,
            scan_timeout: args.scan_timeout,
            tenancy: TenancyPolicy {
                ambient_namespaces: args.ambient_credential_namespaces.clone(),
                allowed_endpoints: args.allowed_endpoints.clone(),
            },
        },
        identity,
    ));

    tokio::spawn(forward_signals(shutdown_tx));
    lead_while_elected(ctx, election.subscribe(), shutdown_rx, &metrics).await;

    info!("shutting down: releasing the leader lease");
    election.release().await;
    match http_task.await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => warn!(%error, "HTTP server ended with an error"),
        Err(error) => warn!(%error, "HTTP server task failed"),
    }
    info!("stopped");
    Ok(())
}

/// Runs the controllers while this replica leads, and stops them the moment it does
/// not: the controllers' future is dropped, which cancels every in-flight reconcile.
async fn lead_while_elected(
    ctx: Arc<Context>,
    mut leader: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
    metrics: &Metrics,
) {
    loop {
        tokio::select! {
            result = leader.wait_for(|leading| *leading) => if result.is_err() { return },
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
        metrics.leader.set(1);
        info!("leading: starting controllers");
        tokio::select! {
            _ = controller::run(ctx.clone()) => error!("controllers ended unexpectedly"),
            _ = leader.wait_for(|leading| !*leading) => warn!("leadership lost: controllers stopped"),
            _ = shutdown.wait_for(|stop| *stop) => {
                metrics.leader.set(0);
                info!("controllers stopped for shutdown");
                return;
            }
        }
        metrics.leader.set(0);
        // A standby exports no per-scan series: the leader's are the current ones.
        metrics.retain_scan_series(|_| false);
    }
}

/// Sends `true` on SIGTERM or SIGINT.
pub(crate) async fn forward_signals(shutdown: watch::Sender<bool>) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        error!("cannot install signal handlers; the operator will only stop when killed");
        return;
    };
    tokio::select! {
        _ = term.recv() => info!("SIGTERM received"),
        _ = int.recv() => info!("SIGINT received"),
    }
    let _ = shutdown.send(true);
}

async fn wait_for(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

fn default_identity() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "driftmgr".into());
    format!("{host}-{}", std::process::id())
}
