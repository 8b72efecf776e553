//! The API server refuses invalid objects, and says which field is wrong and why.
//! These rules live in the CRD schema (types, bounds, enums, CEL), so this checks
//! the generated schema on the real kube-apiserver.

mod common;

use kube::Api;
use kube::api::{Patch, PatchParams};

struct Case {
    name: &'static str,
    yaml: &'static str,
    /// Every one of these must appear in the refusal message.
    expect: &'static [&'static str],
}

const ACCOUNT_HEAD: &str = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: bad}\n";

const CASES: &[Case] = &[
    Case {
        name: "two credential sources",
        yaml: "spec:\n  provider: aws\n  credentials: {secretRef: {name: a}, none: {}}\n",
        expect: &[
            "spec.credentials",
            "exactly one of secretRef, assumeRole, webIdentity, workloadIdentity or none must be set",
        ],
    },
    Case {
        name: "no credential source",
        yaml: "spec:\n  provider: aws\n  credentials: {}\n",
        // The schema's oneOf (one variant of the Rust enum each) refuses it before CEL runs.
        expect: &["spec.credentials", "must validate one and only one schema", "secretRef: Required value"],
    },
    Case {
        name: "assumeRole on gcp",
        yaml: "spec:\n  provider: gcp\n  projects: [my-project]\n  credentials:\n    assumeRole:\n      roles: [{roleArn: 'arn:aws:iam::123456789012:role/r'}]\n",
        expect: &[
            "spec",
            "credentials.assumeRole and credentials.webIdentity are only valid for provider aws",
        ],
    },
    Case {
        name: "gcp without projects",
        yaml: "spec:\n  provider: gcp\n  credentials: {none: {}}\n",
        expect: &["provider gcp needs at least one entry in projects"],
    },
    Case {
        name: "malformed role ARN",
        yaml: "spec:\n  provider: aws\n  credentials:\n    assumeRole:\n      roles: [{roleArn: 'arn:aws:iam::12:role/r'}]\n",
        expect: &["spec.credentials.assumeRole.roles[0].roleArn", "should match"],
    },
    Case {
        name: "unknown provider",
        yaml: "spec:\n  provider: oracle\n  credentials: {none: {}}\n",
        expect: &["spec.provider", "Unsupported value: \"oracle\""],
    },
    Case {
        name: "burst below rate",
        yaml: "spec:\n  provider: aws\n  credentials: {none: {}}\n  rateLimit: {requestsPerSecond: 50, burst: 5}\n",
        expect: &["spec.rateLimit", "burst must be at least requestsPerSecond"],
    },
    Case {
        name: "rate out of bounds",
        yaml: "spec:\n  provider: aws\n  credentials: {none: {}}\n  rateLimit: {requestsPerSecond: 0, burst: 5}\n",
        expect: &["spec.rateLimit.requestsPerSecond", "should be greater than or equal to 1"],
    },
];

const SCAN_CASES: &[Case] = &[
    Case {
        name: "unknown resource type",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: k}}]\n  resourceTypes: [aws_instance, aws_sqs_queue]\n",
        expect: &[
            "spec.resourceTypes",
            "every entry must be a supported resource type: aws_instance, aws_vpc, aws_subnet",
        ],
    },
    Case {
        name: "no state sources",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: []\n",
        expect: &["spec.stateSources", "should have at least 1 items"],
    },
    Case {
        name: "an empty state source",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{}]\n",
        expect: &["spec.stateSources[0]", "must validate one and only one schema"],
    },
    Case {
        name: "two kinds in one state source",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources:\n    - configMapRef: {name: s, key: k}\n      s3: {bucket: abc, key: x}\n",
        expect: &[
            "spec.stateSources[0]",
            "exactly one of configMapRef, secretRef, s3, gcs, azureBlob, http or terraformCloud must be set",
        ],
    },
    Case {
        name: "an Azure Blob source with two credentials",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources:\n    - azureBlob: {account: acct, container: states, blob: b.tfstate, accessKeySecretRef: {name: k, key: k}, sasTokenSecretRef: {name: s, key: s}}\n",
        expect: &[
            "spec.stateSources[0].azureBlob",
            "exactly one of accessKeySecretRef or sasTokenSecretRef must be set",
        ],
    },
    Case {
        name: "a Terraform Cloud source selecting nothing",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources:\n    - terraformCloud: {organization: acme, tokenSecretRef: {name: t, key: t}}\n",
        expect: &[
            "spec.stateSources[0].terraformCloud",
            "exactly one of workspace, workspacePrefix or tags must be set",
        ],
    },
    Case {
        name: "an http source with two kinds of authentication",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources:\n    - http: {url: 'https://s/x', authorizationSecretRef: {name: a, key: a}, basicAuthSecretRef: {name: b}}\n",
        expect: &[
            "spec.stateSources[0].http",
            "set at most one of authorizationSecretRef and basicAuthSecretRef",
        ],
    },
    Case {
        name: "s3 key and prefix",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: a, prefix: b}}]\n",
        expect: &["spec.stateSources[0].s3", "exactly one of key or prefix must be set"],
    },
    Case {
        name: "interval and cron",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: a}}]\n  schedule: {interval: 1h, cron: '0 * * * *'}\n",
        expect: &["spec.schedule", "exactly one of interval or cron must be set"],
    },
    Case {
        name: "malformed interval",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: a}}]\n  schedule: {interval: soon}\n",
        expect: &["spec.schedule.interval", "should match"],
    },
    Case {
        name: "ignore rule without a matcher",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: a}}]\n  ignore: [{reason: because}]\n",
        expect: &[
            "spec.ignore[0]",
            "an ignore rule needs at least one of address, id, type, attributes or tagKeyPrefixes",
        ],
    },
    Case {
        name: "ignore rule without a reason",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: a}}]\n  ignore: [{type: aws_instance}]\n",
        expect: &["spec.ignore[0].reason", "Required value"],
    },
    Case {
        name: "too many status items",
        yaml: "spec:\n  providerAccountRef: {name: a}\n  stateSources: [{s3: {bucket: abc, key: a}}]\n  maxStatusItems: 9000\n",
        expect: &["spec.maxStatusItems", "should be less than or equal to 500"],
    },
];

