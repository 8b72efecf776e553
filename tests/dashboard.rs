//! The product as a dashboard user meets it, on the real API server, moto and headless
//! Chromium: drift made in moto is found by the operator, the event stream reports the
//! scan as it runs, an approver logs into the dashboard, opens the drifted resource,
//! approves the generated plan, and watches it execute live after a second approval
//! given with kubectl. The operator and the API both run as the chart's ServiceAccount
//! in the release namespace the installed admission policy trusts.

mod common;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::api::{add_users, call, login, start};
use common::chart::{apply_chart_rbac_in, service_account_kubeconfig};
use common::moto::Moto;
use common::plans::{approve, create_scan, grant_plan_editing, wait_phase};
use common::{LeaseTiming, Operator, kubectl};
use driftmgr::crd::{DriftScan, PlanPhase, RemediationPlan};
use futures::{SinkExt, StreamExt};
use kube::Api;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const TIMEOUT: Duration = Duration::from_secs(90);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens `/api/v1/events` with a bearer token (and a resume point).
async fn events(port: u16, token: &str, resume: Option<&str>) -> Socket {
    let query = resume.map(|rv| format!("?resourceVersion={rv}")).unwrap_or_default();
    let mut request =
        format!("ws://127.0.0.1:{port}/api/v1/events{query}").into_client_request().expect("request");
    request.headers_mut().insert("Authorization", format!("Bearer {token}").parse().expect("header"));
    tokio_tungstenite::connect_async(request).await.expect("the event stream opens").0
}

