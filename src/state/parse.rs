//! Parsing of state format v4 (Terraform 0.12 through 1.x, and OpenTofu).

use serde::Deserialize;
use serde_json::{Map, Value};

use super::address::{IndexKey, ProviderAddress, instance_address};
use super::{StateFile, StateResource};
use std::borrow::Cow;

use crate::attributes::{Attributes, Name};

/// Why a state file cannot be used. Every variant names the file.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    #[error("{origin}: the file is empty")]
    Empty { origin: String },
    #[error("{origin}: not valid JSON at line {line}, column {column}: {message}")]
    Json { origin: String, line: usize, column: usize, message: String },
    #[error(
        "{origin}: state format version {version} is not supported (only version 4, written by Terraform 0.12 and later or OpenTofu)"
    )]
    UnsupportedFormat { origin: String, version: u64 },
    #[error(
        "{origin}: terraform_version {version:?} is not a version that writes state format 4 (0.12 or later)"
    )]
    UnsupportedTerraformVersion { origin: String, version: String },
    #[error("{origin}: {path}: {message}")]
    Malformed { origin: String, path: String, message: String },
    #[error("{origin}: this is {what}, not a readable state; {hint}")]
    Encrypted { origin: String, what: &'static str, hint: &'static str },
    #[error("{origin}: not a Terraform state: {message}")]
    NotAState { origin: String, message: &'static str },
}

/// Encrypted files a git filter or a tool leaves under a state file's name,
/// recognised by their first bytes.
fn sniff_encrypted(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    let head = &bytes[start..];
    let decrypt = "decrypt it first and give driftmgr the plain state";
    if head.starts_with(b"age-encryption.org/v1") || head.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----") {
        return Some(("an age-encrypted file", decrypt));
    }
    if head.starts_with(b"-----BEGIN PGP MESSAGE-----") {
        return Some(("a gpg (OpenPGP) armoured message", decrypt));
    }
    if head.starts_with(b"\0GITCRYPT\0") {
        return Some(("a git-crypt encrypted file", "run `git-crypt unlock` in its repository first"));
    }
    // Binary OpenPGP: a public-key or symmetric session-key packet comes first.
    if matches!(bytes.first(), Some(0x84 | 0x85 | 0x8c | 0xc1 | 0xc3)) {
        return Some(("a gpg (OpenPGP) binary message", decrypt));
    }
    None
}

#[derive(Deserialize)]
struct RawHeader {
    version: Option<u64>,
    /// OpenTofu client-side encryption wraps the state in these.
    #[serde(default)]
    encrypted_data: Option<serde::de::IgnoredAny>,
    /// `.terraform/terraform.tfstate`, the backend settings cache, has this.
    #[serde(default)]
    backend: Option<serde::de::IgnoredAny>,
}

#[derive(Deserialize)]
struct RawState {
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    backend: Option<serde::de::IgnoredAny>,
    terraform_version: String,
    #[serde(default)]
    serial: u64,
    #[serde(default)]
    lineage: String,
    #[serde(default)]
    resources: Vec<RawResource>,
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    module: Option<String>,
    mode: String,
    #[serde(rename = "type")]
    type_: String,
    name: String,
    provider: String,
    #[serde(default)]
    instances: Vec<RawInstance>,
}

/// Which attributes of a state resource to keep. The AWS provider records dozens per
/// resource (an instance has about 50, most of them nested blocks); the engine reads
/// a few, and keeping only those is what lets 100k resources fit in memory.
#[derive(Clone, Copy)]
pub struct AttributeFilter {
    /// Whether an attribute is read at all, and under which name.
    pub keep: fn(&str) -> Keep,
    /// Pairs (`present`, `redundant`): when `present` was recorded, `redundant` is
    /// dropped too (AWS's `tags_all` holds `tags` and the provider's default tags).
    pub supersedes: &'static [(&'static str, &'static str)],
}

/// What a filter does with one attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Skipped while reading, never built.
    Drop,
    /// Kept under the filter's own copy of the name (no allocation per resource).
    Known(&'static str),
    /// Kept under a copy of the name read.
    Owned,
}

/// Keeps every attribute.
pub const KEEP_ALL: AttributeFilter = AttributeFilter { keep: |_| Keep::Owned, supersedes: &[] };

