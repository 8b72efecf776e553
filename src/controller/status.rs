//! Writing status, publishing Events, and handling objects that do not parse.

use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::api::{Patch, PatchParams};
use kube::core::error_boundary::InvalidObject;
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::warn;

use super::{Context, Error, FIELD_MANAGER};
use crate::crd::find_condition;

/// Writes `status` with server-side apply. The operator owns the whole status, so
/// fields it leaves out are removed.
///
/// The write is fenced on the resourceVersion the reconcile read: the watch cache
/// can lag behind the operator's own last write, and a status (or an Event) built
/// from a stale read must not land. A stale read gets a 409 and is retried shortly.
pub async fn apply_status<K>(object: &K, status: &impl Serialize, client: &kube::Client) -> Result<K, Error>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let meta = object.meta();
    let (Some(namespace), Some(name)) = (meta.namespace.as_deref(), meta.name.as_deref()) else {
        return Err(Error::MissingNamespace);
    };
    let api: Api<K> = Api::namespaced(client.clone(), namespace);
    let patch = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "metadata": { "resourceVersion": meta.resource_version },
        "status": status,
    });
    Ok(api.patch_status(name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&patch)).await?)
}

/// Publishes one Event about `reference` (Normal or Warning), logging a failure to publish it.
pub async fn publish_event(
    ctx: &Context,
    reference: &ObjectReference,
    action: &str,
    normal: bool,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_: if normal { EventType::Normal } else { EventType::Warning },
        reason: reason.into(),
        note: Some(truncate(note, 1024)),
        action: truncate(action, 128),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, reference).await {
        warn!(%error, "could not publish event");
    }
}

/// The reference Events are published against. Without the resourceVersion, so
/// repeated identical events of one object aggregate into one series.
pub fn event_reference<K: Resource<DynamicType = ()>>(object: &K) -> ObjectReference {
    ObjectReference { resource_version: None, ..object.object_ref(&()) }
}

/// Publishes an Event when the `Ready` condition changed status or reason: Normal
/// when it became True, Warning otherwise. Unchanged conditions publish nothing, so
/// periodic resyncs do not flood the namespace.
pub async fn publish_ready_transition(
    ctx: &Context,
    reference: &ObjectReference,
    before: &[Condition],
    after: &[Condition],
) {
    publish_transition(ctx, reference, before, after, "Ready", true).await;
}

/// Publishes an Event when condition `type_` changed status or reason. The event is
/// Normal when the condition's status equals `good_when_true`, Warning otherwise.
pub async fn publish_transition(
    ctx: &Context,
    reference: &ObjectReference,
    before: &[Condition],
    after: &[Condition],
    type_: &str,
    good_when_true: bool,
) {
    let Some(now) = find_condition(after, type_) else { return };
    let changed = match find_condition(before, type_) {
        Some(prev) => prev.status != now.status || prev.reason != now.reason,
        None => true,
    };
    if !changed {
        return;
    }
    let good = (now.status == "True") == good_when_true;
    let event = Event {
        type_: if good { EventType::Normal } else { EventType::Warning },
        reason: now.reason.clone(),
        note: Some(truncate(&now.message, 1024)),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, reference).await {
        warn!(%error, "could not publish event");
    }
}

/// Logs, counts and reports (as a Warning Event) an object that does not match the
/// Rust types, then waits for the object to change: one malformed object must not
/// stall the controller or be retried in a hot loop.
pub async fn report_invalid<K>(
    ctx: &Arc<Context>,
    controller: &'static str,
    invalid: &InvalidObject,
) -> Action
where
    K: Resource<DynamicType = ()>,
{
    let meta = &invalid.metadata;
    warn!(
        controller,
        namespace = meta.namespace.as_deref().unwrap_or_default(),
        name = meta.name.as_deref().unwrap_or_default(),
        error = %invalid.error,
        "object does not parse; waiting for it to be fixed"
    );
    ctx.metrics.reconciliations.with_label_values(&[controller, "invalid"]).inc();
    let reference = ObjectReference {
        api_version: Some(K::api_version(&()).into_owned()),
        kind: Some(K::kind(&()).into_owned()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "InvalidSpec".into(),
        note: Some(truncate(&format!("object does not parse: {}", invalid.error), 1024)),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(error) = ctx.recorder.publish(&event, &reference).await {
        warn!(%error, "could not publish event");
    }
    Action::await_change()
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("hello", 10), "hello");
    }
}
