//! The GCP replay corpus: every Compute state the real Google provider wrote (the
//! driftctl fixtures), recreated in the GCP emulator with their recorded values, must
//! scan in sync with `driftmgr scan --provider gcp`; each single change made behind the
//! state's back must be reported exactly (kind, path, expected and actual value,
//! severity). The driver and its expectations: tests/support/gcp_replay.py.

mod common;

use common::gcp::Gcp;

#[test]
fn google_provider_states_replayed_in_the_emulator_are_in_sync_and_every_change_is_reported_exactly() {
    let gcp = Gcp::start();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tfstate");
    let passed = common::run_corpus("gcp_replay.py", &[env!("CARGO_BIN_EXE_driftmgr"), &gcp.url, fixtures]);
    assert!(passed >= 38, "7 states in sync and at least 31 perturbations: {passed} passed");
}
