//! driftmgr: finds drift between Terraform state and the live cloud, as a
//! Kubernetes operator and as a one-shot command.

/// mimalloc: a scan holds millions of small allocations (attribute names, values,
/// tag maps); mimalloc packs them in size classes without per-object headers and
/// frees without glibc's consolidation passes (`make bench`: peak RSS and time).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod attributes;
pub mod cli;
pub mod controller;
pub mod crd;
pub mod drift;
pub mod duration;
pub mod leader;
pub mod operator;
pub mod provider;
pub mod resilience;
pub mod state;
pub mod telemetry;

/// Selects ring as the process-wide TLS crypto provider. Both kube (ring) and the
/// AWS SDK (aws-lc-rs) enable a rustls backend, and with two compiled in rustls
/// will not choose on its own. Call once at start; later calls do nothing.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
