//! Tenant isolation on the real API server: a namespace uses only credentials it
//! owns. The operator's own identity is refused unless the cluster admin lends it to
//! that namespace, and is never sent to an endpoint the admin did not allow: a
//! listener standing in for the tenant's endpoint receives nothing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::moto::Moto;
use common::{LeaseTiming, Operator};
use driftmgr::crd::{DriftScan, ProviderAccount, find_condition};
use kube::Api;

const TIMEOUT: Duration = Duration::from_secs(60);

/// A TCP listener that counts connections: the tenant's own "STS".
struct Listener {
    url: String,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Listener {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let connections = Arc::new(AtomicUsize::new(0));
        let counter = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((_stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        Self { url, connections, task }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn ready_condition(accounts: &Api<ProviderAccount>, name: &str) -> (String, String, String) {
    common::wait_until(TIMEOUT, &format!("{name} to be checked"), || async {
        let status = accounts.get(name).await.ok()?.status?;
        let ready = find_condition(&status.conditions, "Ready")?;
        Some((ready.status.clone(), ready.reason.clone(), ready.message.clone()))
    })
    .await
}

fn account(name: &str, credentials: &str, endpoint: &str) -> String {
    format!(
        "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {{name: {name}}}\nspec:\n  provider: aws\n  regions: [us-east-1]\n  credentials: {credentials}\n  endpoint: {{url: '{endpoint}'}}\n---\n"
    )
}

#[tokio::test]
async fn a_tenant_cannot_borrow_the_operators_identity_or_token() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "tenant").await;
    let listener = Listener::start().await;
    // The operator has an identity of its own (here: keys in its environment).
    let operator = Operator::start_with(
        &ns,
        "tenant-op",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        None,
        &[],
        &[("AWS_ACCESS_KEY_ID", "operator-key-id"), ("AWS_SECRET_ACCESS_KEY", "operator-secret")],
    );

    // The attempt from the issue: the operator's own ServiceAccount token as a web
    // identity token file. There is no such field any more: a token can only be of a
    // ServiceAccount named in the account's own namespace.
    let token_file = "apiVersion: driftmgr.io/v1alpha1\nkind: ProviderAccount\nmetadata: {name: steal-token}\nspec:\n  provider: aws\n  credentials:\n    webIdentity: {roleArn: 'arn:aws:iam::123456789012:role/r', tokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token}\n";
    let refused = common::create_yaml(&client, &ns, token_file).await.remove(0);
    let message =
        refused.expect_err("the API server refuses a web identity without a ServiceAccount").to_string();
    assert!(message.contains("serviceAccountName"), "{message}");

    let from_ambient = "{assumeRole: {roles: [{roleArn: 'arn:aws:iam::123456789012:role/r'}]}}";
    let yaml = account("ambient", "{none: {}}", &listener.url)
        + &account("borrowed-role", from_ambient, &listener.url)
        + "apiVersion: driftmgr.io/v1alpha1\nkind: DriftScan\nmetadata: {name: exfil}\nspec:\n  providerAccountRef: {name: ambient}\n  stateSources: [{configMapRef: {name: state, key: terraform.tfstate}}]\n";
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    for (name, credential) in [("ambient", "none"), ("borrowed-role", "assumeRole")] {
        let (status, reason, message) = ready_condition(&accounts, name).await;
        assert_eq!(
            (status.as_str(), reason.as_str()),
            ("False", "AmbientCredentialsNotAllowed"),
            "{message}"
        );
        assert!(message.contains(&format!("credentials.{credential}")), "{message}");
        assert!(
            message.contains(&ns) && message.contains("tenancy.ambientCredentialNamespaces"),
            "{message}"
        );
    }
    let scans: Api<DriftScan> = Api::namespaced(client.clone(), &ns);
    common::wait_until(TIMEOUT, "the scan to fail on its account", || async {
        let status = scans.get("exfil").await.ok()?.status?;
        let ready = find_condition(&status.conditions, "Ready")?;
        (ready.status == "False").then_some(())
    })
    .await;
    // Give a wrong implementation time to call out (reconciles retry every 2 s).
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(listener.connections(), 0, "nothing was sent to the tenant's endpoint");
    let log = operator.raw_log();
    assert!(!log.contains("operator-secret"), "the operator's key leaked into its log");
}

#[tokio::test]
async fn a_lent_identity_reaches_only_the_endpoints_the_admin_allows() {
    let client = common::client().await;
    common::install_crds(&client).await;
    let ns = common::namespace(&client, "lent").await;
    let moto = Moto::start();
    let listener = Listener::start().await;
    let allowed = format!("--allowed-endpoints={}/", moto.url);
    let namespaces = format!("--ambient-credential-namespaces=other,{ns}");
    let _operator = Operator::start_with(
        &ns,
        "lent-op",
        &LeaseTiming { duration_secs: 6, renew_secs: 2 },
        None,
        &[&namespaces, &allowed],
        &[("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")],
    );
    let yaml =
        account("allowed", "{none: {}}", &moto.url) + &account("elsewhere", "{none: {}}", &listener.url);
    for created in common::create_yaml(&client, &ns, &yaml).await {
        created.expect("created");
    }
    let accounts: Api<ProviderAccount> = Api::namespaced(client.clone(), &ns);
    let (status, reason, message) = ready_condition(&accounts, "allowed").await;
    assert_eq!((status.as_str(), reason.as_str()), ("True", "IdentityConfirmed"), "{message}");
    let (status, reason, message) = ready_condition(&accounts, "elsewhere").await;
    assert_eq!((status.as_str(), reason.as_str()), ("False", "EndpointNotAllowed"), "{message}");
    assert!(message.contains(&listener.url), "{message}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(listener.connections(), 0, "the lent identity went nowhere else");
}
