//! Metrics fit for Prometheus, on the real API server with moto: the per-resource
//! drift series are capped per scan, `resources_discovered` is set, and a deleted
//! scan's series disappear.

mod common;

use std::time::Duration;

use common::moto::{CREDENTIALS_SECRET, Moto};
use common::{LeaseTiming, Operator};
use driftmgr::crd::{DriftScan, ScanPhase};
use kube::Api;
use kube::api::DeleteParams;

const TIMEOUT: Duration = Duration::from_secs(60);

fn series<'a>(metrics: &'a str, name: &str, scan: &str) -> Vec<&'a str> {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) && l.contains(&format!("scan=\"{scan}\"")))
        .collect()
}

#[tokio::test]
async fn drift_series_are_capped_counted_and_removed_with_their_scan() {
    let moto = Moto::start();
    let managed = moto.create_vpc("10.40.0.0/16", None).await;
    let _unmanaged = moto.create_vpc("10.41.0.0/16", None).await;
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "metrics").await;
    let operator = Operator::start_with(
        &ns,
        "metrics-op",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        None,
        &["--max-drift-series-per-scan=1"],
        &[],
    );
    // The state says the managed VPC has a tag it does not have: one Modified item,
    // and the second VPC is Unmanaged.
    let state = Moto::vpc_state(&managed, "10.40.0.0/16", "main");
    let yaml = format!(
        "{CREDENTIALS_SECRET}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: state}}\ndata:\n  terraform.tfstate: {}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: prod}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {{secretRef: {{name: creds}}}}\n  endpoint: {{url: '{}'}}\n---\napiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: vpcs}}\nspec:\n  providerAccountRef: {{name: prod}}\n  resourceTypes: [aws_vpc]\n  stateSources: [{{configMapRef: {{name: state, key: terraform.tfstate}}}}]\n",
        serde_json::to_string(&state).expect("quoted"),
        moto.url
    );
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    let status = common::wait_until(TIMEOUT, "the scan", || async {
        let status = scans.get("vpcs").await.ok()?.status?;
        (status.phase == Some(ScanPhase::Completed)).then_some(status)
    })
    .await;
    let summary = status.summary.expect("summary");
    assert_eq!((summary.modified, summary.unmanaged), (1, 1), "{summary:?}");

    let metrics = operator.http_get("/metrics").await.map(|r| r.1).unwrap_or_default();
    let drifted = series(&metrics, "driftmgr_drifted_resource", "vpcs");
    assert_eq!(drifted.len(), 1, "capped at one series per scan: {drifted:?}");
    assert_eq!(series(&metrics, "driftmgr_drift_items", "vpcs").len(), 2, "the counts stay complete");
    let discovered = series(&metrics, "driftmgr_resources_discovered", "vpcs");
    // moto's default VPC and the two made here.
    assert_eq!(
        discovered,
        [format!("driftmgr_resources_discovered{{namespace=\"{ns}\",scan=\"vpcs\",type=\"aws_vpc\"}} 3")]
    );

    scans.delete("vpcs", &DeleteParams::default()).await.expect("delete the scan");
    common::wait_until(Duration::from_secs(30), "the deleted scan's series removed", || async {
        let metrics = operator.http_get("/metrics").await?.1;
        let left = ["driftmgr_drifted_resource", "driftmgr_drift_items", "driftmgr_resources_discovered"]
            .iter()
            .map(|name| series(&metrics, name, "vpcs").len())
            .sum::<usize>();
        (left == 0).then_some(())
    })
    .await;
}
