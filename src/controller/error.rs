//! Errors a reconcile can end with. Invalid user input is not an error: it is an
//! outcome, written to a condition. These are the failures worth retrying.

/// A reconcile failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request to the API server failed.
    #[error("Kubernetes API request failed: {0}")]
    Kube(#[from] kube::Error),
    /// The status could not be serialised.
    #[error("could not serialise the status: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The object has no namespace (the CRDs are namespaced, so the API server sent something odd).
    #[error("object has no namespace")]
    MissingNamespace,
}

impl Error {
    /// The write lost a race with another writer or was built from a stale read.
    pub fn is_conflict(&self) -> bool {
        matches!(self, Self::Kube(kube::Error::Api(status)) if status.is_conflict())
    }

    /// A low-cardinality label for the `reconcile_errors_total` metric.
    pub fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(kube::Error::Api(status)) if status.is_conflict() => "conflict",
            Self::Kube(kube::Error::Api(status)) if status.is_forbidden() => "forbidden",
            Self::Kube(kube::Error::Api(_)) => "api",
            Self::Kube(_) => "transport",
            Self::Serialize(_) => "serialize",
            Self::MissingNamespace => "missing_namespace",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_stable() {
        let conflict =
            kube::Error::Api(Box::new(kube::core::Status::failure("conflict", "Conflict").with_code(409)));
        assert_eq!(Error::from(conflict).metric_label(), "conflict");
        assert_eq!(Error::MissingNamespace.metric_label(), "missing_namespace");
    }
}
