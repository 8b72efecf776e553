//! Small types shared by several custom resources.

use kube::KubeSchema;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to an object in the same namespace, by name.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
pub struct LocalObjectRef {
    /// Name of the referenced object, in the same namespace as the referrer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
}

/// A key inside a Secret (or ConfigMap) in the same namespace.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, KubeSchema)]
pub struct SecretKeyRef {
    /// Name of the Secret or ConfigMap, in the same namespace as the referrer.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,
    /// The key within its data.
    #[schemars(length(min = 1, max = 253), regex(pattern = r"^[-._a-zA-Z0-9]+$"))]
    pub key: String,
}

/// How serious a drift item is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, JsonSchema)]
pub enum Severity {
    /// Cosmetic: tags, descriptions.
    Low,
    /// A behaviour change with limited blast radius, such as an instance type.
    Medium,
    /// A change that affects availability or cost broadly.
    High,
    /// A change that weakens security, such as a port opened to 0.0.0.0/0.
    Critical,
}
