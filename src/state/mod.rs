//! Terraform / OpenTofu state: parsing format v4 into provider-neutral resources,
//! and reading state files from where they live.

mod address;
mod parse;
mod remote;
mod source;
mod stores;

pub use address::{IndexKey, ProviderAddress};
pub use parse::{AttributeFilter, KEEP_ALL, Keep, StateError, parse_state, parse_state_keeping};
pub use remote::{
    CloudWorkspaces, HttpAuth, HttpClientOptions, WorkspaceSelector, display_url, read_cloud_states,
    read_http_state,
};
pub use source::{MAX_STATE_BYTES, StateLocation, StateReadError, read_local_states, read_object_states};
pub use stores::{AzureCredential, azure_store, gcs_store};

use crate::attributes::Attributes;

/// One parsed state file.
#[derive(Clone, Debug, PartialEq)]
pub struct StateFile {
    /// Where it came from (file path, `s3://bucket/key`, `configmap/ns/name#key`).
    pub origin: String,
    /// Terraform or OpenTofu version that wrote it.
    pub terraform_version: String,
    pub serial: u64,
    pub lineage: String,
    /// Managed resource instances (data sources are skipped).
    pub resources: Vec<StateResource>,
    /// Data-source instances skipped.
    pub skipped_data_sources: usize,
}

/// One managed resource instance.
#[derive(Clone, Debug, PartialEq)]
pub struct StateResource {
    /// Full address, such as `module.net.aws_subnet.private["a"]`.
    pub address: String,
    /// Resource type, such as `aws_instance`.
    pub type_: String,
    /// The provider that manages it.
    pub provider: ProviderAddress,
    /// The cloud id (`attributes.id`), when the instance has one.
    pub id: Option<String>,
    /// Every attribute, as Terraform recorded it.
    pub attributes: Attributes,
}
