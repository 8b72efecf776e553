//! The audit trail in ConfigMaps of one namespace: segments `driftmgr-audit-NNNNNN`
//! (JSON lines) and, for each closed segment, `driftmgr-audit-digest-NNNNNN`. Appends
//! are optimistic (a patch carrying the resourceVersion read), so several API replicas
//! append to one chain safely; a full segment is closed by whichever replica gets
//! there first. Every record is also logged to stdout as a JSON line.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ListParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, ResourceExt};
use ring::signature::Ed25519KeyPair;
use tracing::info;

use super::chain::{Digest, Record, StoredSegment, public_key, seal, segment_text, sign_digest};

const KIND_LABEL: &str = "driftmgr.io/audit";
const RECORDS_KEY: &str = "records.jsonl";
const DIGEST_KEY: &str = "digest.json";
/// The Secret key holding the Ed25519 seed (32 bytes, hex).
pub const SEED_KEY: &str = "ed25519-seed";
const ATTEMPTS: usize = 20;

/// Why the audit trail could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the signing key: {0}")]
    Key(String),
    #[error("the audit trail is busy: {ATTEMPTS} concurrent writes in a row; the record was not written")]
    Contended,
    #[error("{name} is not readable: {reason}")]
    Corrupt { name: String, reason: String },
    #[error(transparent)]
    Kube(#[from] kube::Error),
}

fn segment_name(n: u64) -> String {
    format!("driftmgr-audit-{n:06}")
}

fn digest_name(n: u64) -> String {
    format!("driftmgr-audit-digest-{n:06}")
}

fn number_of(config_map: &ConfigMap) -> Option<u64> {
    config_map.labels().get("driftmgr.io/audit-segment")?.parse().ok()
}

/// The audit trail of one namespace.
pub struct AuditLog {
    api: Api<ConfigMap>,
    key: Arc<Ed25519KeyPair>,
    segment_records: usize,
}

