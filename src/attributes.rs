//! The attributes of one resource, state or live, under their Terraform names.
//!
//! A scan holds every managed and every live resource at once, so their attribute
//! maps are most of its memory. `serde_json::Map` is a B-tree whose nodes are sized
//! for eleven entries whatever the count, and its keys are `String`s; here the
//! entries are one exactly-sized sorted slice with boxed names, which roughly halves
//! the size of a resource and keeps lookups a binary search.
//!
//! Names are ordered by length first: the length sits in the slice itself, so most
//! steps of a lookup decide without reading the name's bytes (a cache miss each).

use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// Attributes ordered by `name_order`, each name once.
#[derive(Clone, Default, PartialEq)]
pub struct Attributes(Box<[(Box<str>, Value)]>);

/// Shorter names first, then bytewise.
fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds from pairs in any order; a later pair wins over an earlier one of the
    /// same name, as with a map insert.
    pub fn from_pairs(mut pairs: Vec<(Box<str>, Value)>) -> Self {
        // A stable sort keeps equal names in input order; of each run the last is kept.
        pairs.sort_by(|a, b| name_order(&a.0, &b.0));
        pairs.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        Self(pairs.into_boxed_slice())
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(n, _)| name_order(n, name))
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.position(name).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name`, replacing a previous value. Resources are built once and then
    /// read, so an insert rebuilds the slice rather than keeping spare capacity.
    pub fn insert(&mut self, name: &str, value: Value) -> Option<Value> {
        match self.position(name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                let mut entries = std::mem::take(&mut self.0).into_vec();
                entries.insert(i, (name.into(), value));
                self.0 = entries.into_boxed_slice();
                None
            }
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.position(name).ok()?;
        let mut entries = std::mem::take(&mut self.0).into_vec();
        let (_, value) = entries.remove(i);
        self.0 = entries.into_boxed_slice();
        Some(value)
    }

    /// Entries, shorter names first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_ref(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(n, _)| n.as_ref())
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The attributes as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Self::from_pairs(map.into_iter().map(|(n, v)| (n.into_boxed_str(), v)).collect())
    }
}

impl FromIterator<(String, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self::from_pairs(iter.into_iter().map(|(n, v)| (n.into_boxed_str(), v)).collect())
    }
}

impl<'a> FromIterator<(&'a str, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value)>>(iter: I) -> Self {
        Self::from_pairs(iter.into_iter().map(|(n, v)| (n.into(), v)).collect())
    }
}

impl std::ops::Index<&str> for Attributes {
    type Output = Value;

    /// `Value::Null` for an absent name, as `serde_json::Map` indexing gives.
    fn index(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(name).unwrap_or(&NULL)
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (name, value) in self.iter() {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AttributesVisitor;
        impl<'de> Visitor<'de> for AttributesVisitor {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Attributes, A::Error> {
                let mut pairs = Vec::with_capacity(access.size_hint().unwrap_or(0));
                while let Some((name, value)) = access.next_entry::<String, Value>()? {
                    pairs.push((name.into_boxed_str(), value));
                }
                Ok(Attributes::from_pairs(pairs))
            }
        }
        deserializer.deserialize_map(AttributesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn attrs(v: Value) -> Attributes {
        v.as_object().cloned().map(Attributes::from).expect("object")
    }

    #[test]
    fn lookups_inserts_and_removals_keep_names_sorted_and_unique() {
        let mut a = attrs(json!({"b": 2, "a": 1}));
        assert_eq!(a.get("a"), Some(&json!(1)));
        assert_eq!(a.insert("c", json!(3)), None);
        assert_eq!(a.insert("0", json!(0)), None);
        assert_eq!(a.insert("b", json!(20)), Some(json!(2)));
        assert_eq!(a.keys().collect::<Vec<_>>(), ["0", "a", "b", "c"]);
        a.insert("aa", json!(4));
        assert_eq!(a.keys().collect::<Vec<_>>(), ["0", "a", "b", "c", "aa"], "shorter names first");
        assert_eq!(a.get("aa"), Some(&json!(4)));
        assert_eq!(a.remove("aa"), Some(json!(4)));
        assert_eq!(a.remove("a"), Some(json!(1)));
        assert_eq!(a.remove("a"), None);
        assert_eq!(a["b"], json!(20));
        assert_eq!(a["missing"], Value::Null);
        assert!(!a.contains_key("a") && a.contains_key("c"));
    }

    #[test]
    fn the_last_of_repeated_names_wins_as_in_a_map() {
        let a: Attributes = [("x", json!(1)), ("y", json!(2)), ("x", json!(3))].into_iter().collect();
        assert_eq!(a.len(), 2);
        assert_eq!(a["x"], json!(3));
        let parsed: Attributes = serde_json::from_str(r#"{"x": 1, "x": 2}"#).expect("parses");
        assert_eq!(parsed["x"], json!(2));
    }

    #[test]
    fn serializes_as_the_json_object_it_was_read_from() {
        let text = r#"{"ami":"ami-1","tags":{"Env":"prod"},"vpc_security_group_ids":["sg-1"]}"#;
        // (Already in the attributes' own order: by length, then bytewise.)
        let a: Attributes = serde_json::from_str(text).expect("parses");
        assert_eq!(serde_json::to_string(&a).expect("serializes"), text);
        assert_eq!(Value::Object(a.to_map()), serde_json::from_str::<Value>(text).expect("json"));
    }
}
