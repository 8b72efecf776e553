//! driftmgr: finds drift between Terraform state and the live cloud, as a
//! Kubernetes operator and as a one-shot command.

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
