//! Two operator replicas on the real API server: one leads and reconciles, the
//! other stands by; when the leader dies the standby takes over within lease
//! duration + renew interval, and at no moment do both reconcile.

mod common;

use std::time::Duration;

use common::{LeaseTiming, Operator, log_time, now_secs};
use driftmgr::crd::ProviderAccount;
use k8s_openapi::api::coordination::v1::Lease;
use kube::{Api, Client};

const LEASE_NAME: &str = "driftmgr-operator";

async fn leader_gauge(operator: &Operator) -> Option<f64> {
    operator.metric("driftmgr_leader").await
}

async fn wait_leader(operator: &Operator, timeout: Duration) {
    common::wait_until(timeout, &format!("{} to lead", operator.identity), || async {
        (leader_gauge(operator).await == Some(1.0)).then_some(())
    })
    .await;
}

async fn lease_holder(client: &Client, ns: &str) -> Option<String> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), ns);
    leases.get_opt(LEASE_NAME).await.ok().flatten()?.spec?.holder_identity
}

/// Creates an account whose Secret never appears, so the leader reconciles it every
/// retry interval (2 s): a steady stream of reconciles to attribute to replicas.
async fn busy_account(client: &Client, ns: &str, name: &str) {
    let yaml = format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: {name}}}\nspec:\n  provider: aws\n  credentials: {{secretRef: {{name: never-{name}}}}}\n"
    );
    common::create_yaml(client, ns, &yaml).await.remove(0).expect("account created");
}

