//! `/api/v1/events`: a WebSocket stream of what happens to scans and plans, derived
//! from the API's own watches (every replica derives the same events, so a client may
//! reconnect to any of them). Each event carries the object's resourceVersion; a client
//! that reconnects with `?resourceVersion=` gets the events after that one from the
//! replica's recent buffer, or an `Expired` message when it no longer has them (like a
//! watch's 410 Gone: list again, then follow).

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde::Serialize;
use tokio::sync::broadcast;

use super::AppState;
use super::access::{ApiError, authorize};
use super::auth::Route;
use crate::crd::{DriftScan, RemediationPlan, ScanPhase};

/// Events kept for clients that reconnect.
const RECENT: usize = 1024;

/// One thing that happened.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// `ScanStarted`, `ScanCompleted`, `ScanFailed`, `DriftFound`, `PlanPhaseChanged`.
    #[serde(rename = "type")]
    pub type_: &'static str,
    pub kind: &'static str,
    pub namespace: String,
    pub name: String,
    pub resource_version: String,
    /// The scan's counts, or the plan's new phase.
    pub detail: serde_json::Value,
    /// This replica's order of events (ignore across replicas).
    pub seq: u64,
}

/// What the last version of an object looked like, to tell what changed.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Scan { phase: Option<ScanPhase>, last_scan: Option<String> },
    Plan { phase: Option<String> },
}

/// An object: namespace, name, kind.
type ObjectKey = (String, String, &'static str);

/// What the hub remembers.
#[derive(Default)]
struct Recent {
    /// The last event's number.
    seq: u64,
    events: VecDeque<Event>,
    seen: HashMap<ObjectKey, Seen>,
}

/// The events of one replica: the recent ones, and a channel to the live streams.
pub struct EventHub {
    sender: broadcast::Sender<Event>,
    state: Mutex<Recent>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self { sender: broadcast::channel(RECENT).0, state: Mutex::new(Recent::default()) }
    }
}

