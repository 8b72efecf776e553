//! `make bench` (fleet part): 1,000 DriftScans over 10 ProviderAccounts on the real
//! API server, scanned by the release operator against moto. Reports the time until
//! all are Completed, the operator's idle and peak RSS, and per account the most
//! cloud API requests seen in any one second against its rate limit (each account
//! reaches moto through its own counting proxy).
//!
//! Needs the control plane (`make bench` starts it) and MOTO_SERVER.

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::moto::{CREDENTIALS_SECRET, Moto};
use common::{LeaseTiming, Operator};
use driftmgr::crd::{DriftScan, ScanPhase};
use kube::Api;
use kube::api::ListParams;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const ACCOUNTS: usize = 10;
const SCANS_PER_ACCOUNT: usize = 100;
const RATE_PER_SECOND: u32 = 5;
const BURST: u32 = 5;

/// A proxy to moto that records when each HTTP request passed (a request line ends
/// in `HTTP/1.1\r\n`, which no header or EC2 query body contains).
struct CountingProxy {
    url: String,
    requests: Arc<Mutex<Vec<Instant>>>,
}

impl CountingProxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (upstream, seen) = (upstream.clone(), seen.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else { return };
                    let (mut client_read, mut client_write) = client.into_split();
                    let (mut server_read, mut server_write) = server.into_split();
                    let upward = async {
                        let mut buffer = vec![0u8; 16 * 1024];
                        let mut tail: Vec<u8> = Vec::new();
                        while let Ok(n) = client_read.read(&mut buffer).await {
                            if n == 0 {
                                break;
                            }
                            tail.extend_from_slice(&buffer[..n]);
                            let marker = b"HTTP/1.1\r\n";
                            let found = tail.windows(marker.len()).filter(|w| *w == marker).count();
                            if found > 0 {
                                let now = Instant::now();
                                seen.lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .extend(std::iter::repeat_n(now, found));
                            }
                            // Keep a few bytes in case a marker straddles two reads.
                            let keep = tail.len().min(marker.len() - 1);
                            tail.drain(..tail.len() - keep);
                            if server_write.write_all(&buffer[..n]).await.is_err() {
                                break;
                            }
                        }
                    };
                    let downward = tokio::io::copy(&mut server_read, &mut client_write);
                    let _ = tokio::join!(upward, downward);
                });
            }
        });
        Self { url, requests }
    }

    /// The most requests in any one-second window, and the total.
    fn peak_per_second(&self) -> (usize, usize) {
        let mut times = self.requests.lock().unwrap_or_else(|p| p.into_inner()).clone();
        times.sort();
        let mut peak = 0;
        let mut start = 0;
        for end in 0..times.len() {
            while times[end].duration_since(times[start]) >= Duration::from_secs(1) {
                start += 1;
            }
            peak = peak.max(end - start + 1);
        }
        (peak, times.len())
    }
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    if std::env::var_os("KUBECONFIG").is_none() || std::env::var_os("MOTO_SERVER").is_none() {
        println!("fleet: KUBECONFIG or MOTO_SERVER not set: run `make bench`");
        return;
    }
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "fleet").await;
    let moto = Moto::start();
    let upstream = moto.url.trim_start_matches("http://").to_string();
    let mut proxies = Vec::new();
    for _ in 0..ACCOUNTS {
        proxies.push(CountingProxy::start(upstream.clone()).await);
    }

    let operator = Operator::start_with(
        &ns,
        "fleet-op",
        &LeaseTiming { duration_secs: 15, renew_secs: 5 },
        None,
        &["--resync-interval=1h"],
        &[],
    );
    let pid = operator.pid();
    common::wait_until(Duration::from_secs(30), "the operator to lead", || async {
        (operator.metric("driftmgr_leader").await == Some(1.0)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle_before = rss_kib(pid, "VmRSS:");

    let mut yaml = format!(
        "{CREDENTIALS_SECRET}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: state}}\ndata:\n  terraform.tfstate: '{{\"version\": 4, \"terraform_version\": \"1.9.0\", \"resources\": []}}'\n",
    );
    for (a, proxy) in proxies.iter().enumerate() {
        yaml.push_str(&format!(
            "---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: account-{a}}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: '{}'}}\n  rateLimit: {{requestsPerSecond: {RATE_PER_SECOND}, burst: {BURST}}}\n",
            proxy.url
        ));
    }
    for s in 0..ACCOUNTS * SCANS_PER_ACCOUNT {
        yaml.push_str(&format!(
            "---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: scan-{s}}}\nspec:\n  providerAccountRef: {{name: account-{}}}\n  resourceTypes: [aws_vpc]\n  schedule: {{interval: 24h}}\n  stateSources: [{{configMapRef: {{name: state, key: terraform.tfstate}}}}]\n",
            s % ACCOUNTS
        ));
    }
    let started = Instant::now();
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let created_in = started.elapsed();
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let total = ACCOUNTS * SCANS_PER_ACCOUNT;
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        let list = scans.list(&ListParams::default()).await.expect("list scans");
        let completed = list
            .items
            .iter()
            .filter(|s| s.status.as_ref().and_then(|st| st.phase) == Some(ScanPhase::Completed))
            .count();
        if completed == total {
            break;
        }
        assert!(Instant::now() < deadline, "only {completed} of {total} scans completed in 15 minutes");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let all_completed = started.elapsed();
    let peak = rss_kib(pid, "VmHWM:");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let idle_after = rss_kib(pid, "VmRSS:");

    println!(
        "fleet: {total} DriftScans over {ACCOUNTS} accounts all Completed {:.1}s after creation began (created in {:.1}s); operator RSS idle {:.0} MiB before, peak {:.0} MiB, idle {:.0} MiB after",
        all_completed.as_secs_f64(),
        created_in.as_secs_f64(),
        idle_before as f64 / 1024.0,
        peak as f64 / 1024.0,
        idle_after as f64 / 1024.0
    );
    let limit = (RATE_PER_SECOND + BURST) as usize;
    let mut worst = 0;
    for (a, proxy) in proxies.iter().enumerate() {
        let (peak, requests) = proxy.peak_per_second();
        worst = worst.max(peak);
        println!("fleet: account-{a}: {requests} cloud API requests, at most {peak} in any second");
        assert!(
            peak <= limit,
            "account-{a} exceeded its rate limit: {peak} requests in one second (limit {limit})"
        );
    }
    println!(
        "fleet: no account exceeded its rate limit ({RATE_PER_SECOND}/s, burst {BURST}: at most {limit} in any second; worst seen {worst})"
    );
    let _ = client;
}