/// Samples both replicas' leader gauges for `duration`, asserting they never both lead.
async fn assert_single_leader(a: &Operator, b: &Operator, duration: Duration) {
    let end = std::time::Instant::now() + duration;
    while std::time::Instant::now() < end {
        let (la, lb) = (leader_gauge(a).await, leader_gauge(b).await);
        assert!(!(la == Some(1.0) && lb == Some(1.0)), "both replicas report leadership");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A namespace with a busy account, replica-a leading and replica-b standing by,
/// watched together for 5 s (at least one renewal) to see that only one leads.
async fn leader_and_standby(prefix: &str, timing: &LeaseTiming) -> (Client, String, Operator, Operator) {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, prefix).await;
    busy_account(&client, &ns, "busy").await;
    let a = Operator::start(&ns, "replica-a", timing);
    wait_leader(&a, Duration::from_secs(30)).await;
    let b = Operator::start(&ns, "replica-b", timing);
    common::wait_until(Duration::from_secs(30), "replica-b ready", || async {
        (b.http_get("/readyz").await?.0 == 200).then_some(())
    })
    .await;
    assert_single_leader(&a, &b, Duration::from_secs(5)).await;
    (client, ns, a, b)
}

#[tokio::test]
async fn standby_takes_over_when_the_leader_is_killed() {
    let timing = LeaseTiming { duration_secs: 6, renew_secs: 2 };
    let (client, ns, mut a, b) = leader_and_standby("leader-kill", &timing).await;
    assert_eq!(lease_holder(&client, &ns).await.as_deref(), Some("replica-a"));
    assert!(!a.log_entries("reconciled").is_empty(), "the leader reconciles");
    assert!(b.log_entries("reconciled").is_empty(), "the standby must not reconcile");
    assert_eq!(leader_gauge(&b).await, Some(0.0));

    let killed_at = now_secs();
    a.kill();
    wait_leader(&b, Duration::from_secs(30)).await;
    let acquired = b.log_entries("acquired leadership");
    assert_eq!(acquired.len(), 1, "replica-b acquires once");
    let takeover = log_time(&acquired[0]) - killed_at;
    let bound = (timing.duration_secs + timing.renew_secs) as f64;
    println!(
        "takeover after SIGKILL: {takeover:.2}s (lease duration {}s + renew interval {}s = {bound}s)",
        timing.duration_secs, timing.renew_secs
    );
    assert!(takeover > 0.0 && takeover <= bound, "takeover took {takeover:.2}s, bound {bound}s");
    assert_eq!(lease_holder(&client, &ns).await.as_deref(), Some("replica-b"));

    // Reconciles never overlap: all of A's happened before it died, all of B's after it led.
    let acquired_at = log_time(&acquired[0]);
    for entry in a.log_entries("reconciled") {
        assert!(log_time(&entry) <= killed_at, "replica-a reconciled after it was killed");
    }
    // The new leader does the work, including for objects created after the takeover.
    busy_account(&client, &ns, "after").await;
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    common::wait_until(Duration::from_secs(20), "replica-b reconciles the new account", || async {
        accounts.get("after").await.ok()?.status.map(|_| ())
    })
    .await;
    let b_reconciles = b.log_entries("reconciled");
    assert!(!b_reconciles.is_empty());
    for entry in b_reconciles {
        assert!(log_time(&entry) >= acquired_at, "replica-b reconciled before it led");
    }
}

#[tokio::test]
async fn sigterm_releases_the_lease_for_an_immediate_handover() {
    // A long lease: without the release the standby would wait up to 20 s.
    let timing = LeaseTiming { duration_secs: 20, renew_secs: 4 };
    let (_client, _ns, mut a, b) = leader_and_standby("leader-term", &timing).await;

    let stopped_at = now_secs();
    assert!(a.terminate(), "replica-a exits cleanly on SIGTERM");
    assert!(!a.log_entries("released the leader lease").is_empty(), "replica-a releases the lease");
    wait_leader(&b, Duration::from_secs(30)).await;
    let acquired = b.log_entries("acquired leadership");
    let handover = log_time(&acquired[0]) - stopped_at;
    println!("handover after SIGTERM: {handover:.2}s (lease duration {}s)", timing.duration_secs);
    assert!(
        handover < timing.renew_secs as f64,
        "handover took {handover:.2}s; the release should make it immediate"
    );
    assert!(!a.is_running());
}

#[tokio::test]
async fn invalid_lease_timing_is_refused_at_start() {
    let client = common::client().await;
    let ns = common::namespace(&client, "leader-bad").await;
    let mut bad = Operator::start(&ns, "replica-bad", &LeaseTiming { duration_secs: 2, renew_secs: 5 });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while bad.is_running() {
        assert!(std::time::Instant::now() < deadline, "the misconfigured operator did not exit");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = bad.raw_log();
    assert!(
        log.contains(
            "--lease-renew-interval (5s) must be at least 1s and less than half of --lease-duration (2s)"
        ),
        "{log}"
    );
}

/// The admin kubeconfig (absolute certificate paths) with its server replaced.
fn kubeconfig_via(server: &str, dir: &std::path::Path) -> std::path::PathBuf {
    let original = std::env::var("KUBE_APISERVER").expect("KUBE_APISERVER");
    let text =
        std::fs::read_to_string(std::env::var("KUBECONFIG").expect("KUBECONFIG")).expect("read kubeconfig");
    let copy = dir.join("kubeconfig");
    std::fs::write(&copy, text.replace(&original, server)).expect("write kubeconfig");
    copy
}

#[tokio::test]
async fn a_partitioned_leader_steps_down_within_its_lease_and_stays_down_after_healing() {
    let timing = LeaseTiming { duration_secs: 6, renew_secs: 2 };
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "partition").await;
    busy_account(&client, &ns, "busy").await;
    let upstream = std::env::var("KUBE_APISERVER").expect("KUBE_APISERVER");
    let proxy = common::tcp_proxy::TcpProxy::start(upstream.trim_start_matches("https://")).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = kubeconfig_via(&format!("https://127.0.0.1:{}", proxy.port), dir.path());
    let a = Operator::start_as(&ns, "replica-a", &timing, Some(&kubeconfig));
    wait_leader(&a, Duration::from_secs(30)).await;
    let b = Operator::start(&ns, "replica-b", &timing);
    common::wait_until(Duration::from_secs(30), "replica-b ready", || async {
        (b.http_get("/readyz").await?.0 == 200).then_some(())
    })
    .await;
    assert_single_leader(&a, &b, Duration::from_secs(3)).await;

    let cut_at = now_secs();
    proxy.cut();
    common::wait_until(Duration::from_secs(20), "replica-a to step down", || async {
        (leader_gauge(&a).await == Some(0.0)).then_some(())
    })
    .await;
    let lost = a.log_entries("lost leadership");
    assert_eq!(lost.len(), 1, "replica-a logs the loss once");
    let stepped_down = log_time(&lost[0]) - cut_at;
    println!(
        "partitioned leader stepped down {stepped_down:.2}s after the cut (lease {}s)",
        timing.duration_secs
    );
    assert!(stepped_down <= timing.duration_secs as f64, "stepped down after {stepped_down:.2}s");
    wait_leader(&b, Duration::from_secs(20)).await;
    let b_acquired = log_time(&b.log_entries("acquired leadership")[0]);
    assert!(b_acquired > log_time(&lost[0]), "the standby leads only after the old leader stopped");
    let last_a_reconcile = a.log_entries("reconciled").iter().map(log_time).fold(0.0, f64::max);
    assert!(last_a_reconcile < b_acquired, "replica-a reconciled while replica-b led");

    let healed_at = now_secs();
    proxy.heal();
    assert_single_leader(&a, &b, Duration::from_secs(8)).await;
    assert_eq!(leader_gauge(&b).await, Some(1.0), "replica-b keeps the lease");
    assert_eq!(lease_holder(&client, &ns).await.as_deref(), Some("replica-b"));
    let after_heal = a.log_entries("reconciled").iter().filter(|e| log_time(e) >= healed_at).count();
    assert_eq!(after_heal, 0, "the old leader does not reconcile again until it wins the lease");
}