thread_local! {
    /// The filter of the parse running on this thread. serde gives a derived
    /// `Deserialize` no context, so the filter travels here; `parse_state_keeping`
    /// sets it and puts the previous one back.
    static KEEP: std::cell::Cell<AttributeFilter> = const { std::cell::Cell::new(KEEP_ALL) };
}

thread_local! {
    /// The attribute buffer `FilteredAttributes` reuses.
    static SCRATCH: std::cell::RefCell<Vec<(Name, Value)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// An attribute map that drops, while it is read, what the filter does not keep: the
/// dropped values are skipped in the input, never built.
struct FilteredAttributes(Attributes);

impl<'de> Deserialize<'de> for FilteredAttributes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor(AttributeFilter);
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = FilteredAttributes;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                // Gathered in a buffer reused across resources, so each resource's
                // attributes take one exactly-sized allocation and no growth leftovers.
                let mut kept = SCRATCH.with(|s| std::mem::take(&mut *s.borrow_mut()));
                kept.clear();
                // Keys are borrowed from the input where they can be: only kept ones
                // are copied (an instance has ~50 attributes and a dozen are kept).
                while let Some(Key(key)) = access.next_key::<Key<'de>>()? {
                    let name: Name = match (self.0.keep)(&key) {
                        Keep::Drop => {
                            access.next_value::<serde::de::IgnoredAny>()?;
                            continue;
                        }
                        Keep::Known(name) => Cow::Borrowed(name),
                        Keep::Owned => Cow::Owned(key.into_owned()),
                    };
                    kept.push((name, access.next_value()?));
                }
                let recorded = |name: &str| kept.iter().any(|(n, v)| n.as_ref() == name && !v.is_null());
                let redundant: Vec<&str> = self
                    .0
                    .supersedes
                    .iter()
                    .filter(|(present, _)| recorded(present))
                    .map(|(_, redundant)| *redundant)
                    .collect();
                let attributes = Attributes::from_pairs(
                    kept.drain(..).filter(|(n, _)| !redundant.contains(&n.as_ref())).collect(),
                );
                SCRATCH.with(|s| *s.borrow_mut() = kept);
                Ok(FilteredAttributes(attributes))
            }
        }
        deserializer.deserialize_map(Visitor(KEEP.with(std::cell::Cell::get)))
    }
}

/// A map key borrowed from the input when it has no escapes (serde's own `Cow<str>`
/// always copies).
struct Key<'de>(std::borrow::Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an attribute name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[derive(Deserialize)]
struct RawInstance {
    #[serde(default)]
    index_key: Option<Value>,
    /// Set on objects `create_before_destroy` left behind: still real resources.
    #[serde(default)]
    deposed: Option<String>,
    #[serde(default)]
    attributes: Option<FilteredAttributes>,
    /// Legacy flatmap form; Terraform upgrades it on next write, but old files have it.
    #[serde(default)]
    attributes_flat: Option<Map<String, Value>>,
}

/// Parses one state file, keeping every attribute. `origin` names it in every error.
pub fn parse_state(bytes: &[u8], origin: &str) -> Result<StateFile, StateError> {
    parse_state_keeping(bytes, origin, KEEP_ALL)
}

/// Parses one state file, keeping only the attributes `keep` accepts.
pub fn parse_state_keeping(
    bytes: &[u8],
    origin: &str,
    keep: AttributeFilter,
) -> Result<StateFile, StateError> {
    struct Restore(AttributeFilter);
    impl Drop for Restore {
        fn drop(&mut self) {
            KEEP.with(|k| k.set(self.0));
        }
    }
    let _restore = Restore(KEEP.with(|k| k.replace(keep)));
    parse_filtered(bytes, origin)
}

