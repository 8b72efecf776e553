//! driftmgr: finds drift between Terraform state and the live cloud, as a
//! Kubernetes operator and as a one-shot command.

/// mimalloc: a scan holds millions of small allocations (attribute names, values,
/// tag maps); mimalloc packs them in size classes without per-object headers and
/// frees without glibc's consolidation passes (`make bench`: peak RSS and time).
/// See `init_memory` for the one setting it needs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod api;
pub mod attributes;
pub mod audit;
pub mod cli;
pub mod controller;
pub mod crd;
pub mod drift;
pub mod duration;
pub mod leader;
pub mod operator;
pub mod provider;
pub mod remediation;
pub mod resilience;
pub mod scan;
pub mod state;
pub mod telemetry;

/// Turns transparent huge pages off for this process. mimalloc's arenas otherwise get
/// huge pages where the kernel allows them on request, and assembling those stalls
/// the process in memory compaction for tens to hundreds of milliseconds at a time
/// (`make bench` at 100k: 0.75-1.35 s with them, a steady 0.83 s without, and less
/// memory). Call once at start.
pub fn init_memory() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integer arguments and touches no memory
    // of ours; on a kernel without it the call fails harmlessly.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Selects ring as the process-wide TLS crypto provider. Both kube (ring) and the
/// AWS SDK (aws-lc-rs) enable a rustls backend, and with two compiled in rustls
/// will not choose on its own. Call once at start; later calls do nothing.
pub fn init_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
