//! Which credentials a namespace may use. A tenant uses what it owns: Secrets and
//! ServiceAccounts of its own namespace. The operator's own identity (its ambient
//! credential chain, and anything assumed from it) is the cluster admin's to lend:
//! only namespaces the admin lists may use it, and it is only ever sent to the
//! cloud's own endpoints or to endpoints the admin lists.

use crate::crd::{Credentials, ProviderAccountSpec};

/// What the cluster admin allows (chart values `tenancy.*`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TenancyPolicy {
    /// Namespaces whose ProviderAccounts may use the operator's own credentials;
    /// `*` allows every namespace.
    pub ambient_namespaces: Vec<String>,
    /// Endpoint URLs the operator's own credentials may be sent to, compared
    /// exactly (a trailing `/` aside).
    pub allowed_endpoints: Vec<String>,
}

/// Why an account may not use its credentials.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TenancyViolation {
    #[error(
        "credentials.{credential} uses the operator's own identity, which namespace {namespace} may not use; a cluster admin can allow it with the chart value tenancy.ambientCredentialNamespaces"
    )]
    AmbientNotAllowed { namespace: String, credential: &'static str },
    #[error(
        "endpoint {url} is not allowed for the operator's own credentials; a cluster admin can allow it with the chart value tenancy.allowedEndpoints"
    )]
    EndpointNotAllowed { url: String },
}

impl TenancyViolation {
    /// CamelCase reason for the Ready condition.
    pub fn reason(&self) -> &'static str {
        match self {
            Self::AmbientNotAllowed { .. } => "AmbientCredentialsNotAllowed",
            Self::EndpointNotAllowed { .. } => "EndpointNotAllowed",
        }
    }
}

/// The credential source that is the operator's own identity, if `credentials` uses one.
fn operator_identity(credentials: &Credentials) -> Option<&'static str> {
    match credentials {
        Credentials::None(_) => Some("none"),
        // Workload identity without a ServiceAccount of the namespace to exchange is
        // the metadata server's identity: the operator's.
        Credentials::WorkloadIdentity(_) if credentials.service_account_token().is_none() => {
            Some("workloadIdentity")
        }
        Credentials::AssumeRole(chain) if chain.source_secret_ref.is_none() => Some("assumeRole"),
        Credentials::SecretRef(_)
        | Credentials::AssumeRole(_)
        | Credentials::WebIdentity(_)
        | Credentials::WorkloadIdentity(_) => None,
    }
}

/// Whether an account of `namespace` may use its credentials with its endpoints (pure).
pub fn check(
    policy: &TenancyPolicy,
    namespace: &str,
    spec: &ProviderAccountSpec,
) -> Result<(), TenancyViolation> {
    let Some(source) = operator_identity(&spec.credentials) else {
        return Ok(());
    };
    let allowed_namespace = policy.ambient_namespaces.iter().any(|n| n == "*" || n == namespace);
    if !allowed_namespace {
        return Err(TenancyViolation::AmbientNotAllowed { namespace: namespace.into(), credential: source });
    }
    let endpoints =
        spec.endpoint.iter().flat_map(|e| e.url.iter().chain(e.services.iter().flat_map(|s| s.values())));
    let normal = |url: &str| url.trim_end_matches('/').to_ascii_lowercase();
    for url in endpoints {
        if !policy.allowed_endpoints.iter().any(|allowed| normal(allowed) == normal(url)) {
            return Err(TenancyViolation::EndpointNotAllowed { url: url.clone() });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(credentials: &str, endpoint: &str) -> ProviderAccountSpec {
        crate::crd::from_yaml(&format!("provider: aws\ncredentials: {credentials}\n{endpoint}"))
            .expect("spec")
    }

    fn policy(namespaces: &[&str], endpoints: &[&str]) -> TenancyPolicy {
        TenancyPolicy {
            ambient_namespaces: namespaces.iter().map(|s| s.to_string()).collect(),
            allowed_endpoints: endpoints.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn own_secrets_and_service_accounts_need_no_permission_whatever_the_endpoint() {
        let none = policy(&[], &[]);
        let endpoint = "endpoint: {url: 'http://tenant.example:9000'}";
        assert_eq!(check(&none, "team-a", &spec("{secretRef: {name: creds}}", endpoint)), Ok(()));
        let web = "{webIdentity: {roleArn: 'arn:aws:iam::123456789012:role/r', serviceAccountName: scanner}}";
        assert_eq!(check(&none, "team-a", &spec(web, endpoint)), Ok(()));
        let chained = "{assumeRole: {sourceSecretRef: {name: base}, roles: [{roleArn: 'arn:aws:iam::123456789012:role/r'}]}}";
        assert_eq!(check(&none, "team-a", &spec(chained, endpoint)), Ok(()));
        let federated = "{workloadIdentity: {serviceAccountName: scanner, audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/k/providers/c'}}";
        assert_eq!(check(&none, "team-a", &spec(federated, endpoint)), Ok(()));
    }

    #[test]
    fn the_operators_identity_is_refused_unless_the_namespace_is_listed() {
        let from_ambient = "{assumeRole: {roles: [{roleArn: 'arn:aws:iam::123456789012:role/r'}]}}";
        let metadata_server =
            "{workloadIdentity: {serviceAccountEmail: scanner@p-123456.iam.gserviceaccount.com}}";
        for (credentials, source) in
            [("{none: {}}", "none"), (from_ambient, "assumeRole"), (metadata_server, "workloadIdentity")]
        {
            let refused = check(&policy(&["platform"], &[]), "team-a", &spec(credentials, ""));
            assert_eq!(
                refused,
                Err(TenancyViolation::AmbientNotAllowed { namespace: "team-a".into(), credential: source })
            );
            assert!(refused.unwrap_err().to_string().contains("tenancy.ambientCredentialNamespaces"));
            assert_eq!(check(&policy(&["platform"], &[]), "platform", &spec(credentials, "")), Ok(()));
            assert_eq!(check(&policy(&["*"], &[]), "team-a", &spec(credentials, "")), Ok(()));
        }
    }

    #[test]
    fn the_operators_identity_goes_only_to_listed_endpoints() {
        let allowed = policy(&["*"], &["https://sts.internal.example/"]);
        let to = |endpoint: &str| check(&allowed, "team-a", &spec("{none: {}}", endpoint));
        assert_eq!(
            to("endpoint: {url: 'http://evil.example'}"),
            Err(TenancyViolation::EndpointNotAllowed { url: "http://evil.example".into() })
        );
        assert_eq!(to("endpoint: {url: 'https://STS.internal.example'}"), Ok(()));
        assert_eq!(
            to("endpoint: {url: 'https://sts.internal.example', services: {sts: 'http://evil.example/'}}"),
            Err(TenancyViolation::EndpointNotAllowed { url: "http://evil.example/".into() }),
            "a per-service URL is checked as well"
        );
        assert_eq!(
            to("endpoint: {url: 'https://sts.internal.example.evil.example'}").map_err(|e| e.reason()),
            Err("EndpointNotAllowed"),
            "no prefix matching"
        );
    }
}
