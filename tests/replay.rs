//! The replay corpus: every EC2-family state the real AWS provider wrote (the
//! driftctl fixtures) and synthetic states in the provider's exact shape, recreated in
//! moto with their recorded values, must scan in sync; each single change made in moto
//! behind the state's back must be reported exactly (kind, path, expected and actual
//! value, severity). The driver and its expectations: tests/support/replay_corpus.py.

mod common;

use std::process::Command;

use common::moto::Moto;

#[test]
fn provider_written_states_replayed_in_moto_are_in_sync_and_every_change_is_reported_exactly() {
    let moto = Moto::start();
    let python = common::moto::venv_python();
    let root = env!("CARGO_MANIFEST_DIR");
    let output = Command::new(python)
        .arg(format!("{root}/tests/support/replay_corpus.py"))
        .args([env!("CARGO_BIN_EXE_driftmgr"), &moto.url, &format!("{root}/tests/fixtures/tfstate")])
        .output()
        .expect("run the replay corpus");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    let closing = stdout.lines().last().unwrap_or_default();
    let (passed, failed) = closing
        .split_once(" passed, ")
        .and_then(|(p, f)| Some((p.parse::<u32>().ok()?, f.strip_suffix(" failed")?.parse::<u32>().ok()?)))
        .unwrap_or((0, u32::MAX));
    assert!(output.status.success() && failed == 0, "replay checks failed: {closing}");
    assert!(passed >= 68, "24 states in sync and at least 44 perturbations: {closing}");
}