impl AuditLog {
    /// Opens the trail in `namespace`, signing with the seed in Secret `key_secret`.
    pub async fn open(
        client: Client,
        namespace: &str,
        key_secret: &str,
        segment_records: usize,
    ) -> Result<Self, AuditError> {
        // The first replica to start creates the key; the others read it.
        let secret =
            crate::api::secrets::CachedSecret::new(&client, namespace, key_secret, Default::default());
        let seed = secret
            .ensure(SEED_KEY, || hex::encode(crate::api::secrets::random_bytes(32)).into_bytes())
            .await
            .map_err(|e| AuditError::Key(format!("Secret {namespace}/{key_secret}: {e}")))?;
        let seed = hex::decode(String::from_utf8_lossy(&seed).trim())
            .map_err(|_| AuditError::Key(format!("{SEED_KEY} of Secret {key_secret} is not hex")))?;
        let key = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| {
            AuditError::Key(format!("{SEED_KEY} of Secret {key_secret} is not a 32-byte seed"))
        })?;
        Ok(Self {
            api: Api::namespaced(client, namespace),
            key: Arc::new(key),
            segment_records: segment_records.max(1),
        })
    }

    pub fn public_key(&self) -> Vec<u8> {
        public_key(&self.key)
    }

    async fn list(&self, kind: &str) -> Result<BTreeMap<u64, ConfigMap>, AuditError> {
        let items =
            self.api.list(&ListParams::default().labels(&format!("{KIND_LABEL}={kind}"))).await?.items;
        Ok(items.into_iter().filter_map(|c| Some((number_of(&c)?, c))).collect())
    }

    fn config_map(&self, name: String, kind: &str, number: u64, key: &str, text: String) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name),
                labels: Some(BTreeMap::from([
                    (KIND_LABEL.to_string(), kind.to_string()),
                    ("driftmgr.io/audit-segment".to_string(), number.to_string()),
                ])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(key.to_string(), text)])),
            ..Default::default()
        }
    }

    fn records_of(config_map: &ConfigMap) -> Result<Vec<Record>, AuditError> {
        let text = config_map.data.as_ref().and_then(|d| d.get(RECORDS_KEY)).cloned().unwrap_or_default();
        text.lines()
            .map(|l| {
                serde_json::from_str(l)
                    .map_err(|e| AuditError::Corrupt { name: config_map.name_any(), reason: e.to_string() })
            })
            .collect()
    }

    /// Appends `record` (its `seq`, `prev` and `hash` are set here) and returns it sealed.
    pub async fn append(&self, record: Record) -> Result<Record, AuditError> {
        for _ in 0..ATTEMPTS {
            let segments = self.list("segment").await?;
            let Some((&number, last)) = segments.iter().next_back() else {
                let sealed = seal(record.clone(), None);
                let created = self.config_map(
                    segment_name(0),
                    "segment",
                    0,
                    RECORDS_KEY,
                    segment_text(std::slice::from_ref(&sealed)),
                );
                match self.api.create(&PostParams::default(), &created).await {
                    Ok(_) => return Ok(logged(sealed)),
                    Err(kube::Error::Api(s)) if s.is_already_exists() => continue,
                    Err(e) => return Err(e.into()),
                }
            };
            let records = Self::records_of(last)?;
            let previous = records.last();
            let sealed = seal(record.clone(), previous);
            if records.len() < self.segment_records {
                // A merge patch carrying the resourceVersion read: it fails with 409 if
                // another replica appended first (and needs only `patch`).
                let text =
                    format!("{}{}", segment_text(&records), segment_text(std::slice::from_ref(&sealed)));
                let patch = serde_json::json!({
                    "metadata": {"resourceVersion": last.resource_version()},
                    "data": {RECORDS_KEY: text},
                });
                match self.api.patch(&last.name_any(), &PatchParams::default(), &Patch::Merge(&patch)).await {
                    Ok(_) => return Ok(logged(sealed)),
                    Err(kube::Error::Api(s)) if s.is_conflict() => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            // Full: sign its digest (chained to the previous one), then open the next.
            self.close(number, &records).await?;
            let next = self.config_map(
                segment_name(number + 1),
                "segment",
                number + 1,
                RECORDS_KEY,
                segment_text(std::slice::from_ref(&sealed)),
            );
            match self.api.create(&PostParams::default(), &next).await {
                Ok(_) => return Ok(logged(sealed)),
                Err(kube::Error::Api(s)) if s.is_already_exists() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AuditError::Contended)
    }

    async fn close(&self, number: u64, records: &[Record]) -> Result<(), AuditError> {
        let digests = self.list("digest").await?;
        if digests.contains_key(&number) {
            return Ok(());
        }
        let previous = match number.checked_sub(1).and_then(|p| digests.get(&p)) {
            Some(config_map) => Some(Self::digest_of(config_map)?),
            None => None,
        };
        let text = segment_text(records);
        let Some(digest) = sign_digest(&self.key, number, records, &text, previous.as_ref()) else {
            return Ok(());
        };
        let json = serde_json::to_string(&digest).map_err(|e| AuditError::Key(e.to_string()))?;
        let created = self.config_map(digest_name(number), "digest", number, DIGEST_KEY, json);
        match self.api.create(&PostParams::default(), &created).await {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.is_already_exists() => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn digest_of(config_map: &ConfigMap) -> Result<Digest, AuditError> {
        let text = config_map.data.as_ref().and_then(|d| d.get(DIGEST_KEY)).cloned().unwrap_or_default();
        serde_json::from_str(&text)
            .map_err(|e| AuditError::Corrupt { name: config_map.name_any(), reason: e.to_string() })
    }

    /// Every segment as stored, with its digest, for reading and `chain::verify`.
    pub async fn load(&self) -> Result<Vec<StoredSegment>, AuditError> {
        let segments = self.list("segment").await?;
        let digests = self.list("digest").await?;
        let mut out = Vec::with_capacity(segments.len());
        for (number, config_map) in segments {
            let text = config_map.data.as_ref().and_then(|d| d.get(RECORDS_KEY)).cloned().unwrap_or_default();
            let digest = match digests.get(&number) {
                Some(d) => Some(Self::digest_of(d)?),
                None => None,
            };
            out.push(StoredSegment { number, text, digest });
        }
        Ok(out)
    }
}

/// Every record also goes to stdout, as one JSON line in the log.
fn logged(record: Record) -> Record {
    info!(target: "audit", record = %serde_json::to_string(&record).unwrap_or_default(), "audit record");
    record
}
