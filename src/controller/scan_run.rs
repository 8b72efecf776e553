//! Running one scan for a DriftScan: account -> credentials -> provider -> state
//! sources -> engine.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::jiff::Timestamp;
use kube::core::error_boundary::DeserializeGuard;
use kube::{Api, ResourceExt};

use super::credentials::{CredentialError, provider_settings};
use super::{Context, Error};
use crate::crd::{
    DriftScan, ProviderAccount, SecretKeyRef, StateSource, TerraformCloudLocation, is_condition_true,
};
use crate::drift::{EngineConfig, Report};
use crate::provider::{self, NoProgress, Provider, ProviderError};
use crate::state::{
    AttributeFilter, AzureCredential, CloudWorkspaces, HttpAuth, HttpClientOptions, StateFile,
    StateReadError, WorkspaceSelector, azure_store, gcs_store, parse_state_keeping, read_cloud_states,
    read_http_state, read_object_states,
};

/// Why a scan could not produce a report.
#[derive(Debug, thiserror::Error)]
pub enum ScanFailure {
    #[error("ProviderAccount {0} was not found in this namespace")]
    AccountNotFound(String),
    #[error("ProviderAccount {0} is not Ready")]
    AccountNotReady(String),
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("spec.stateSources[{index}]: {error}")]
    State { index: usize, error: StateReadError },
    #[error("the scan did not finish within its deadline of {0:?} (operator flag --scan-timeout)")]
    DeadlineExceeded(std::time::Duration),
    #[error(transparent)]
    Kube(#[from] Error),
}

impl ScanFailure {
    /// CamelCase reason for the Ready condition and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::AccountNotFound(_) => "ProviderAccountNotFound",
            Self::AccountNotReady(_) => "ProviderAccountNotReady",
            Self::Credentials(CredentialError::Kube(_)) | Self::Kube(_) => "KubernetesError",
            Self::Credentials(error) => error.reason(),
            Self::Provider(error) => error.reason(),
            Self::State { error, .. } => error.reason(),
            Self::DeadlineExceeded(_) => "ScanDeadlineExceeded",
        }
    }
}

pub async fn run(ctx: &Context, scan: &DriftScan) -> Result<Report, ScanFailure> {
    let namespace = scan.namespace().ok_or(Error::MissingNamespace)?;
    let provider = connect(ctx, &namespace, &scan.spec.provider_account_ref.name).await?;
    let states = read_states(ctx, &namespace, &scan.spec.state_sources, provider.as_ref()).await?;
    let config = EngineConfig {
        provider: provider.terraform_name().to_string(),
        resource_types: scan.spec.resource_types.clone(),
        ignore: scan.spec.ignore.clone(),
        default_ignores: scan.spec.default_ignores,
        severity: scan.spec.severity.clone(),
    };
    Ok(crate::scan::scan(provider.as_ref(), &states, &config, &NoProgress, Timestamp::now()).await)
}

/// The provider for a Ready ProviderAccount of `namespace`, with the credentials the
/// tenancy policy lets that namespace use (see `credentials::provider_settings`).
pub async fn connect(
    ctx: &Context,
    namespace: &str,
    account_name: &str,
) -> Result<Box<dyn Provider>, ScanFailure> {
    let account_name = &account_name.to_string();
    let accounts: Api<DeserializeGuard<ProviderAccount>> = Api::namespaced(ctx.client.clone(), namespace);
    let account = accounts
        .get_opt(account_name)
        .await
        .map_err(Error::from)?
        .and_then(|guard| guard.0.ok())
        .ok_or_else(|| ScanFailure::AccountNotFound(account_name.clone()))?;
    let ready = account.status.as_ref().is_some_and(|s| is_condition_true(&s.conditions, "Ready"));
    if !ready {
        return Err(ScanFailure::AccountNotReady(account_name.clone()));
    }
    let settings = provider_settings(ctx, &account).await?;
    Ok(provider::connect(settings).await?)
}