const PLAN_CASES: &[Case] = &[
    Case {
        name: "a destructive action without allowDestructive",
        yaml: "spec:\n  driftScanRef: {name: s}\n  actions:\n    - {id: a1, type: DeleteUnmanaged, target: {type: aws_instance, id: i-1}}\n",
        expect: &["DeleteUnmanaged is destructive: set spec.allowDestructive to run it"],
    },
    Case {
        name: "duplicate action ids",
        yaml: "spec:\n  driftScanRef: {name: s}\n  actions:\n    - {id: a1, type: Revert, target: {type: aws_instance, id: i-1}}\n    - {id: a1, type: Codify, target: {type: aws_instance, id: i-1}}\n",
        expect: &["spec.actions[1]", "Duplicate value"],
    },
    Case {
        name: "unknown mode",
        yaml: "spec:\n  driftScanRef: {name: s}\n  mode: Yolo\n  actions:\n    - {id: a1, type: Revert, target: {type: aws_instance, id: i-1}}\n",
        expect: &["spec.mode", "Unsupported value: \"Yolo\""],
    },
    Case {
        name: "too many required approvals",
        yaml: "spec:\n  driftScanRef: {name: s}\n  approval: {required: 11}\n  actions:\n    - {id: a1, type: Revert, target: {type: aws_instance, id: i-1}}\n",
        expect: &["spec.approval.required", "should be less than or equal to 10"],
    },
    Case {
        name: "an executing plan without approvals",
        yaml: "spec:\n  driftScanRef: {name: s}\n  mode: Execute\n  approval: {required: 0}\n  actions:\n    - {id: a1, type: Revert, target: {type: aws_instance, id: i-1}}\n",
        expect: &["spec.approval.required", "a plan in Execute mode needs at least one approval"],
    },
];

async fn assert_refused(client: &kube::Client, ns: &str, head: &str, case: &Case) {
    let yaml = format!("{head}{}", case.yaml);
    let result = common::create_yaml(client, ns, &yaml).await.remove(0);
    let error = match result {
        Ok(object) => panic!("case {:?} was accepted: {object}", case.name),
        Err(kube::Error::Api(status)) => status,
        Err(other) => panic!("case {:?} failed oddly: {other}", case.name),
    };
    assert_eq!(error.code, 422, "case {:?}: {error:?}", case.name);
    for needle in case.expect {
        assert!(
            error.message.contains(needle),
            "case {:?}: message lacks {needle:?}: {}",
            case.name,
            error.message
        );
    }
}

#[tokio::test]
async fn invalid_objects_are_refused_with_the_field_and_reason() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "validation").await;
    for case in CASES {
        assert_refused(&client, &ns, ACCOUNT_HEAD, case).await;
    }
    let scan_head = "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: bad}\n";
    for case in SCAN_CASES {
        assert_refused(&client, &ns, scan_head, case).await;
    }
    let plan_head = "apiVersion: driftmgr.io/v1alpha1\nkind: RemediationPlan\nmetadata: {name: bad}\n";
    for case in PLAN_CASES {
        assert_refused(&client, &ns, plan_head, case).await;
    }
}

#[tokio::test]
async fn valid_objects_are_accepted_with_defaults() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "defaults").await;
    let yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: ok}\nspec:\n  provider: aws\n  credentials: {none: {}}\n";
    let created = common::create_yaml(&client, &ns, yaml).await.remove(0).expect("valid account accepted");
    assert_eq!(created["spec"]["rateLimit"], serde_json::json!({"requestsPerSecond": 10, "burst": 20}));
    assert_eq!(
        created["spec"]["circuitBreaker"],
        serde_json::json!({"failureThreshold": 5, "openSeconds": 30})
    );
}

#[tokio::test]
async fn provider_cannot_change_after_creation() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "immutable").await;
    let yaml = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: fixed}\nspec:\n  provider: aws\n  credentials: {none: {}}\n";
    common::create_yaml(&client, &ns, yaml).await.remove(0).expect("created");
    let accounts: Api<driftmgr::crd::ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let patch = serde_json::json!({"spec": {"provider": "azure"}});
    let error = accounts
        .patch("fixed", &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect_err("changing provider must be refused");
    let kube::Error::Api(status) = error else { panic!("unexpected error {error}") };
    assert!(
        status.message.contains("spec.provider") && status.message.contains("provider is immutable"),
        "{}",
        status.message
    );
}
