//! The audit trail's integrity (pure): every record carries the hash of the one
//! before it; every closed segment gets a digest signed with Ed25519 that carries the
//! previous digest's signature (as CloudTrail's digest files do). Editing a record,
//! deleting or truncating a closed segment, or reordering them breaks a link, and
//! `verify` names the first one.

use ring::digest::{SHA256, digest};
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use serde::{Deserialize, Serialize};

/// One audited request. Never holds a credential: actors are user names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub roles: Vec<String>,
    pub action: String,
    pub target: String,
    /// `allowed` or `denied`, with the HTTP status.
    pub result: String,
    pub request_id: String,
    pub source: String,
    /// Hash of the previous record (hex); empty for the first.
    pub prev: String,
    /// SHA-256 (hex) of this record with `hash` empty.
    pub hash: String,
}

fn hex_sha256(bytes: &[u8]) -> String {
    hex::encode(digest(&SHA256, bytes).as_ref())
}

/// The hash a record must carry.
pub fn record_hash(record: &Record) -> String {
    let unsealed = Record { hash: String::new(), ..record.clone() };
    hex_sha256(&serde_json::to_vec(&unsealed).unwrap_or_default())
}

/// Links `record` after `previous` (its sequence number and hash) and seals it.
pub fn seal(mut record: Record, previous: Option<&Record>) -> Record {
    record.seq = previous.map_or(0, |p| p.seq + 1);
    record.prev = previous.map(|p| p.hash.clone()).unwrap_or_default();
    record.hash = record_hash(&record);
    record
}

/// The signed summary of one closed segment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    pub segment: u64,
    pub first_seq: u64,
    pub last_seq: u64,
    pub last_hash: String,
    /// SHA-256 (hex) of the segment's records as stored.
    pub segment_sha256: String,
    /// The previous segment's digest signature (hex); empty for segment 0.
    pub previous_signature: String,
    /// Ed25519 signature (hex) over the fields above.
    pub signature: String,
}

fn signed_bytes(digest: &Digest) -> Vec<u8> {
    serde_json::to_vec(&Digest { signature: String::new(), ..digest.clone() }).unwrap_or_default()
}

/// The records of a segment as stored: one JSON line each.
pub fn segment_text(records: &[Record]) -> String {
    records.iter().filter_map(|r| serde_json::to_string(r).ok()).map(|l| l + "\n").collect()
}

/// Signs the digest of closed segment `segment` (`text` as stored).
pub fn sign_digest(
    key: &Ed25519KeyPair,
    segment: u64,
    records: &[Record],
    text: &str,
    previous: Option<&Digest>,
) -> Option<Digest> {
    let (first, last) = (records.first()?, records.last()?);
    let mut digest = Digest {
        segment,
        first_seq: first.seq,
        last_seq: last.seq,
        last_hash: last.hash.clone(),
        segment_sha256: hex_sha256(text.as_bytes()),
        previous_signature: previous.map(|d| d.signature.clone()).unwrap_or_default(),
        signature: String::new(),
    };
    digest.signature = hex::encode(key.sign(&signed_bytes(&digest)).as_ref());
    Some(digest)
}

/// A stored segment: its number, text, and digest if it was closed.
#[derive(Clone, Debug)]
pub struct StoredSegment {
    pub number: u64,
    pub text: String,
    pub digest: Option<Digest>,
}

/// The outcome of `verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub intact: bool,
    pub records: u64,
    pub segments: u64,
    /// The first broken link, for people.
    pub first_broken_link: Option<String>,
}

/// Walks segments (sorted by number), records and digests; stops at the first broken
/// link. Every segment but the last must be closed with a valid digest.
pub fn verify(segments: &[StoredSegment], public_key: &[u8]) -> Verification {
    let key = UnparsedPublicKey::new(&ED25519, public_key);
    let mut records = 0u64;
    let mut last: Option<Record> = None;
    let mut last_digest: Option<Digest> = None;
    let broken = |records, segments, why: String| Verification {
        intact: false,
        records,
        segments,
        first_broken_link: Some(why),
    };
    for (index, segment) in segments.iter().enumerate() {
        let count = index as u64;
        if segment.number != count {
            return broken(
                records,
                count,
                format!("segment {count} is missing (found segment {} next)", segment.number),
            );
        }
        for (line_no, line) in segment.text.lines().enumerate() {
            let record: Record = match serde_json::from_str(line) {
                Ok(r) => r,
                Err(e) => {
                    return broken(
                        records,
                        count,
                        format!("segment {count}, line {}: not a record: {e}", line_no + 1),
                    );
                }
            };
            let expected_seq = last.as_ref().map_or(0, |l| l.seq + 1);
            if record.seq != expected_seq {
                return broken(
                    records,
                    count,
                    format!(
                        "record {expected_seq} is missing: segment {count} continues at record {}",
                        record.seq
                    ),
                );
            }
            if record.prev != last.as_ref().map(|l| l.hash.clone()).unwrap_or_default() {
                return broken(
                    records,
                    count,
                    format!(
                        "record {} (segment {count}) does not follow record {}",
                        record.seq,
                        expected_seq.saturating_sub(1)
                    ),
                );
            }
            if record_hash(&record) != record.hash {
                return broken(
                    records,
                    count,
                    format!("record {} (segment {count}): its hash does not match its contents", record.seq),
                );
            }
            records += 1;
            last = Some(record);
        }
        let is_last = index + 1 == segments.len();
        match &segment.digest {
            None if !is_last => {
                return broken(records, count, format!("segment {count} is closed but has no digest"));
            }
            None => {}
            Some(digest) => {
                if key
                    .verify(&signed_bytes(digest), &hex::decode(&digest.signature).unwrap_or_default())
                    .is_err()
                {
                    return broken(
                        records,
                        count,
                        format!("digest of segment {count}: the signature is not valid"),
                    );
                }
                let previous = last_digest.as_ref().map(|d| d.signature.clone()).unwrap_or_default();
                if digest.previous_signature != previous || digest.segment != count {
                    return broken(
                        records,
                        count,
                        format!(
                            "digest of segment {count} does not follow the digest of segment {}",
                            count.saturating_sub(1)
                        ),
                    );
                }
                if digest.segment_sha256 != hex_sha256(segment.text.as_bytes())
                    || Some(&digest.last_hash) != last.as_ref().map(|l| &l.hash)
                {
                    return broken(
                        records,
                        count,
                        format!("segment {count} was changed after its digest was signed"),
                    );
                }
                last_digest = Some(digest.clone());
            }
        }
    }
    Verification { intact: true, records, segments: segments.len() as u64, first_broken_link: None }
}