/// Why a credential of a state source could not be read.
enum SourceSecretError {
    Missing(String),
    Kube(kube::Error),
}

impl SourceSecretError {
    fn fail(self, index: usize) -> ScanFailure {
        match self {
            Self::Missing(origin) => ScanFailure::State { index, error: StateReadError::NotFound { origin } },
            Self::Kube(error) => Error::from(error).into(),
        }
    }
}

/// One key of a Secret in the scan's namespace.
async fn secret_key(
    secrets: &Api<Secret>,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Vec<u8>, SourceSecretError> {
    let secret = secrets.get_opt(name).await.map_err(SourceSecretError::Kube)?;
    secret
        .and_then(|s| s.data.and_then(|d| d.get(key).map(|b| b.0.clone())))
        .ok_or_else(|| SourceSecretError::Missing(format!("secret/{namespace}/{name}#{key}")))
}

/// The http source's credentials and CA, from Secrets of the scan's namespace.
async fn http_options(
    secrets: &Api<Secret>,
    namespace: &str,
    http: &crate::crd::HttpLocation,
) -> Result<HttpClientOptions, SourceSecretError> {
    let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).trim().to_string();
    let auth = match (&http.authorization_secret_ref, &http.basic_auth_secret_ref) {
        (Some(r), _) => HttpAuth::Header(text(secret_key(secrets, namespace, &r.name, &r.key).await?)),
        (None, Some(r)) => HttpAuth::Basic {
            username: text(secret_key(secrets, namespace, &r.name, "username").await?),
            password: text(secret_key(secrets, namespace, &r.name, "password").await?),
        },
        (None, None) => HttpAuth::None,
    };
    let ca_pem = match &http.ca_secret_ref {
        Some(r) => Some(secret_key(secrets, namespace, &r.name, &r.key).await?),
        None => None,
    };
    Ok(HttpClientOptions { auth, ca_pem })
}

async fn read_states(
    ctx: &Context,
    namespace: &str,
    sources: &[StateSource],
    provider: &dyn Provider,
) -> Result<Vec<StateFile>, ScanFailure> {
    let reader = SourceReader {
        namespace,
        config_maps: Api::namespaced(ctx.client.clone(), namespace),
        secrets: Api::namespaced(ctx.client.clone(), namespace),
        keep: crate::provider::cloud_rules(provider.terraform_name()).attribute_filter(),
        provider,
    };
    let mut states = Vec::new();
    for (index, source) in sources.iter().enumerate() {
        states.extend(reader.read(index, source).await?);
    }
    Ok(states)
}

/// Reads the state sources of one scan, each with what its kind needs: objects of
/// the scan's namespace, the account's credentials, or a Secret of its own.
struct SourceReader<'a> {
    namespace: &'a str,
    config_maps: Api<ConfigMap>,
    secrets: Api<Secret>,
    keep: AttributeFilter,
    provider: &'a dyn Provider,
}

