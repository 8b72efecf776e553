//! IAM policy documents compared by meaning, as IAM evaluates them, never as text:
//! the document IAM returns is URL-encoded and keeps the author's layout, while
//! Terraform records the JSON it sent. Both go to one canonical form: keys sorted;
//! `Statement`, `Action`, `Resource`, principals and condition values as sorted lists
//! (a single string and a one-element list are the same); `Principal: "*"` as `{"AWS": ["*"]}`; an account
//! id principal as its root ARN; an empty `Sid` as none; a missing `Version` as IAM's
//! default, `2008-10-17`.

use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// IAM's version for a document that names none.
const DEFAULT_VERSION: &str = "2008-10-17";

/// Documents remembered per thread: trust and bucket policies repeat across an estate,
/// and canonicalising one costs a parse and a serialisation. Bounded in count and
/// size; cleared when full.
const MEMO_ENTRIES: usize = 256;
const MEMO_MAX_TEXT: usize = 8 * 1024;

thread_local! {
    static MEMO: std::cell::RefCell<std::collections::HashMap<String, Option<String>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

/// The canonical text of a policy document; `None` when `text` is not a JSON object
/// (also after URL-decoding).
pub fn canonical(text: &str) -> Option<String> {
    if text.len() > MEMO_MAX_TEXT {
        return canonical_uncached(text);
    }
    MEMO.with(|memo| {
        if let Some(known) = memo.borrow().get(text) {
            return known.clone();
        }
        let made = canonical_uncached(text);
        let mut memo = memo.borrow_mut();
        if memo.len() >= MEMO_ENTRIES {
            memo.clear();
        }
        memo.insert(text.to_string(), made.clone());
        made
    })
}

fn canonical_uncached(text: &str) -> Option<String> {
    let text = text.trim();
    let decoded;
    let json = if text.starts_with('%') {
        decoded = percent_decode_str(text).decode_utf8().ok()?;
        decoded.as_ref()
    } else {
        text
    };
    let Value::Object(document) = serde_json::from_str::<Value>(json).ok()? else {
        return None;
    };
    Some(sort_keys(Value::Object(policy(document))).to_string())
}

fn policy(mut document: Map<String, Value>) -> Map<String, Value> {
    document.entry("Version").or_insert_with(|| Value::String(DEFAULT_VERSION.into()));
    if let Some(statements) = document.remove("Statement") {
        let mut statements: Vec<Value> = as_list(statements)
            .into_iter()
            .map(|s| match s {
                Value::Object(s) => Value::Object(statement(s)),
                other => other,
            })
            .collect();
        sort_unique(&mut statements);
        document.insert("Statement".into(), Value::Array(statements));
    }
    document
}

fn statement(mut statement: Map<String, Value>) -> Map<String, Value> {
    if statement.get("Sid").is_some_and(|sid| sid.as_str().is_some_and(str::is_empty)) {
        statement.remove("Sid");
    }
    for key in ["Action", "NotAction", "Resource", "NotResource"] {
        if let Some(resources) = statement.remove(key) {
            statement.insert(key.into(), sorted(as_list(resources)));
        }
    }
    for key in ["Principal", "NotPrincipal"] {
        if let Some(principal) = statement.remove(key) {
            statement.insert(key.into(), principals(principal));
        }
    }
    if let Some(Value::Object(conditions)) = statement.remove("Condition") {
        let conditions = conditions
            .into_iter()
            .map(|(operator, keys)| {
                let keys = match keys {
                    Value::Object(keys) => {
                        Value::Object(keys.into_iter().map(|(k, v)| (k, sorted(as_list(v)))).collect())
                    }
                    other => other,
                };
                (operator, keys)
            })
            .collect();
        statement.insert("Condition".into(), Value::Object(conditions));
    }
    statement
}

/// `"*"` is everyone (`{"AWS": ["*"]}`); each kind's value a sorted list; an account id
/// as the account's root ARN.
fn principals(principal: Value) -> Value {
    let map = match principal {
        Value::String(s) if s == "*" => {
            let mut map = Map::new();
            map.insert("AWS".into(), Value::String(s));
            map
        }
        Value::Object(map) => map,
        other => return other,
    };
    let map = map
        .into_iter()
        .map(|(kind, ids)| {
            let ids = as_list(ids)
                .into_iter()
                .map(|id| match id.as_str() {
                    Some(account) if kind == "AWS" && is_account_id(account) => {
                        Value::String(format!("arn:aws:iam::{account}:root"))
                    }
                    _ => id,
                })
                .collect();
            (kind, sorted(ids))
        })
        .collect();
    Value::Object(map)
}

/// Objects rebuilt with their keys in order, whichever map serde_json was built with.
fn sort_keys(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sort_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn as_list(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => vec![other],
    }
}

fn sorted(mut items: Vec<Value>) -> Value {
    sort_unique(&mut items);
    Value::Array(items)
}

/// Sorts by canonical text and drops repeats: order and duplicates mean nothing in a
/// policy.
fn sort_unique(items: &mut Vec<Value>) {
    items.sort_by_cached_key(Value::to_string);
    items.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_policy_in_every_form_iam_and_terraform_write_is_one_document() {
        let terraform = r#"{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let iam = "%7B%22Statement%22%3A%7B%22Action%22%3A%5B%22sts%3AAssumeRole%22%5D%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22ec2.amazonaws.com%22%5D%7D%2C%22Effect%22%3A%22Allow%22%7D%2C%22Version%22%3A%222012-10-17%22%7D";
        assert_eq!(canonical(terraform), canonical(iam));
        let reordered = r#"{"Statement":[{"Action":["s3:GetObject","s3:ListBucket"],"Resource":"*","Effect":"Allow"},{"Effect":"Deny","Action":"iam:*","Resource":["*"]}],"Version":"2012-10-17"}"#;
        let original = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["iam:*"],"Resource":"*"},{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],"Resource":["*"]}]}"#;
        assert_eq!(canonical(reordered), canonical(original));
        let account = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}}"#;
        let root = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::123456789012:root"]},"Action":"sts:AssumeRole"}}"#;
        assert_eq!(canonical(account), canonical(root));
        let star =
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}}"#;
        let aws_star = r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}}"#;
        assert_eq!(canonical(star), canonical(aws_star));
    }

    #[test]
    fn a_widened_policy_is_a_different_document() {
        let narrow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        let wide = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/*"}]}"#;
        let conditioned = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;
        assert_ne!(canonical(narrow), canonical(wide));
        assert_ne!(canonical(narrow), canonical(conditioned));
        let version = narrow.replace("2012-10-17", "2008-10-17");
        assert_ne!(canonical(narrow), canonical(&version), "the version changes what variables mean");
        assert_eq!(
            canonical(narrow).as_deref(),
            Some(
                r#"{"Statement":[{"Action":["s3:GetObject"],"Effect":"Allow","Resource":["arn:aws:s3:::b/*"]}],"Version":"2012-10-17"}"#
            ),
            "keys in order, lists everywhere a list is allowed"
        );
        assert_eq!(canonical("not json"), None);
        assert_eq!(canonical("not json"), None, "remembered as no document");
        assert_eq!(canonical(narrow), canonical_uncached(narrow), "the memo gives what it was given");
        assert_eq!(canonical("[1]"), None);
    }
}