fn parse_filtered(bytes: &[u8], origin: &str) -> Result<StateFile, StateError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(StateError::Empty { origin: origin.into() });
    }
    if let Some((what, hint)) = sniff_encrypted(bytes) {
        return Err(StateError::Encrypted { origin: origin.into(), what, hint });
    }
    // One pass in the common case: a v4 state reads straight into its shape. Only when
    // that fails is the header read again, to say precisely what the file is (a v3
    // file is refused as such rather than as a shape error somewhere inside it).
    let raw = match serde_json::from_slice::<RawState>(bytes) {
        Ok(raw) if raw.version == Some(4) && raw.backend.is_none() => raw,
        Ok(_) => return Err(classify(bytes, origin, None)),
        Err(error) => return Err(classify(bytes, origin, Some(error))),
    };
    if !writes_format_4(&raw.terraform_version) {
        return Err(StateError::UnsupportedTerraformVersion {
            origin: origin.into(),
            version: raw.terraform_version,
        });
    }
    let mut resources = Vec::new();
    let mut skipped_data_sources = 0;
    for (r_index, resource) in raw.resources.into_iter().enumerate() {
        let malformed = |message: String| StateError::Malformed {
            origin: origin.into(),
            path: format!("resources[{r_index}] ({}.{})", resource.type_, resource.name),
            message,
        };
        let data = match resource.mode.as_str() {
            "managed" => false,
            "data" => true,
            other => return Err(malformed(format!("unknown mode {other:?}"))),
        };
        if data {
            skipped_data_sources += resource.instances.len();
            continue;
        }
        let provider = ProviderAddress::parse(&resource.provider)
            .ok_or_else(|| malformed(format!("unrecognised provider address {:?}", resource.provider)))?;
        for (i_index, instance) in resource.instances.into_iter().enumerate() {
            let key = match instance.index_key {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => Some(IndexKey::Int(n.as_i64().ok_or_else(|| {
                    malformed(format!("instances[{i_index}].index_key {n} is not an integer"))
                })?)),
                Some(Value::String(s)) => Some(IndexKey::String(s)),
                Some(other) => {
                    return Err(malformed(format!(
                        "instances[{i_index}].index_key {other} is neither a number nor a string"
                    )));
                }
            };
            let attributes = instance
                .attributes
                .map(|a| a.0)
                .or(instance.attributes_flat.map(Attributes::from))
                .unwrap_or_default();
            let id = attributes.get("id").and_then(Value::as_str).map(str::to_string);
            let mut address = instance_address(
                resource.module.as_deref(),
                false,
                &resource.type_,
                &resource.name,
                key.as_ref(),
            );
            if let Some(deposed) = &instance.deposed {
                address.push_str(&format!(" (deposed object {deposed})"));
            }
            resources.push(StateResource {
                address,
                type_: resource.type_.clone(),
                provider: provider.clone(),
                id,
                attributes,
            });
        }
    }
    Ok(StateFile {
        origin: origin.into(),
        terraform_version: raw.terraform_version,
        serial: raw.serial,
        lineage: raw.lineage,
        resources,
        skipped_data_sources,
    })
}

