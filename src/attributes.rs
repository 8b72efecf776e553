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

use std::borrow::Cow;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// An attribute name: borrowed from the provider's list of the names it knows (no
/// allocation for the dozens of names every resource repeats), owned otherwise.
pub type Name = Cow<'static, str>;

/// A map of strings (tags, labels), sorted by key. As a `serde_json::Map` even one
/// tag costs a whole B-tree node; here it is one slice of boxed strings.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct StringMap(Box<[(Box<str>, Box<str>)]>);

impl StringMap {
    /// The map, when `value` is an object of strings only; else `value` back. The
    /// strings are moved, not copied: this runs for every resource's tags.
    fn from_object(value: Value) -> Result<Self, Value> {
        match value {
            Value::Object(object) if object.values().all(Value::is_string) => {
                // A JSON map is sorted by key already; every value is a string (above).
                let pairs = object.into_iter().filter_map(|(k, v)| match v {
                    Value::String(v) => Some((k.into_boxed_str(), v.into_boxed_str())),
                    _ => None,
                });
                Ok(Self(pairs.collect()))
            }
            other => Err(other),
        }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.binary_search_by(|(k, _)| k.as_ref().cmp(key)).ok().map(|i| self.0[i].1.as_ref())
    }

    /// Entries sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn to_value(&self) -> Value {
        Value::Object(self.iter().map(|(k, v)| (k.to_string(), Value::String(v.to_string()))).collect())
    }
}

impl fmt::Debug for StringMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// Attributes ordered by `name_order`, each name once. Objects of strings only
/// (tags, labels) are kept apart as `StringMap`s, read with `string_map`.
#[derive(Clone, Default, PartialEq)]
pub struct Attributes {
    values: Box<[(Name, Value)]>,
    maps: Box<[(Name, StringMap)]>,
}

/// Shorter names first, then bytewise.
fn name_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn position<T>(entries: &[(Name, T)], name: &str) -> Result<usize, usize> {
    entries.binary_search_by(|(n, _)| name_order(n, name))
}

/// Sorts by name; of repeated names the last one wins, as with a map insert.
fn sort_unique<T>(mut pairs: Vec<(Name, T)>) -> Box<[(Name, T)]> {
    // A stable sort keeps equal names in input order.
    pairs.sort_by(|a, b| name_order(&a.0, &b.0));
    pairs.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            std::mem::swap(&mut later.1, &mut kept.1);
        }
        same
    });
    pairs.into_boxed_slice()
}

impl Attributes {
    pub fn new() -> Self {
        Self::default()
    }

    /// Builds from pairs in any order; a later pair wins over an earlier one of the
    /// same name, as with a map insert.
    pub fn from_pairs(pairs: Vec<(Name, Value)>) -> Self {
        let unique = sort_unique(pairs).into_vec();
        let mut values = Vec::with_capacity(unique.len());
        let mut maps = Vec::new();
        for (name, value) in unique {
            match StringMap::from_object(value) {
                Ok(map) => maps.push((name, map)),
                Err(value) => values.push((name, value)),
            }
        }
        // Both stay in name order: they are split from one sorted list.
        Self { values: values.into_boxed_slice(), maps: maps.into_boxed_slice() }
    }

    /// Builds from a JSON map, with names borrowed from `known` where it has them.
    pub fn from_map(map: Map<String, Value>, known: impl Fn(&str) -> Option<&'static str>) -> Self {
        Self::from_pairs(
            map.into_iter().map(|(n, v)| (known(&n).map_or(Cow::Owned(n), Cow::Borrowed), v)).collect(),
        )
    }

    /// The value of `name`; `None` for a map of strings (see `string_map`).
    pub fn get(&self, name: &str) -> Option<&Value> {
        position(&self.values, name).ok().map(|i| &self.values[i].1)
    }

