//! The replay corpus: every state the real AWS provider wrote (the driftctl fixtures)
//! and synthetic states in the provider's exact shape, recreated in moto with their
//! recorded values, must scan in sync; each single change made in moto behind the
//! state's back must be reported exactly (kind, path, expected and actual value,
//! severity). The driver and its expectations: tests/support/replay_corpus.py.

mod common;

use common::moto::Moto;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tfstate");

#[test]
fn provider_written_states_replayed_in_moto_are_in_sync_and_every_change_is_reported_exactly() {
    // moto issues a requested certificate after this many seconds (AWS once DNS
    // validation succeeds); the corpus's certificates are validated ones.
    let moto = Moto::start_with_env(&[("MOTO_ACM_VALIDATION_WAIT", "0")]);
    let passed = common::run_corpus(
        "replay_corpus.py",
        &[env!("CARGO_BIN_EXE_driftmgr"), &moto.url, FIXTURES, "!iam"],
    );
    assert!(
        passed >= 259,
        "61 states in sync (EC2, VPC attachments, S3, ECR, Lambda, ELB, RDS, API Gateway v1 and v2, KMS, EKS, ECS, Auto Scaling, DynamoDB, EFS, ACM, Route 53) and at least 198 perturbations: {passed} passed"
    );
}

/// IAM on a moto that holds AWS's managed policies (as every account does), so that
/// states attaching them replay as written.
#[test]
fn iam_states_replayed_in_moto_are_in_sync_and_every_change_is_reported_exactly() {
    let moto = Moto::start_with_env(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")]);
    let passed =
        common::run_corpus("replay_corpus.py", &[env!("CARGO_BIN_EXE_driftmgr"), &moto.url, FIXTURES, "iam"]);
    assert!(passed >= 44, "11 states in sync and at least 33 perturbations: {passed} passed");
}