/// Why a file that did not read as a v4 state is not one: its header says what it is;
/// a v4 header with a body of the wrong shape is malformed where `body_error` says.
fn classify(bytes: &[u8], origin: &str, body_error: Option<serde_json::Error>) -> StateError {
    let json_error = |e: serde_json::Error| StateError::Json {
        origin: origin.into(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line ").next().unwrap_or_default().to_string(),
    };
    let header: RawHeader = match serde_json::from_slice(bytes) {
        Ok(header) => header,
        Err(e) if e.to_string().starts_with("trailing characters") && second_document(bytes) => {
            return StateError::NotAState {
                origin: origin.into(),
                message: "the file holds more than one JSON document (two states concatenated, as a bad merge leaves them); keep one",
            };
        }
        Err(e) => return json_error(e),
    };
    if header.version.is_none() && header.encrypted_data.is_some() {
        return StateError::Encrypted {
            origin: origin.into(),
            what: "an OpenTofu client-side encrypted state",
            hint: "run `tofu state pull` with the encryption key configured and give driftmgr its output",
        };
    }
    if header.backend.is_some() && header.version != Some(4) {
        return StateError::NotAState {
            origin: origin.into(),
            message: "this is Terraform's backend settings cache (.terraform/terraform.tfstate); point driftmgr at the state the backend stores",
        };
    }
    match (header.version, body_error) {
        (Some(4), Some(e)) => match json_error(e) {
            StateError::Json { line, column, message, .. } => StateError::Malformed {
                origin: origin.into(),
                path: format!("line {line}, column {column}"),
                message,
            },
            other => other,
        },
        (Some(4), None) => StateError::Malformed {
            origin: origin.into(),
            path: "backend".into(),
            message: "a state file has no backend block".into(),
        },
        (Some(version), _) => StateError::UnsupportedFormat { origin: origin.into(), version },
        (None, _) => StateError::Malformed {
            origin: origin.into(),
            path: "version".into(),
            message: "missing; this does not look like a Terraform state file".into(),
        },
    }
}

/// Whether another JSON document follows the first one.
fn second_document(bytes: &[u8]) -> bool {
    let mut documents = serde_json::Deserializer::from_slice(bytes).into_iter::<serde::de::IgnoredAny>();
    documents.next().is_some_and(|first| first.is_ok())
        && documents.next().is_some_and(|second| second.is_ok())
}

/// Whether a Terraform/OpenTofu version writes state format 4: 0.12 and later.
fn writes_format_4(version: &str) -> bool {
    let core = version.split(['-', '+']).next().unwrap_or_default();
    let mut parts = core.split('.').map(str::parse::<u64>);
    match (parts.next(), parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor)), Some(Ok(_))) => major >= 1 || minor >= 12,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_drops_attributes_while_reading() {
        let state = br#"{"version":4,"terraform_version":"1.5.0","resources":[{"mode":"managed","type":"aws_instance","name":"a","provider":"provider.aws","instances":[{"attributes":{"id":"i-1","instance_type":"t3.micro","root_block_device":[{"iops":100}],"user_data":"secret"}}]}]}"#;
        let keep = AttributeFilter {
            keep: |name| match name {
                "id" => Keep::Known("id"),
                "instance_type" => Keep::Owned,
                _ => Keep::Drop,
            },
            supersedes: &[],
        };
        let kept = parse_state_keeping(state, "f.tfstate", keep).expect("parses");
        let names: Vec<&str> = kept.resources[0].attributes.keys().collect();
        assert_eq!(names, ["id", "instance_type"]);
        let all = parse_state(state, "f.tfstate").expect("parses");
        assert_eq!(all.resources[0].attributes.len(), 4, "the filter is put back after a parse");
    }

    #[test]
    fn version_gate() {
        for ok in ["0.12.0", "0.15.5", "1.0.0", "1.15.0", "1.9.0-beta1", "1.8.0+tofu"] {
            assert!(writes_format_4(ok), "{ok}");
        }
        for bad in ["0.11.14", "0.10.26", "invalid", "1.0", ""] {
            assert!(!writes_format_4(bad), "{bad}");
        }
    }

    #[test]
    fn refuses_version_3() {
        let err =
            parse_state(br#"{"version": 3, "terraform_version": "0.11.14", "modules": []}"#, "old.tfstate")
                .expect_err("v3 refused");
        assert_eq!(err, StateError::UnsupportedFormat { origin: "old.tfstate".into(), version: 3 });
        assert!(err.to_string().starts_with("old.tfstate: state format version 3 is not supported"));
    }

    #[test]
    fn names_the_position_of_a_json_error() {
        let err = parse_state(b"{\n  \"version\": 4,\n  oops\n}", "broken.tfstate").expect_err("bad JSON");
        let StateError::Json { line, column, .. } = &err else { panic!("{err}") };
        assert_eq!((*line, *column), (3, 3));
        assert!(err.to_string().starts_with("broken.tfstate: not valid JSON at line 3, column 3"), "{err}");
    }

    #[test]
    fn wrong_shape_names_the_file_and_position() {
        let err = parse_state(
            br#"{"version": 4, "terraform_version": "1.5.0", "resources": {"a": 1}}"#,
            "s.tfstate",
        )
        .expect_err("resources must be a list");
        assert!(matches!(err, StateError::Malformed { .. }), "{err}");
        assert!(err.to_string().starts_with("s.tfstate: line 1, column"), "{err}");
    }

    #[test]
    fn bad_index_key_is_named() {
        let state = br#"{"version":4,"terraform_version":"1.5.0","resources":[{"mode":"managed","type":"aws_vpc","name":"v","provider":"provider.aws","instances":[{"index_key":[1],"attributes":{"id":"vpc-1"}}]}]}"#;
        let err = parse_state(state, "k.tfstate").expect_err("array key refused");
        assert_eq!(
            err.to_string(),
            "k.tfstate: resources[0] (aws_vpc.v): instances[0].index_key [1] is neither a number nor a string"
        );
    }
}