/// The events a scan's change means (pure): started, then completed (with drift
/// found when it found any) or failed.
fn scan_events(before: Option<&Seen>, scan: &DriftScan) -> (Seen, Vec<(&'static str, serde_json::Value)>) {
    let status = scan.status.clone().unwrap_or_default();
    let now = Seen::Scan { phase: status.phase, last_scan: status.last_scan_time.map(|t| t.0.to_string()) };
    let Some(Seen::Scan { phase, last_scan }) = before else { return (now, Vec::new()) };
    let Seen::Scan { phase: new_phase, last_scan: new_last } = &now else { unreachable!("built above") };
    let mut events = Vec::new();
    if *new_phase == Some(ScanPhase::Scanning) && *phase != Some(ScanPhase::Scanning) {
        events.push(("ScanStarted", serde_json::json!({})));
    }
    if new_last != last_scan
        || (*phase == Some(ScanPhase::Scanning) && *new_phase != Some(ScanPhase::Scanning))
    {
        let summary = status.summary.unwrap_or_default();
        let counts = serde_json::json!({
            "modified": summary.modified, "missing": summary.missing, "unmanaged": summary.unmanaged,
        });
        match new_phase {
            Some(ScanPhase::Completed) => {
                events.push(("ScanCompleted", counts.clone()));
                if summary.modified + summary.missing + summary.unmanaged > 0 {
                    events.push(("DriftFound", counts));
                }
            }
            Some(ScanPhase::Failed) => events.push(("ScanFailed", serde_json::json!({}))),
            _ => {}
        }
    }
    (now, events)
}

/// The event a plan's change means (pure): its phase moved.
fn plan_events(
    before: Option<&Seen>,
    plan: &RemediationPlan,
) -> (Seen, Vec<(&'static str, serde_json::Value)>) {
    let phase = plan.status.as_ref().and_then(|s| s.phase).map(|p| format!("{p:?}"));
    let now = Seen::Plan { phase: phase.clone() };
    match before {
        Some(previous) if *previous != now => {
            (now, vec![("PlanPhaseChanged", serde_json::json!({"phase": phase}))])
        }
        _ => (now, Vec::new()),
    }
}

impl EventHub {
    fn publish(
        &self,
        kind: &'static str,
        object: &kube::api::ObjectMeta,
        derive: impl FnOnce(Option<&Seen>) -> (Seen, Vec<(&'static str, serde_json::Value)>),
    ) {
        let key =
            (object.namespace.clone().unwrap_or_default(), object.name.clone().unwrap_or_default(), kind);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Recent { seq, events: recent, seen } = &mut *state;
        let (now, events) = derive(seen.get(&key));
        seen.insert(key.clone(), now);
        for (type_, detail) in events {
            *seq += 1;
            let event = Event {
                type_,
                kind,
                namespace: key.0.clone(),
                name: key.1.clone(),
                resource_version: object.resource_version.clone().unwrap_or_default(),
                detail,
                seq: *seq,
            };
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back(event.clone());
            // No receiver is fine: nobody is listening.
            let _ = self.sender.send(event);
        }
    }

    /// A scan as its watch saw it (the first sight of an object is not an event).
    pub fn scan_seen(&self, scan: &DriftScan) {
        self.publish("DriftScan", &scan.metadata, |before| scan_events(before, scan));
    }

    /// A plan as its watch saw it.
    pub fn plan_seen(&self, plan: &RemediationPlan) {
        self.publish("RemediationPlan", &plan.metadata, |before| plan_events(before, plan));
    }

    /// The live stream, and the recent events after `resource_version` (`None` when
    /// they are no longer buffered). Subscribing first means nothing falls between.
    fn follow(&self, resource_version: Option<&str>) -> (broadcast::Receiver<Event>, Option<Vec<Event>>) {
        let receiver = self.sender.subscribe();
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let replay = match resource_version {
            None => Some(Vec::new()),
            Some(version) => state
                .events
                .iter()
                .rposition(|e| e.resource_version == version)
                .map(|at| state.events.iter().skip(at + 1).cloned().collect()),
        };
        (receiver, replay)
    }
}

/// Refuses a cookie-authenticated upgrade from another origin (cross-site WebSocket
/// hijacking: the browser sends the cookie with any page's WebSocket).
fn same_origin(headers: &HeaderMap) -> bool {
    if headers.contains_key(header::AUTHORIZATION) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None => true,
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
            origin_host.is_some() && origin_host == host
        }
    }
}

/// Opens the event stream.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", security(("bearer" = [])),
    params(("resourceVersion" = Option<String>, Query, description = "resume after the event with this resourceVersion")),
    responses((status = 101, description = "a WebSocket of JSON events: type, kind, namespace, name, resourceVersion, detail"), (status = 401, description = "no or refused token"), (status = 403, description = "no role for this route, or another origin")))]
pub async fn events(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(query): Query<HashMap<String, String>>,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    // Who may watch is decided before anything about the request's shape.
    let caller = authorize(&state, &headers, peer, Route::WatchEvents, "events").await?;
    let upgrade = upgrade.map_err(|rejection| {
        ApiError::BadRequest(format!("a WebSocket upgrade is needed here: {rejection}"))
    })?;
    if !same_origin(&headers) {
        return Err(ApiError::Forbidden("the event stream is served to this origin only".into()));
    }
    let (receiver, replay) = state.events.follow(query.get("resourceVersion").map(String::as_str));
    tracing::debug!(user = %caller.user, "event stream opened");
    Ok(upgrade.on_upgrade(move |socket| stream(socket, receiver, replay)))
}

