//! Bounded work on the real API server: a scan that hangs on its cloud is failed at
//! its deadline, and one account's scans run one at a time when the limit says so.

mod common;

use std::time::Duration;

use common::moto::{CREDENTIALS_SECRET, Moto};
use common::{LeaseTiming, Operator, log_time};
use driftmgr::crd::{DriftScan, ProviderAccount, find_condition};
use kube::Api;

/// A listener that accepts connections and never answers: a cloud endpoint that hangs.
async fn black_hole() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    (url, task)
}

#[tokio::test]
async fn hanging_scans_meet_their_deadline_one_at_a_time_per_account() {
    let moto = Moto::start();
    let (hang, task) = black_hole().await;
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "bounds").await;
    let operator = Operator::start_with(
        &ns,
        "bounds-op",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        None,
        &["--scan-timeout=2s", "--max-scans-per-account=1"],
        &[],
    );
    // STS answers (the account is Ready); EC2 never does.
    let yaml = format!(
        "{CREDENTIALS_SECRET}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: state}}\ndata:\n  terraform.tfstate: '{{\"version\": 4, \"terraform_version\": \"1.5.0\", \"resources\": []}}'\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: slow}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: '{}', services: {{ec2: '{hang}'}}}}\n",
        moto.url
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    common::wait_until(Duration::from_secs(30), "the account Ready", || async {
        let status = accounts.get("slow").await.ok()?.status?;
        find_condition(&status.conditions, "Ready").filter(|c| c.status == "True").map(|_| ())
    })
    .await;
    let mut yaml = String::new();
    for scan in ["first", "second"] {
        yaml.push_str(&format!(
            "---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: {scan}}}\nspec:\n  providerAccountRef: {{name: slow}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{configMapRef: {{name: state, key: terraform.tfstate}}}}]\n"
        ));
    }
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    for name in ["first", "second"] {
        let ready = common::wait_until(Duration::from_secs(60), &format!("{name} to fail"), || async {
            let status = scans.get(name).await.ok()?.status?;
            find_condition(&status.conditions, "Ready").filter(|c| c.status == "False").cloned()
        })
        .await;
        assert_eq!(ready.reason, "ScanDeadlineExceeded", "{}", ready.message);
        assert!(ready.message.contains("--scan-timeout"), "{}", ready.message);
    }
    // The two scans of the one account never ran at the same time.
    let mut runs: Vec<(f64, f64)> = Vec::new();
    let logs = operator.logs();
    for name in ["first", "second"] {
        let of = |message: &str| {
            logs.iter()
                .filter(|e| e["message"] == message && (e["name"] == name || e["fields"]["name"] == name))
                .map(log_time)
                .next()
        };
        runs.push((of("scanning").expect("scan started"), of("scan failed").expect("scan failed")));
    }
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    assert!(runs[0].1 - runs[0].0 >= 1.9, "a scan runs until its deadline: {runs:?}");
    assert!(runs[1].0 >= runs[0].1 - 0.05, "the second scan waited for the first: {runs:?}");
    task.abort();
}
