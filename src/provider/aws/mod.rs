//! AWS: identity through STS; discovery of each declared type (`types.rs`, one
//! declaration per type in its service's file: `ec2.rs`, `iam.rs`).

mod acm;
mod apigateway;
mod apigatewayv2;
mod autoscaling;
#[cfg(test)]
mod coverage;
mod discover;
mod dynamodb;
mod ec2;
mod ecr;
mod ecs;
mod efs;
mod eks;
mod elbv2;
#[cfg(test)]
mod engine_tests;
mod entries;
mod errors;
mod fold;
#[cfg(test)]
mod fold_engine_tests;
mod iam;
mod kms;
mod lambda;
mod launch_template;
mod listing;
mod logs;
mod mapping;
#[cfg(test)]
mod mapping_tests;
mod policy;
mod rds;
mod remediate;
mod remediate_network;
mod route53;
mod rules;
mod s3;
pub mod types;
mod vpc;

pub use fold::{AwsRules, ROUTE_TARGETS};

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_types::retry::RetryConfig;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

use super::{
    Cloud, CredentialSource, Discovery, Identity, LiveResource, ProgressSink, Provider, ProviderError,
    ProviderSettings, SecretValues,
};
use crate::crd::{AttributeChange, CloudProvider, ResourceTarget};
use errors::classify;

/// AWS in the provider registry.
pub static CLOUD: Cloud = Cloud {
    provider: CloudProvider::Aws,
    terraform_name: "aws",
    rules: &AwsRules,
    supported_types: types::supported_types,
    read_policy: || Some(types::read_policy()),
    connect: |settings| {
        Box::pin(async move { Ok(Box::new(AwsProvider::new(settings).await?) as Box<dyn Provider>) })
    },
};

/// Static keys. `Debug` never prints them.
#[derive(Clone, PartialEq, Eq)]
pub struct StaticKeys {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for StaticKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticKeys").field("access_key_id", &"<redacted>").finish_non_exhaustive()
    }
}

impl StaticKeys {
    /// The keys of an AWS credentials Secret (the operator checked the required ones).
    fn from_secret(values: &SecretValues) -> Result<Self, ProviderError> {
        let required = |key: &str| {
            values.get(key).map(str::to_string).ok_or_else(|| {
                ProviderError::Unauthorized(format!("the credentials Secret lacks the key {key}"))
            })
        };
        Ok(Self {
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
            session_token: values.get("AWS_SESSION_TOKEN").map(str::to_string),
        })
    }
}

/// `fn $name(&self, region) -> $sdk::Client`: a client of one regional service, at
/// the account's endpoint override for it. Built once per service and region (a
/// listing that reads per resource asks for it per resource); clones share it.
macro_rules! regional_client {
    ($name:ident, $sdk:ident, $service:literal) => {
        fn $name(&self, region: &str) -> $sdk::Client {
            self.clients.get_or_build($service, region, || {
                let mut builder =
                    $sdk::config::Builder::from(&self.base).region(Region::new(region.to_string()));
                if let Some(url) = self.endpoint_for($service) {
                    builder = builder.endpoint_url(url);
                }
                $sdk::Client::from_conf(builder.build())
            })
        }
    };
}

/// A built client of some SDK, kept for its service and region.
type AnyClient = Box<dyn std::any::Any + Send + Sync>;