async fn stream(mut socket: WebSocket, mut receiver: broadcast::Receiver<Event>, replay: Option<Vec<Event>>) {
    let mut last = 0;
    match replay {
        Some(events) => {
            for event in events {
                last = event.seq;
                if socket.send(text(&event)).await.is_err() {
                    return;
                }
            }
        }
        None => {
            let expired = serde_json::json!({"type": "Expired", "message": "the events after that resourceVersion are gone: list again, then follow"});
            if socket.send(text(&expired)).await.is_err() {
                return;
            }
        }
    }
    loop {
        tokio::select! {
            event = receiver.recv() => match event {
                Ok(event) if event.seq <= last => {}
                Ok(event) => {
                    last = event.seq;
                    if socket.send(text(&event)).await.is_err() {
                        return;
                    }
                }
                // A client too slow for the stream is told so, like a resync.
                Err(broadcast::error::RecvError::Lagged(_)) => {
                    let expired = serde_json::json!({"type": "Expired", "message": "events were missed: list again, then follow"});
                    if socket.send(text(&expired)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

/// A JSON text message.
fn text<T: Serialize>(value: &T) -> Message {
    Message::Text(serde_json::to_string(value).unwrap_or_default().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(phase: &str, last: Option<&str>, modified: u64, rv: &str) -> DriftScan {
        let mut status = serde_json::json!({"phase": phase, "summary": {"managed": 1, "inSync": 0, "modified": modified,
            "missing": 0, "unmanaged": 0, "ignored": 0, "coveragePercent": 100.0}});
        if let Some(last) = last {
            status["lastScanTime"] = serde_json::json!(last);
        }
        serde_json::from_value(serde_json::json!({
            "apiVersion": "driftmgr.io/v1alpha1", "kind": "DriftScan",
            "metadata": {"name": "web", "namespace": "a", "resourceVersion": rv},
            "spec": {"providerAccountRef": {"name": "p"}, "stateSources": [{"s3": {"bucket": "b", "key": "k"}}]},
            "status": status,
        }))
        .expect("scan")
    }

    #[test]
    fn a_scan_run_becomes_started_completed_and_drift_found() {
        let hub = EventHub::default();
        hub.scan_seen(&scan("Completed", Some("2026-12-01T10:00:00Z"), 0, "1"));
        hub.scan_seen(&scan("Scanning", Some("2026-12-01T10:00:00Z"), 0, "2"));
        hub.scan_seen(&scan("Completed", Some("2026-12-01T10:05:00Z"), 3, "3"));
        hub.scan_seen(&scan("Completed", Some("2026-12-01T10:05:00Z"), 3, "4"));
        let events: Vec<Event> = hub.state.lock().expect("lock").events.iter().cloned().collect();
        let types: Vec<(&str, &str)> =
            events.iter().map(|e| (e.type_, e.resource_version.as_str())).collect();
        assert_eq!(
            types,
            [("ScanStarted", "2"), ("ScanCompleted", "3"), ("DriftFound", "3")],
            "first sight and an unchanged version are no events"
        );
        assert_eq!(events[2].detail["modified"], 3);
        let (_, after) = hub.follow(Some("2"));
        assert_eq!(after.expect("buffered"), events[1..], "resume after a given version");
        assert_eq!(hub.follow(Some("3")).1, Some(Vec::new()), "nothing after the last");
        assert!(hub.follow(Some("1")).1.is_none(), "a version no event carried is expired");
        assert_eq!(hub.follow(None).1, Some(Vec::new()), "no version: live only");
    }

    #[test]
    fn a_cookie_upgrade_must_come_from_the_same_origin() {
        let headers = |pairs: &[(&str, &str)]| {
            let mut map = HeaderMap::new();
            for (k, v) in pairs {
                map.insert(
                    axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                    v.parse().expect("value"),
                );
            }
            map
        };
        assert!(same_origin(&headers(&[("host", "127.0.0.1:8081"), ("origin", "http://127.0.0.1:8081")])));
        assert!(!same_origin(&headers(&[("host", "127.0.0.1:8081"), ("origin", "https://evil.example")])));
        assert!(same_origin(&headers(&[
            ("host", "h"),
            ("origin", "https://evil.example"),
            ("authorization", "Bearer x")
        ])));
        assert!(same_origin(&headers(&[("host", "h")])), "no Origin: not a browser");
    }
}
