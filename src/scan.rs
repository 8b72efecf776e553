//! The one data path, shared by the operator and the CLI: discover the live resources
//! of the types state could hold, then compare them by their cloud's rules. It sits
//! above both the engine (`drift`) and the clouds (`provider`), which know nothing of
//! each other beyond the engine's interface.

use k8s_openapi::jiff::Timestamp;

use crate::drift::{self, EngineConfig, ProgressSink, Report};
use crate::provider::{Provider, cloud_rules};
use crate::state::StateFile;

/// Discovers what `config` asks for through `provider` and compares it with `states`.
pub async fn scan(
    provider: &dyn Provider,
    states: &[StateFile],
    config: &EngineConfig,
    progress: &dyn ProgressSink,
    now: Timestamp,
) -> Report {
    let discovery = provider.discover(&config.resource_types, progress).await;
    drift::compare(states, &discovery, config, cloud_rules(provider.terraform_name()), now)
}