/// The SDK clients of one account, by service and region.
#[derive(Default)]
struct Clients(std::sync::Mutex<std::collections::HashMap<(&'static str, String), AnyClient>>);

impl Clients {
    fn get_or_build<C: Clone + Send + Sync + 'static>(
        &self,
        service: &'static str,
        region: &str,
        build: impl FnOnce() -> C,
    ) -> C {
        let mut clients = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (service, region.to_string());
        if let Some(client) = clients.get(&key).and_then(|c| c.downcast_ref::<C>()) {
            return client.clone();
        }
        let client = build();
        clients.insert(key, Box::new(client.clone()));
        client
    }
}

/// One AWS account.
pub struct AwsProvider {
    settings: ProviderSettings,
    /// Config for the home region (first configured region, else us-east-1).
    base: SdkConfig,
    clients: Clients,
}

impl AwsProvider {
    pub async fn new(settings: ProviderSettings) -> Result<Self, ProviderError> {
        let home = settings.regions.first().cloned().unwrap_or_else(|| "us-east-1".into());
        let base = sdk_config(&settings, &home).await?;
        Ok(Self { settings, base, clients: Clients::default() })
    }

    fn endpoint_for(&self, service: &str) -> Option<String> {
        self.settings.endpoint.as_ref()?.for_service(service)
    }

    /// IAM is global: one client, signed for us-east-1 as IAM requires.
    fn iam_client(&self) -> aws_sdk_iam::Client {
        let mut builder = aws_sdk_iam::config::Builder::from(&self.base).region(Region::new("us-east-1"));
        if let Some(url) = self.endpoint_for("iam") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_iam::Client::from_conf(builder.build())
    }

    /// S3 in `region` (a bucket's settings are read where it lives); by path, as
    /// emulators and private endpoints serve buckets, when the endpoint is overridden.
    fn s3_client(&self, region: &str) -> aws_sdk_s3::Client {
        self.clients.get_or_build("s3", region, || {
            let mut builder =
                aws_sdk_s3::config::Builder::from(&self.base).region(Region::new(region.to_string()));
            if let Some(url) = self.endpoint_for("s3") {
                builder = builder.endpoint_url(url).force_path_style(true);
            }
            aws_sdk_s3::Client::from_conf(builder.build())
        })
    }

    regional_client!(ec2_client, aws_sdk_ec2, "ec2");
    regional_client!(ecr_client, aws_sdk_ecr, "ecr");
    regional_client!(lambda_client, aws_sdk_lambda, "lambda");
    regional_client!(logs_client, aws_sdk_cloudwatchlogs, "logs");
    regional_client!(elbv2_client, aws_sdk_elasticloadbalancingv2, "elasticloadbalancing");
    regional_client!(rds_client, aws_sdk_rds, "rds");
    regional_client!(apigateway_client, aws_sdk_apigateway, "apigateway");
    regional_client!(apigatewayv2_client, aws_sdk_apigatewayv2, "apigatewayv2");
    regional_client!(eks_client, aws_sdk_eks, "eks");
    regional_client!(kms_client, aws_sdk_kms, "kms");
    regional_client!(ecs_client, aws_sdk_ecs, "ecs");
    regional_client!(autoscaling_client, aws_sdk_autoscaling, "autoscaling");
    regional_client!(dynamodb_client, aws_sdk_dynamodb, "dynamodb");
    regional_client!(efs_client, aws_sdk_efs, "elasticfilesystem");
    regional_client!(acm_client, aws_sdk_acm, "acm");

    /// Route 53 is global: one client, signed for us-east-1.
    fn route53_client(&self) -> aws_sdk_route53::Client {
        let mut builder = aws_sdk_route53::config::Builder::from(&self.base).region(Region::new("us-east-1"));
        if let Some(url) = self.endpoint_for("route53") {
            builder = builder.endpoint_url(url);
        }
        aws_sdk_route53::Client::from_conf(builder.build())
    }
}

/// Builds the SDK config: region, credential chain, and no SDK-level retries (the
/// account guard retries, so that every attempt is rate-limited and counted).
async fn sdk_config(settings: &ProviderSettings, region: &str) -> Result<SdkConfig, ProviderError> {
    let sts_endpoint = settings.endpoint.as_ref().and_then(|e| e.for_service("sts"));
    let loader = |creds: Option<SharedCredentialsProvider>| {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .retry_config(RetryConfig::disabled());
        if let Some(creds) = creds {
            loader = loader.credentials_provider(creds);
        }
        if let Some(url) = &sts_endpoint {
            loader = loader.endpoint_url(url);
        }
        loader
    };
    let static_creds = |keys: &StaticKeys| {
        SharedCredentialsProvider::new(Credentials::new(
            &keys.access_key_id,
            &keys.secret_access_key,
            keys.session_token.clone(),
            None,
            "driftmgr-secret",
        ))
    };
    let secret = match &settings.credentials {
        CredentialSource::Secret(values) => Some(StaticKeys::from_secret(values)?),
        _ => None,
    };
    let spec = &settings.spec;
    match &settings.credentials {
        _ if spec.assume_role().is_some() => {
            let roles = spec.assume_role().map(|chain| chain.roles.as_slice()).unwrap_or_default();
            let mut config = loader(secret.as_ref().map(static_creds)).load().await;
            for step in roles {
                let mut builder = aws_config::sts::AssumeRoleProvider::builder(&step.role_arn)
                    .session_name(step.session_name.clone().unwrap_or_else(|| "driftmgr".into()))
                    .region(Region::new(region.to_string()))
                    .configure(&config);
                if let Some(external_id) = &step.external_id {
                    builder = builder.external_id(external_id);
                }
                let provider = builder.build().await;
                config = loader(Some(SharedCredentialsProvider::new(provider))).load().await;
            }
            Ok(config)
        }
        CredentialSource::Secret(_) => Ok(loader(secret.as_ref().map(static_creds)).load().await),
        CredentialSource::Ambient => Ok(loader(None).load().await),
        CredentialSource::ServiceAccountToken(token) => {
            let role_arn = spec.web_identity().map(|w| w.role_arn.as_str()).ok_or_else(|| {
                ProviderError::Unauthorized("a ServiceAccount token needs credentials.webIdentity".into())
            })?;
            // Exchanged here rather than with aws-config's provider, which takes no
            // endpoint override (so it could not use a private or emulated STS).
            let unsigned = loader(None).no_credentials().load().await;
            let sts = aws_sdk_sts::Client::new(&unsigned);
            let out = settings
                .guard
                .call("sts", "AssumeRoleWithWebIdentity", classify, || {
                    sts.assume_role_with_web_identity()
                        .role_arn(role_arn)
                        .role_session_name("driftmgr")
                        .web_identity_token(token.0.trim())
                        .send()
                })
                .await
                .map_err(errors::provider_error)?;
            let creds = out.credentials().ok_or_else(|| {
                ProviderError::Unauthorized("AssumeRoleWithWebIdentity returned no credentials".into())
            })?;
            let keys = StaticKeys {
                access_key_id: creds.access_key_id().to_string(),
                secret_access_key: creds.secret_access_key().to_string(),
                session_token: Some(creds.session_token().to_string()),
            };
            Ok(loader(Some(static_creds(&keys))).load().await)
        }
    }
}

#[async_trait]
impl Provider for AwsProvider {
    fn terraform_name(&self) -> &'static str {
        "aws"
    }

    fn supported_types(&self) -> &'static [&'static str] {
        types::supported_types()
    }

    async fn identity(&self) -> Result<Identity, ProviderError> {
        let mut builder = aws_sdk_sts::config::Builder::from(&self.base);
        if let Some(url) = self.endpoint_for("sts") {
            builder = builder.endpoint_url(url);
        }
        let sts = aws_sdk_sts::Client::from_conf(builder.build());
        let out = self
            .settings
            .guard
            .call("sts", "GetCallerIdentity", classify, || sts.get_caller_identity().send())
            .await
            .map_err(errors::provider_error)?;
        Ok(Identity {
            account_id: out.account().unwrap_or_default().to_string(),
            principal: out.arn().unwrap_or_default().to_string(),
        })
    }

    async fn discover(&self, types: &[String], progress: &dyn ProgressSink) -> Discovery {
        discover::discover(self, types, progress).await
    }

    async fn read(&self, target: &ResourceTarget) -> Result<Option<LiveResource>, ProviderError> {
        self.read_one(target).await
    }

    async fn remediate(
        &self,
        target: &ResourceTarget,
        changes: &[AttributeChange],
    ) -> Result<String, ProviderError> {
        self.apply_changes(target, changes).await
    }

    async fn delete(&self, target: &ResourceTarget) -> Result<String, ProviderError> {
        self.delete_one(target).await
    }

    async fn state_bucket(
        &self,
        bucket: &str,
        region: Option<&str>,
    ) -> Result<Arc<dyn ObjectStore>, ProviderError> {
        use aws_credential_types::provider::ProvideCredentials;
        let provider = self
            .base
            .credentials_provider()
            .ok_or_else(|| ProviderError::Unauthorized("no AWS credentials were found".into()))?;
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|e| ProviderError::Unauthorized(format!("could not resolve AWS credentials: {e}")))?;
        let region = region
            .map(str::to_string)
            .or_else(|| self.base.region().map(|r| r.to_string()))
            .unwrap_or_else(|| "us-east-1".into());
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(creds.access_key_id())
            .with_secret_access_key(creds.secret_access_key());
        if let Some(token) = creds.session_token() {
            builder = builder.with_token(token);
        }
        if let Some(url) = self.endpoint_for("s3") {
            // Emulators and private endpoints serve buckets by path, often over http.
            builder =
                builder.with_endpoint(url).with_allow_http(true).with_virtual_hosted_style_request(false);
        }
        let store = builder.build().map_err(|e| ProviderError::Other(format!("S3 bucket {bucket}: {e}")))?;
        Ok(Arc::new(store))
    }
}

#[cfg(test)]
mod client_tests {
    use super::Clients;

    #[test]
    fn a_client_is_built_once_per_service_and_region() {
        let clients = Clients::default();
        let mut built = 0;
        for (service, region) in
            [("ec2", "eu-west-1"), ("ec2", "eu-west-1"), ("ec2", "us-east-1"), ("rds", "eu-west-1")]
        {
            let client: String = clients.get_or_build(service, region, || {
                built += 1;
                format!("{service} {region}")
            });
            assert_eq!(client, format!("{service} {region}"));
        }
        assert_eq!(built, 3);
    }
}
