//! driftmgr: finds drift between Terraform state and the live cloud, as a
//! Kubernetes operator and as a one-shot command.

pub mod controller;
pub mod crd;
pub mod duration;
pub mod leader;
pub mod operator;
pub mod telemetry;
