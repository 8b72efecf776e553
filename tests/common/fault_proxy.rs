//! A fault-injecting HTTP proxy in front of moto: requests for chosen EC2
//! operations get a throttling or server error (as AWS sends them) a given number
//! of times; everything else is forwarded. Runs on 127.0.0.1 until dropped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A fault to inject: HTTP status and AWS error code, `times` times (`u32::MAX`: always).
#[derive(Clone, Debug)]
pub struct Fault {
    pub status: u16,
    pub code: &'static str,
    pub times: u32,
}

pub struct FaultProxy {
    pub url: String,
    faults: Arc<Mutex<HashMap<String, Fault>>>,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

/// What the proxy counts and delays, shared with its connections.
#[derive(Default)]
struct Shared {
    /// Requests forwarded to the upstream, by EC2 action.
    calls: Mutex<HashMap<String, u32>>,
    /// Answers held back after the upstream has answered (the call has taken effect).
    delays: Mutex<HashMap<String, std::time::Duration>>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) with faults keyed by
    /// EC2 action name (`DescribeInstances`).
    pub async fn start(upstream: &str, faults: HashMap<String, Fault>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let upstream = upstream.trim_start_matches("http://").to_string();
        let faults = Arc::new(Mutex::new(faults));
        let shared = Arc::new(Shared::default());
        let (for_task, state) = (faults.clone(), shared.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, upstream.clone(), for_task.clone(), state.clone()));
            }
        });
        Self { url, faults, shared, task }
    }

    /// Requests of `action` that reached the upstream so far.
    pub fn calls(&self, action: &str) -> u32 {
        self.shared.calls.lock().expect("lock").get(action).copied().unwrap_or(0)
    }

    /// Every action forwarded so far, with its count.
    pub fn all_calls(&self) -> HashMap<String, u32> {
        self.shared.calls.lock().expect("lock").clone()
    }

    /// Holds back the answer to each `action` for `delay` after the upstream answered:
    /// the change has landed, the caller does not know yet.
    pub fn delay_answers(&self, action: &str, delay: std::time::Duration) {
        self.shared.delays.lock().expect("lock").insert(action.to_string(), delay);
    }

    /// Injects `fault` for `action` from now on.
    pub fn inject(&self, action: &str, fault: Fault) {
        self.faults.lock().expect("lock").insert(action.to_string(), fault);
    }

    /// Faults of `action` still to be injected.
    pub fn remaining(&self, action: &str) -> u32 {
        self.faults.lock().expect("lock").get(action).map_or(0, |f| f.times)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Reads one HTTP message (head and Content-Length body); `None` at end of stream.
async fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            let total = end + 4 + length;
            while buffer.len() < total {
                let mut chunk = [0u8; 65536];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            return Some(buffer.drain(..total).collect());
        }
        let mut chunk = [0u8; 65536];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

async fn serve(
    mut client: TcpStream,
    upstream: String,
    faults: Arc<Mutex<HashMap<String, Fault>>>,
    shared: Arc<Shared>,
) {
    let mut buffer = Vec::new();
    while let Some(request) = read_message(&mut client, &mut buffer).await {
        let text = String::from_utf8_lossy(&request);
        // Query-protocol APIs (EC2, IAM, STS) name the action in the body, JSON ones
        // (ECR) in X-Amz-Target; REST ones (S3) are counted by method, as `REST GET`.
        let target = text.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("x-amz-target")
                .then(|| value.trim().rsplit('.').next().map(str::to_string))?
        });
        let action = text
            .split(['&', '?', '\n'])
            .find_map(|p| p.trim().strip_prefix("Action="))
            .map(str::to_string)
            .or(target)
            .or_else(|| text.split_whitespace().next().map(|method| format!("REST {method}")));
        let fault = action.clone().and_then(|a| {
            let mut faults = faults.lock().ok()?;
            let fault = faults.get_mut(&a).filter(|f| f.times > 0)?;
            if fault.times != u32::MAX {
                fault.times -= 1;
            }
            Some(fault.clone())
        });
        let response = match fault {
            Some(fault) => {
                let body = format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>{}</Code><Message>injected by the test proxy</Message></Error></Errors><RequestID>fault</RequestID></Response>",
                    fault.code
                );
                format!(
                    "HTTP/1.1 {} Injected\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
                    fault.status,
                    body.len()
                )
                .into_bytes()
            }
            None => {
                let Some(response) = forward(&upstream, &request).await else { return };
                if let Some(action) = &action {
                    *shared.calls.lock().expect("lock").entry(action.clone()).or_default() += 1;
                    let delay = shared.delays.lock().expect("lock").get(action).copied();
                    if let Some(delay) = delay {
                        tokio::time::sleep(delay).await;
                    }
                }
                response
            }
        };
        if client.write_all(&response).await.is_err() {
            return;
        }
    }
}

async fn forward(upstream: &str, request: &[u8]) -> Option<Vec<u8>> {
    let mut server = TcpStream::connect(upstream).await.ok()?;
    server.write_all(request).await.ok()?;
    let mut buffer = Vec::new();
    read_message(&mut server, &mut buffer).await
}