    /// The value of `name` as JSON, a map of strings included (built on demand).
    pub fn value(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.get(name).map(Cow::Borrowed).or_else(|| self.string_map(name).map(|m| Cow::Owned(m.to_value())))
    }

    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        position(&self.values, name).ok().map(|i| &mut self.values[i].1)
    }

    /// The map of strings `name` (tags, labels).
    pub fn string_map(&self, name: &str) -> Option<&StringMap> {
        position(&self.maps, name).ok().map(|i| &self.maps[i].1)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        position(&self.values, name).is_ok() || position(&self.maps, name).is_ok()
    }

    /// Sets `name`, replacing a previous value. Resources are built once and then
    /// read, so an insert rebuilds the entries rather than keeping spare capacity.
    pub fn insert(&mut self, name: impl Into<Name>, value: Value) {
        let mut pairs: Vec<(Name, Value)> = std::mem::take(self).into_pairs();
        pairs.push((name.into(), value));
        *self = Self::from_pairs(pairs);
    }

    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let mut pairs = std::mem::take(self).into_pairs();
        let removed = pairs.iter().position(|(n, _)| n == name).map(|i| pairs.remove(i).1);
        *self = Self::from_pairs(pairs);
        removed
    }

    fn into_pairs(self) -> Vec<(Name, Value)> {
        let maps = self.maps.into_vec().into_iter().map(|(n, m)| (n, m.to_value()));
        self.values.into_vec().into_iter().chain(maps).collect()
    }

    /// Every attribute as JSON (maps of strings as objects), values first.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Cow<'_, Value>)> {
        let values = self.values.iter().map(|(n, v)| (n.as_ref(), Cow::Borrowed(v)));
        values.chain(self.maps.iter().map(|(n, m)| (n.as_ref(), Cow::Owned(m.to_value()))))
    }

    /// The values that are not maps of strings, shorter names first.
    pub fn values(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(n, v)| (n.as_ref(), v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_ref()).chain(self.maps.iter().map(|(n, _)| n.as_ref()))
    }

    pub fn len(&self) -> usize {
        self.values.len() + self.maps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The attributes as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(n, v)| (n.to_string(), v.into_owned())).collect()
    }
}

impl From<Map<String, Value>> for Attributes {
    fn from(map: Map<String, Value>) -> Self {
        Self::from_map(map, |_| None)
    }
}

impl FromIterator<(String, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self::from_pairs(iter.into_iter().map(|(n, v)| (Cow::Owned(n), v)).collect())
    }
}

impl<'a> FromIterator<(&'a str, Value)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (&'a str, Value)>>(iter: I) -> Self {
        Self::from_pairs(iter.into_iter().map(|(n, v)| (Cow::Owned(n.to_string()), v)).collect())
    }
}

impl std::ops::Index<&str> for Attributes {
    type Output = Value;

    /// `Value::Null` for an absent name (or a map of strings), as `serde_json::Map`
    /// indexing gives for an absent key.
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
        for (name, value) in self.values() {
            map.serialize_entry(name, value)?;
        }
        for (name, strings) in self.maps.iter() {
            map.serialize_entry(name.as_ref(), &StringMapJson(strings))?;
        }
        map.end()
    }
}

/// A `StringMap` serialized as a JSON object without building one.
struct StringMapJson<'a>(&'a StringMap);

impl Serialize for StringMapJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            map.serialize_entry(k, v)?;
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
                    pairs.push((Cow::Owned(name), value));
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
        a.insert("c", json!(3));
        a.insert("0", json!(0));
        a.insert("b", json!(20));
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
    fn objects_of_strings_are_string_maps_and_the_last_of_repeated_names_wins() {
        let mut a = attrs(json!({"tags": {"b": "2", "a": "1"}, "nested": {"n": 1}, "empty": {}}));
        let tags = a.string_map("tags").expect("a string map");
        assert_eq!(tags.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        assert_eq!(tags.get("b"), Some("2"));
        assert_eq!(a.get("tags"), None, "read through string_map");
        assert!(a.contains_key("tags"));
        assert_eq!(a.get("nested"), Some(&json!({"n": 1})), "an object holding other values stays JSON");
        assert!(a.string_map("empty").is_some_and(StringMap::is_empty));
        a.insert("tags", json!("not a map any more"));
        assert_eq!((a.get("tags"), a.string_map("tags")), (Some(&json!("not a map any more")), None));
        let b: Attributes =
            [("x", json!(1)), ("y", json!(2)), ("x", json!({"k": "v"}))].into_iter().collect();
        assert_eq!(b.len(), 2);
        assert_eq!((b.get("x"), b.string_map("x").map(StringMap::len)), (None, Some(1)));
        let parsed: Attributes = serde_json::from_str(r#"{"x": 1, "x": 2}"#).expect("parses");
        assert_eq!(parsed["x"], json!(2));
    }

    #[test]
    fn serializes_as_the_json_object_it_was_read_from() {
        // Values first (shorter names first), then maps of strings.
        let text = r#"{"ami":"ami-1","vpc_security_group_ids":["sg-1"],"tags":{"Env":"prod"}}"#;
        let a: Attributes = serde_json::from_str(text).expect("parses");
        assert_eq!(serde_json::to_string(&a).expect("serializes"), text);
        assert_eq!(Value::Object(a.to_map()), serde_json::from_str::<Value>(text).expect("json"));
    }

    #[test]
    fn known_names_are_borrowed() {
        let map = json!({"ami": "a", "custom": 1}).as_object().cloned().expect("object");
        let a = Attributes::from_map(map, |n| (n == "ami").then_some("ami"));
        let borrowed: Vec<bool> = a.values.iter().map(|(n, _)| matches!(n, Cow::Borrowed(_))).collect();
        assert_eq!(borrowed, [true, false]);
    }
}
