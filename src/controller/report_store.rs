//! The complete report of a scan, as gzip JSON in ConfigMaps owned by the scan:
//! split into parts of at most 900 KiB (a ConfigMap holds at most 1 MiB), written
//! before the status points at them, older generations deleted after.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kube::{Api, Resource, ResourceExt};

use super::{Error, FIELD_MANAGER};
use crate::crd::{DriftScan, ReportRef};
use crate::drift::Report;

pub const PART_BYTES: usize = 900 * 1024;
pub const REPORT_KEY: &str = "report.json.gz";
const SCAN_LABEL: &str = "driftmgr.io/scan";
const GENERATION_LABEL: &str = "driftmgr.io/report-generation";

/// Gzip JSON of the report, split into parts (pure).
pub fn encode(report: &Report) -> Result<Vec<Vec<u8>>, Error> {
    let json = serde_json::to_vec(report)?;
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(&json);
    let compressed = encoder.finish().unwrap_or_default();
    Ok(compressed.chunks(PART_BYTES).map(<[u8]>::to_vec).collect())
}

/// Name of part `index` of report `generation` (kept within the 253-character limit).
pub fn part_name(scan: &str, generation: i64, index: usize) -> String {
    let suffix = format!("-report-{generation}-{index}");
    let keep = 253usize.saturating_sub(suffix.len()).min(scan.len());
    format!("{}{suffix}", &scan[..keep])
}

/// Writes the report's parts. Returns the reference for the status; the parts it
/// supersedes stay until the status points at the new ones (`delete_superseded`).
pub async fn store(client: &kube::Client, scan: &DriftScan, report: &Report) -> Result<ReportRef, Error> {
    let namespace = scan.namespace().ok_or(Error::MissingNamespace)?;
    let name = scan.name_any();
    let generation = scan.status.as_ref().and_then(|s| s.report_ref.as_ref()).map_or(0, |r| r.generation) + 1;
    let parts = encode(report)?;
    let owner = scan.controller_owner_ref(&()).ok_or(Error::MissingNamespace)?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let mut names = Vec::with_capacity(parts.len());
    for (index, part) in parts.iter().enumerate() {
        let part_name = part_name(&name, generation, index);
        let config_map = ConfigMap {
            metadata: kube::api::ObjectMeta {
                name: Some(part_name.clone()),
                namespace: Some(namespace.clone()),
                labels: Some(BTreeMap::from([
                    (SCAN_LABEL.to_string(), name.clone()),
                    (GENERATION_LABEL.to_string(), generation.to_string()),
                ])),
                annotations: Some(BTreeMap::from([(
                    "driftmgr.io/part".to_string(),
                    format!("{}/{}", index + 1, parts.len()),
                )])),
                owner_references: Some(vec![owner.clone()]),
                ..Default::default()
            },
            binary_data: Some(BTreeMap::from([(REPORT_KEY.to_string(), ByteString(part.clone()))])),
            ..Default::default()
        };
        let mut value = serde_json::to_value(&config_map)?;
        value["apiVersion"] = "v1".into();
        value["kind"] = "ConfigMap".into();
        api.patch(&part_name, &PatchParams::apply(FIELD_MANAGER).force(), &Patch::Apply(&value)).await?;
        names.push(part_name);
    }
    Ok(ReportRef { config_maps: names, generation })
}

/// Why a stored report could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReportReadError {
    #[error("report part {0} is missing (the report was superseded or deleted)")]
    PartMissing(String),
    #[error("report part {name} holds no {REPORT_KEY}")]
    KeyMissing { name: String },
    #[error("the report does not decode: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

/// Joins a report's parts (pure): the inverse of `encode`.
pub fn decode(parts: &[Vec<u8>]) -> Result<Report, ReportReadError> {
    use std::io::Read;
    let joined = parts.concat();
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&joined[..])
        .read_to_end(&mut json)
        .map_err(|e| ReportReadError::Corrupt(e.to_string()))?;
    serde_json::from_slice(&json).map_err(|e| ReportReadError::Corrupt(e.to_string()))
}

/// Reads the report `reference` names back from its ConfigMaps in `namespace`.
pub async fn load(
    client: &kube::Client,
    namespace: &str,
    reference: &ReportRef,
) -> Result<Report, ReportReadError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let mut parts = Vec::with_capacity(reference.config_maps.len());
    for name in &reference.config_maps {
        let config_map =
            api.get_opt(name).await?.ok_or_else(|| ReportReadError::PartMissing(name.clone()))?;
        let part = config_map
            .binary_data
            .and_then(|mut data| data.remove(REPORT_KEY))
            .ok_or_else(|| ReportReadError::KeyMissing { name: name.clone() })?;
        parts.push(part.0);
    }
    decode(&parts)
}

/// Deletes the report parts of `scan` other than those of `current`: called once the
/// status points at `current`, so a reader never follows the status to a deleted part.
pub async fn delete_superseded(
    client: &kube::Client,
    scan: &DriftScan,
    current: &ReportRef,
) -> Result<(), Error> {
    let namespace = scan.namespace().ok_or(Error::MissingNamespace)?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &namespace);
    let generation = current.generation;
    let selector = format!("{SCAN_LABEL}={}", scan.name_any());
    for old in api.list(&ListParams::default().labels(&selector)).await?.items {
        let is_current = old.labels().get(GENERATION_LABEL) == Some(&generation.to_string());
        let old_name = old.name_any();
        if !is_current {
            match api.delete(&old_name, &DeleteParams::default()).await {
                Ok(_) => {}
                Err(kube::Error::Api(status)) if status.is_not_found() => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names_fit() {
        assert_eq!(part_name("net", 3, 0), "net-report-3-0");
        assert!(part_name(&"x".repeat(300), 12, 4).len() <= 253);
    }

    #[test]
    fn large_reports_split_and_round_trip() {
        let item = crate::crd::DriftItem {
            address: None,
            type_: "aws_instance".into(),
            // Ids that do not compress away, so the output is larger than one part.
            id: String::new(),
            region: None,
            kind: crate::crd::DriftKind::Unmanaged,
            severity: crate::crd::Severity::Medium,
            changes: vec![],
            changes_omitted: None,
        };
        let mut seed: u64 = 42;
        let items = (0..60_000)
            .map(|_| {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                crate::crd::DriftItem {
                    id: format!("i-{seed:016x}{:016x}", seed.rotate_left(17)),
                    ..item.clone()
                }
            })
            .collect();
        let report = Report {
            generated_at: "now".into(),
            provider: "aws".into(),
            regions: vec![],
            sources: vec![],
            summary: Default::default(),
            items,
            failures: vec![],
            unverified: 0,
            expired_ignore_rules: vec![],
            nothing_verified: false,
            discovered: Default::default(),
            resources: Vec::new(),
        };
        let parts = encode(&report).expect("encode");
        assert!(parts.len() > 1, "a large report is split");
        assert!(parts.iter().all(|p| p.len() <= PART_BYTES));
        assert_eq!(decode(&parts).expect("decodes"), report);
        assert!(matches!(decode(&[b"not gzip".to_vec()]), Err(ReportReadError::Corrupt(_))));
    }
}