/// The next event of `name` (others are skipped), within the timeout.
async fn next_event(socket: &mut Socket, name: &str) -> Value {
    tokio::time::timeout(TIMEOUT, async {
        loop {
            match socket.next().await.expect("stream open").expect("frame") {
                Message::Text(text) => {
                    let event: Value = serde_json::from_str(&text).expect("JSON event");
                    if event["name"] == name || event["type"] == "Expired" {
                        return event;
                    }
                }
                Message::Ping(data) => socket.send(Message::Pong(data)).await.expect("pong"),
                _ => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no event of {name} within {TIMEOUT:?}"))
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

#[tokio::test]
async fn an_approver_sees_drift_in_the_dashboard_approves_the_plan_and_watches_it_execute() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "dash").await;
    grant_plan_editing(&ns);
    let release = common::POLICY_RELEASE_NAMESPACE;
    let _ = common::kubectl_result(&["create", "namespace", release]);
    let dir = tempfile::tempdir().expect("temp dir");
    apply_chart_rbac_in(release, &ns, dir.path(), &["api.enabled=true"], 9);
    // The chart puts the lease in the release namespace; this test's operator keeps it
    // beside the scan, so the ServiceAccount gets the same lease grant there.
    kubectl(&[
        "create",
        "role",
        "lease",
        "-n",
        &ns,
        "--verb=get,create,patch,update",
        "--resource=leases.coordination.k8s.io",
    ]);
    kubectl(&[
        "create",
        "rolebinding",
        "lease",
        "-n",
        &ns,
        "--role=lease",
        &format!("--serviceaccount={release}:drift"),
    ]);
    let kubeconfig = service_account_kubeconfig(release, dir.path());

    let moto = Moto::start();
    let vpc = moto.create_vpc("10.50.0.0/16", Some("main")).await;
    let state = Moto::vpc_state(&vpc, "10.50.0.0/16", "main");
    moto.tag(&vpc, "Name", "renamed-in-console").await;

    let args: Vec<String> =
        ["--auth-namespace", release, "--insecure-cookies"].iter().map(|s| s.to_string()).collect();
    let api = start(&ns, &kubeconfig, dir.path().join("api.log"), &args).await;
    add_users(release, &[("ann", &["approver"]), ("otto", &["operator"])]);
    let (status, ann) = login(api.port, "ann", "pw-ann").await;
    assert_eq!(status, 200, "{ann}");
    let (_, otto) = login(api.port, "otto", "pw-otto").await;
    let ann_token = ann["accessToken"].as_str().expect("token").to_string();
    let otto_token = otto["accessToken"].as_str().expect("token").to_string();

    // The event stream is open before the scan exists; the operator then scans.
    let mut stream = events(api.port, &ann_token, None).await;
    create_scan(&client, &ns, &state, &moto.url, &["aws_vpc"]).await;
    let lease = LeaseTiming { duration_secs: 6, renew_secs: 2 };
    let _operator = Operator::start_as(&ns, "dash", &lease, Some(&kubeconfig));
    // A first attempt may fail while the account is still being checked; it is retried.
    let mut seen = Vec::new();
    while seen.last().is_none_or(|e: &Value| e["type"] != "DriftFound") {
        seen.push(next_event(&mut stream, "net").await);
    }
    let types: Vec<&str> = seen.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(types[types.len() - 3..], ["ScanStarted", "ScanCompleted", "DriftFound"], "{seen:?}");
    assert!(
        types.iter().all(|t| ["ScanStarted", "ScanFailed", "ScanCompleted", "DriftFound"].contains(t)),
        "{types:?}"
    );
    let (started, completed, found) = (&seen[seen.len() - 3], &seen[seen.len() - 2], &seen[seen.len() - 1]);
    assert_eq!(started["kind"], "DriftScan");
    assert_eq!(
        (found["type"].as_str(), found["detail"]["modified"].as_u64()),
        (Some("DriftFound"), Some(1)),
        "{found}"
    );
    // A client that reconnects after the start gets what followed, from the buffer.
    let mut resumed = events(api.port, &ann_token, started["resourceVersion"].as_str()).await;
    let replayed = next_event(&mut resumed, "net").await;
    assert_eq!(
        (replayed["type"].clone(), replayed["resourceVersion"].clone()),
        (completed["type"].clone(), completed["resourceVersion"].clone())
    );
    let mut gone = events(api.port, &ann_token, Some("1")).await;
    assert_eq!(next_event(&mut gone, "net").await["type"], "Expired", "an unknown point asks for a re-list");

    // The operator user asks for a plan; the operator writes it.
    let (status, _, body) =
        call(api.port, "POST", &format!("/api/v1/scans/{ns}/net/plan"), Some(&otto_token)).await;
    assert_eq!(status, 202, "{body}");
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let plan_name = common::wait_until(TIMEOUT, "the generated plan", || async {
        scans.get("net").await.ok()?.status?.generated_plan?.name
    })
    .await;
    let plans: Api<RemediationPlan> = Api::namespaced(client.clone(), &ns);
    wait_phase(&plans, &plan_name, PlanPhase::AwaitingApproval).await;

    // The browser: log in, open the drift, approve.
    let shots = screenshot_dir();
    let playwright = std::env::var("PLAYWRIGHT_DIR").expect(
        "PLAYWRIGHT_DIR: run through `make integration`, which installs Chromium and playwright-core",
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/browser/dashboard.cjs");
    let browser_log = dir.path().join("browser.log");
    let mut browser = Command::new("node")
        .arg(script)
        .env("PLAYWRIGHT_DIR", &playwright)
        .env("DASHBOARD_URL", format!("http://127.0.0.1:{}/", api.port))
        .env("DASHBOARD_USER", "ann")
        .env("DASHBOARD_PASSWORD", "pw-ann")
        .env("DASHBOARD_SCAN", format!("{ns}/net"))
        .env("DASHBOARD_PLAN", format!("{ns}/{plan_name}"))
        .env("DASHBOARD_RESOURCE", &vpc)
        .env("SCREENSHOT_DIR", &shots)
        .stdout(Stdio::from(std::fs::File::create(&browser_log).expect("log")))
        .stderr(Stdio::from(std::fs::File::create(dir.path().join("browser.err")).expect("log")))
        .spawn()
        .expect("node runs the browser test");
    let waiting = std::time::Instant::now();
    loop {
        if let Some(exit) = browser.try_wait().expect("browser status") {
            let err = std::fs::read_to_string(dir.path().join("browser.err")).unwrap_or_default();
            panic!("the browser test ended before approving ({exit}): {err}");
        }
        let plan = plans.get(&plan_name).await.expect("plan");
        if plan.spec.approval.approvers.iter().any(|a| a.user == "ann" && a.recorded_by.is_some()) {
            break;
        }
        assert!(waiting.elapsed() < TIMEOUT, "no approval from the dashboard within {TIMEOUT:?}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The second approval, with kubectl as bob himself, on the same plan.
    approve("bob", &ns, &plan_name);

    let exit = tokio::time::timeout(Duration::from_secs(150), async {
        loop {
            if let Some(exit) = browser.try_wait().expect("browser status") {
                return exit;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let out = std::fs::read_to_string(&browser_log).unwrap_or_default();
    let err = std::fs::read_to_string(dir.path().join("browser.err")).unwrap_or_default();
    let exit = exit.unwrap_or_else(|_| {
        let _ = browser.kill();
        panic!("the browser test did not finish: {out}\n{err}")
    });
    assert!(exit.success(), "the browser test failed: {out}\n{err}\nscreenshots in {}", shots.display());
    assert!(out.contains(r#"drift: tags.Name expected="main" actual="renamed-in-console""#), "{out}");
    assert!(out.contains("DONE"), "{out}");
    for shot in ["1-scans.png", "2-drift.png", "3-approved.png", "4-executed.png"] {
        assert!(std::fs::metadata(shots.join(shot)).is_ok_and(|m| m.len() > 10_000), "{shot} saved");
    }
    println!("dashboard screenshots: {}", shots.display());

    // The plan's phase changes came over the stream too, and the cloud is fixed.
    let mut phases = Vec::new();
    while !phases.iter().any(|p| p == "Succeeded") {
        let event = next_event(&mut stream, &plan_name).await;
        phases.push(event["detail"]["phase"].as_str().unwrap_or_default().to_string());
    }
    assert!(phases.contains(&"Executing".to_string()), "{phases:?}");
    let ec2 = moto.ec2().await;
    let live = ec2.describe_vpcs().vpc_ids(&vpc).send().await.expect("describe");
    let name = live.vpcs()[0].tags().iter().find(|t| t.key() == Some("Name")).and_then(|t| t.value());
    assert_eq!(name, Some("main"), "the drift is reverted in the cloud");
    let _ = stream.close(None).await;
}
