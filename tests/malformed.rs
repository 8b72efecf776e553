//! One malformed object must not stall a controller. An object can match the CRD
//! schema the API server had when it was stored and still not parse with the
//! operator's types (a CRD downgrade, a hand-edited schema). This test makes such
//! an object by loosening the DriftScan schema, then restores it. It is alone in its
//! test binary because it changes a cluster-wide CRD.

mod common;

use std::time::Duration;

use common::{LeaseTiming, Operator};
use driftmgr::crd::{DriftScan, all_crds};
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};

#[tokio::test]
async fn a_malformed_scan_does_not_stall_the_others() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "malformed").await;

    // Let maxStatusItems be any string, as an older or hand-edited CRD might.
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let mut loose = all_crds().into_iter().find(|c| c.spec.names.kind == "DriftScan").expect("DriftScan CRD");
    let spec_schema = loose.spec.versions[0]
        .schema
        .as_mut()
        .and_then(|s| s.open_api_v3_schema.as_mut())
        .and_then(|s| s.properties.as_mut())
        .and_then(|p| p.get_mut("spec"))
        .and_then(|s| s.properties.as_mut())
        .expect("spec properties");
    let field = spec_schema.get_mut("maxStatusItems").expect("maxStatusItems");
    field.type_ = Some("string".into());
    field.format = None;
    field.maximum = None;
    field.minimum = None;
    field.default = None;
    let apply = PatchParams::apply("driftmgr-tests").force();
    crds.patch("driftscans.driftmgr.io", &apply, &Patch::Apply(&loose)).await.expect("loosen CRD");

    let scan = |name: &str, extra: &str| {
        format!(
            "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {{name: {name}}}\nspec:\n  providerAccountRef: {{name: nowhere}}\n  stateSources: [{{s3: {{bucket: abc, key: k}}}}]\n{extra}"
        )
    };
    // The API server may take a moment to serve the new schema.
    common::wait_until(Duration::from_secs(20), "the loosened schema to be served", || async {
        let created =
            common::create_yaml(&client, &ns, &scan("broken", "  maxStatusItems: lots\n")).await.remove(0);
        created.ok().map(|_| ())
    })
    .await;
    // Without the field the operator's default applies, so this one parses.
    common::create_yaml(&client, &ns, &scan("healthy", "")).await.remove(0).expect("healthy scan");

    let operator = Operator::start(&ns, "malformed-op", &LeaseTiming { duration_secs: 6, renew_secs: 2 });
    let events: Api<Event> = Api::namespaced(client.clone(), &ns);
    let warning =
        common::wait_until(Duration::from_secs(30), "an InvalidSpec event for the broken scan", || async {
            let list = events.list(&ListParams::default()).await.ok()?;
            list.items.into_iter().find(|e| {
                e.involved_object.name.as_deref() == Some("broken")
                    && e.reason.as_deref() == Some("InvalidSpec")
            })
        })
        .await;
    assert_eq!(warning.type_.as_deref(), Some("Warning"));
    let message = warning.message.unwrap_or_default();
    assert!(message.contains("object does not parse") && message.contains("lots"), "{message}");

    // The healthy scan is reconciled while the broken one sits beside it.
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    common::wait_until(Duration::from_secs(30), "the healthy scan to get a status", || async {
        let scan = scans.get("healthy").await.ok()?;
        scan.status?.conditions.iter().any(|c| c.type_ == "Ready").then_some(())
    })
    .await;
    crds.patch("driftscans.driftmgr.io", &apply, &Patch::Apply(&all_crds()[1])).await.expect("restore CRD");
    let invalid =
        operator.metric("driftmgr_reconciliations_total{controller=\"driftscan\",result=\"invalid\"}").await;
    assert!(invalid.is_some_and(|n| n >= 1.0), "invalid reconciles are counted: {invalid:?}");
    assert_eq!(operator.http_get("/healthz").await.map(|r| r.0), Some(200));

    let dynamic: Api<kube::core::DynamicObject> =
        Api::namespaced_with(client.clone(), &ns, &kube::core::ApiResource::erase::<DriftScan>(&()));
    dynamic.delete("broken", &DeleteParams::default()).await.expect("delete broken scan");
}