/// The public key (raw 32 bytes) of `key`.
pub fn public_key(key: &Ed25519KeyPair) -> Vec<u8> {
    key.public_key().as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Ed25519KeyPair {
        Ed25519KeyPair::from_seed_unchecked(&[7u8; 32]).expect("key")
    }

    fn record(actor: &str) -> Record {
        Record {
            seq: 0,
            time: "2026-12-01T10:00:00Z".into(),
            actor: actor.into(),
            roles: vec!["operator".into()],
            action: "TriggerScan".into(),
            target: "ns/net".into(),
            result: "allowed 202".into(),
            request_id: "r".into(),
            source: "127.0.0.1".into(),
            prev: String::new(),
            hash: String::new(),
        }
    }

    /// Three segments of two records; the first two closed with digests.
    fn trail() -> Vec<StoredSegment> {
        let key = key();
        let mut previous: Option<Record> = None;
        let mut digest: Option<Digest> = None;
        let mut out = Vec::new();
        for number in 0..3u64 {
            let mut records = Vec::new();
            for i in 0..2 {
                let sealed = seal(record(&format!("user-{number}-{i}")), previous.as_ref());
                previous = Some(sealed.clone());
                records.push(sealed);
            }
            let text = segment_text(&records);
            let closed =
                (number < 2).then(|| sign_digest(&key, number, &records, &text, digest.as_ref())).flatten();
            if closed.is_some() {
                digest = closed.clone();
            }
            out.push(StoredSegment { number, text, digest: closed });
        }
        out
    }

    #[test]
    fn an_untouched_trail_verifies() {
        let verified = verify(&trail(), &public_key(&key()));
        assert_eq!(verified, Verification { intact: true, records: 6, segments: 3, first_broken_link: None });
    }

    #[test]
    fn every_kind_of_tampering_names_the_first_broken_link() {
        let public = public_key(&key());
        let first_broken =
            |segments: &[StoredSegment]| verify(segments, &public).first_broken_link.unwrap_or_default();

        let mut edited = trail();
        edited[1].text = edited[1].text.replacen("user-1-0", "mallory", 1);
        assert_eq!(first_broken(&edited), "record 2 (segment 1): its hash does not match its contents");

        let mut deleted = trail();
        deleted.remove(1);
        assert_eq!(first_broken(&deleted), "segment 1 is missing (found segment 2 next)");

        let mut truncated = trail();
        let lines: Vec<&str> = truncated[0].text.lines().collect();
        truncated[0].text = format!("{}\n", lines[0]);
        assert_eq!(first_broken(&truncated), "segment 0 was changed after its digest was signed");

        let mut resealed = trail();
        let mut record: Record =
            serde_json::from_str(resealed[0].text.lines().next().expect("line")).expect("record");
        record.actor = "mallory".into();
        record.hash = record_hash(&record);
        resealed[0].text = resealed[0].text.replacen(
            resealed[0].text.lines().next().expect("line"),
            &serde_json::to_string(&record).expect("json"),
            1,
        );
        assert_eq!(
            first_broken(&resealed),
            "record 1 (segment 0) does not follow record 0",
            "a re-hashed record breaks the next link"
        );

        let mut unsigned = trail();
        unsigned[0].digest.as_mut().expect("digest").last_seq = 99;
        assert_eq!(first_broken(&unsigned), "digest of segment 0: the signature is not valid");

        let mut forged = trail();
        let other = Ed25519KeyPair::from_seed_unchecked(&[9u8; 32]).expect("key");
        let records: Vec<Record> =
            forged[1].text.lines().map(|l| serde_json::from_str(l).expect("record")).collect();
        forged[1].digest = sign_digest(&other, 1, &records, &forged[1].text, forged[0].digest.as_ref());
        assert_eq!(first_broken(&forged), "digest of segment 1: the signature is not valid");

        let mut missing_digest = trail();
        missing_digest[0].digest = None;
        assert_eq!(first_broken(&missing_digest), "segment 0 is closed but has no digest");
    }
}
