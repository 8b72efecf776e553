//! The audit trail: every mutating and every denied API request becomes a record in a
//! hash chain, stored in ConfigMap segments with signed digests (`chain.rs`, pure;
//! `store.rs`, the ConfigMaps).

pub mod chain;
pub mod store;
