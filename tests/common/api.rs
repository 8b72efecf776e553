//! `driftmgr api` processes for the tests, and plain HTTP/1.0 calls to them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{free_port, kubectl, wait_until};

/// A running `driftmgr api`, stopped when dropped.
pub struct ApiProcess {
    pub port: u16,
    /// Its stdout and stderr.
    pub log: PathBuf,
    child: Child,
}

impl Drop for ApiProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `driftmgr api` as `kubeconfig`, watching `ns`, with extra `args` (roles,
/// audit); logs to `log` and waits until it is ready.
pub async fn start(ns: &str, kubeconfig: &Path, log: PathBuf, args: &[String]) -> ApiProcess {
    let port = free_port();
    let file = std::fs::File::create(&log).expect("log");
    let child = Command::new(env!("CARGO_BIN_EXE_driftmgr"))
        .args(["api", "--listen", &format!("127.0.0.1:{port}"), "--watch-namespace", ns])
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdout(Stdio::from(file.try_clone().expect("log")))
        .stderr(Stdio::from(file))
        .spawn()
        .expect("start driftmgr api");
    let process = ApiProcess { port, log, child };
    wait_until(Duration::from_secs(30), "the API ready", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        (call(port, "GET", "/health/ready", None).await.0 == 200).then_some(())
    })
    .await;
    process
}

/// Logs in with a password: the status and the body (tokens, user, roles).
pub async fn login(port: u16, user: &str, password: &str) -> (u16, Value) {
    let body = json!({"username": user, "password": password}).to_string();
    let (status, _, answer) =
        send(port, "POST", "/api/v1/auth/login", &[("Content-Type", "application/json")], &body).await;
    (status, answer)
}

/// One HTTP/1.0 request: status, response head, and JSON body (`Value::Null` when it
/// is not JSON).
pub async fn call(port: u16, method: &str, path: &str, token: Option<&str>) -> (u16, String, Value) {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    send(port, method, path, &headers, "").await
}

/// One HTTP/1.0 request with `headers` and `body`: status, response head, JSON body.
pub async fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String, Value) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect to the API");
    let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
    let request = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n{extra}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (status, head.to_string(), serde_json::from_str(body).unwrap_or(Value::Null))
}

/// A token the API server mints for ServiceAccount `account` of `ns`.
pub fn token(ns: &str, account: &str) -> String {
    kubectl(&["create", "token", account, "-n", ns, "--duration", "1h"]).trim().to_string()
}

/// An argon2 hash made by `driftmgr hash-password`, as an admin would.
fn hash(password: &str) -> String {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_driftmgr"))
        .arg("hash-password")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("driftmgr hash-password");
    std::io::Write::write_fmt(&mut child.stdin.take().expect("stdin"), format_args!("{password}\n"))
        .expect("write password");
    let out = child.wait_with_output().expect("hash-password output");
    assert!(out.status.success());
    String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
}

/// Adds users (name -> roles, password `pw-<name>`) to the users Secret of `ns`.
pub fn add_users(ns: &str, users: &[(&str, &[&str])]) {
    let data: BTreeMap<String, String> = users
        .iter()
        .map(|(name, roles)| {
            let record = json!({"passwordHash": hash(&format!("pw-{name}")), "roles": roles});
            (name.to_string(), base64::engine::general_purpose::STANDARD.encode(record.to_string()))
        })
        .collect();
    let patch = json!({"data": data}).to_string();
    kubectl(&["patch", "secret", "driftmgr-api-users", "-n", ns, "--type", "merge", "-p", &patch]);
}