impl SourceReader<'_> {
    async fn read(&self, index: usize, source: &StateSource) -> Result<Vec<StateFile>, ScanFailure> {
        let fail = |error: StateReadError| ScanFailure::State { index, error };
        let secret = |r: &'_ SecretKeyRef| {
            let (name, key) = (r.name.clone(), r.key.clone());
            async move { secret_key(&self.secrets, self.namespace, &name, &key).await.map_err(|e| e.fail(index)) }
        };
        let namespace = self.namespace;
        match source {
            StateSource::ConfigMapRef(r) => {
                let origin = format!("configmap/{namespace}/{}#{}", r.name, r.key);
                let cm = self.config_maps.get_opt(&r.name).await.map_err(Error::from)?;
                let bytes = cm.and_then(|cm| {
                    let text = cm.data.and_then(|d| d.get(&r.key).map(|s| s.clone().into_bytes()));
                    text.or_else(|| cm.binary_data.and_then(|d| d.get(&r.key).map(|b| b.0.clone())))
                });
                let bytes = bytes.ok_or_else(|| fail(StateReadError::NotFound { origin: origin.clone() }))?;
                Ok(vec![parse_state_keeping(&bytes, &origin, self.keep).map_err(|e| fail(e.into()))?])
            }
            StateSource::SecretRef(r) => {
                let origin = format!("secret/{namespace}/{}#{}", r.name, r.key);
                let bytes = secret(r).await?;
                Ok(vec![parse_state_keeping(&bytes, &origin, self.keep).map_err(|e| fail(e.into()))?])
            }
            StateSource::S3(s3) => {
                let store = self.provider.state_bucket(&s3.bucket, s3.region.as_deref()).await?;
                let (key, prefix) = (s3.key.as_deref(), s3.prefix.as_deref());
                let read = read_object_states(store.as_ref(), "s3", &s3.bucket, key, prefix, self.keep);
                read.await.map_err(fail)
            }
            StateSource::Http(http) => {
                let options =
                    http_options(&self.secrets, namespace, http).await.map_err(|e| e.fail(index))?;
                Ok(vec![read_http_state(&http.url, &options, self.keep).await.map_err(fail)?])
            }
            StateSource::TerraformCloud(cloud) => {
                let token = secret(&cloud.token_secret_ref).await?;
                let workspaces = cloud_workspaces(cloud, String::from_utf8_lossy(&token).trim());
                read_cloud_states(&workspaces, self.keep).await.map_err(fail)
            }
            StateSource::Gcs(gcs) => {
                // The CRD requires the key; a source written before that rule gets a clear error.
                let Some(r) = &gcs.credentials_secret_ref else {
                    let origin = format!("gs://{}: gcs.credentialsSecretRef", gcs.bucket);
                    return Err(fail(StateReadError::NotFound { origin }));
                };
                let key = secret(r).await?;
                let store = gcs_store(&gcs.bucket, &String::from_utf8_lossy(&key)).map_err(fail)?;
                let (key, prefix) = (gcs.key.as_deref(), gcs.prefix.as_deref());
                let read = read_object_states(store.as_ref(), "gs", &gcs.bucket, key, prefix, self.keep);
                read.await.map_err(fail)
            }
            StateSource::AzureBlob(azure) => {
                let text = |bytes: Vec<u8>| String::from_utf8_lossy(&bytes).trim().to_string();
                let credential = match (&azure.access_key_secret_ref, &azure.sas_token_secret_ref) {
                    (Some(r), _) => AzureCredential::AccessKey(text(secret(r).await?)),
                    (None, Some(r)) => AzureCredential::SasToken(text(secret(r).await?)),
                    (None, None) => {
                        let origin =
                            format!("azblob://{}/{}: accessKeySecretRef", azure.account, azure.container);
                        return Err(fail(StateReadError::NotFound { origin }));
                    }
                };
                let endpoint = azure.endpoint.as_deref();
                let store =
                    azure_store(&azure.account, &azure.container, &credential, endpoint).map_err(fail)?;
                let bucket = format!("{}/{}", azure.account, azure.container);
                let (blob, prefix) = (azure.blob.as_deref(), azure.prefix.as_deref());
                let read = read_object_states(store.as_ref(), "azblob", &bucket, blob, prefix, self.keep);
                read.await.map_err(fail)
            }
        }
    }
}

/// The workspaces a Terraform Cloud source selects, read with `token`.
fn cloud_workspaces(cloud: &TerraformCloudLocation, token: &str) -> CloudWorkspaces {
    let select = match (&cloud.workspace, &cloud.workspace_prefix, &cloud.tags) {
        (Some(name), _, _) => WorkspaceSelector::Name(name.clone()),
        (None, Some(prefix), _) => WorkspaceSelector::Prefix(prefix.clone()),
        (None, None, tags) => WorkspaceSelector::Tags(tags.clone().unwrap_or_default()),
    };
    CloudWorkspaces {
        address: cloud.address.clone(),
        organization: cloud.organization.clone(),
        select,
        token: token.to_string(),
        ca_pem: None,
    }
}
