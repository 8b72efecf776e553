//! Lookups the comparison needs: live resources by type and id (an id is unique
//! only within a region for some types, such as key pairs named by their name), and
//! the region a state resource lives in.

use std::collections::HashMap;

use crate::attributes::Attributes;

use super::{CloudRules, LiveResource};
use crate::state::StateResource;

/// The result of looking a resource up.
#[derive(Debug, PartialEq)]
pub enum Lookup<'a> {
    Found(usize, &'a LiveResource),
    Absent,
    /// The id repeats across regions and the state does not say which is meant.
    Ambiguous,
}

/// Live resources by (type, id); more than one entry only when ids repeat across regions.
pub struct LiveIndex<'a> {
    resources: &'a [LiveResource],
    by_key: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> LiveIndex<'a> {
    pub fn new(resources: &'a [LiveResource], keep: impl Fn(&str) -> bool) -> Self {
        let mut by_key: HashMap<(&str, &str), Vec<usize>> = HashMap::with_capacity(resources.len());
        for (index, r) in resources.iter().enumerate().filter(|(_, r)| keep(&r.type_)) {
            by_key.entry((r.type_.as_str(), r.id.as_str())).or_default().push(index);
        }
        Self { resources, by_key }
    }

    /// The live resource of `type_` and `id`; in `region` when the id repeats across
    /// regions (and then `Ambiguous` if the region is unknown).
    pub fn find(&self, type_: &str, id: &str, region: Option<&str>) -> Lookup<'a> {
        let Some(candidates) = self.by_key.get(&(type_, id)) else { return Lookup::Absent };
        let found = |i: usize| Lookup::Found(i, &self.resources[i]);
        match (candidates.as_slice(), region) {
            ([only], _) => found(*only),
            (_, None) => Lookup::Ambiguous,
            (many, Some(region)) => many
                .iter()
                .find(|&&i| self.resources[i].region.as_deref() == Some(region))
                .map_or(Lookup::Absent, |&i| found(i)),
        }
    }
}

/// The region a state resource of `type_` names itself, as its cloud reads it.
pub fn own_region<'a>(rules: &dyn CloudRules, attributes: &'a Attributes) -> Option<&'a str> {
    rules.own_region(attributes)
}

/// Regions known by id, from state resources that say theirs and from live ones. Built
/// on first use: most resources carry their own ARN or zone and never need it.
pub struct RegionHints<'a> {
    rules: &'a dyn CloudRules,
    state: &'a [&'a StateResource],
    live: &'a [LiveResource],
    by_id: std::cell::OnceCell<HashMap<&'a str, &'a str>>,
}

impl<'a> RegionHints<'a> {
    pub fn new(rules: &'a dyn CloudRules, state: &'a [&'a StateResource], live: &'a [LiveResource]) -> Self {
        Self { rules, state, live, by_id: std::cell::OnceCell::new() }
    }

    fn by_id(&self) -> &HashMap<&'a str, &'a str> {
        self.by_id.get_or_init(|| Self::index(self.rules, self.state, self.live))
    }

    fn index(
        rules: &dyn CloudRules,
        state: &[&'a StateResource],
        live: &'a [LiveResource],
    ) -> HashMap<&'a str, &'a str> {
        let mut by_id: HashMap<&str, &str> = HashMap::with_capacity(live.len() + state.len());
        for r in live {
            if let Some(region) = &r.region {
                by_id.insert(r.id.as_str(), region.as_str());
            }
        }
        for r in state {
            if let (Some(id), Some(region)) = (r.id.as_deref(), own_region(rules, &r.attributes)) {
                by_id.insert(id, region);
            }
        }
        by_id
    }

    /// The resource's own region, else the region of a resource it references
    /// (`subnet_id`, `vpc_id`, `route_table_id`, ...): a NAT gateway, a route or an
    /// association lives where its subnet, VPC or table does.
    pub fn region_of(&self, attributes: &'a Attributes) -> Option<&'a str> {
        own_region(self.rules, attributes).or_else(|| {
            attributes
                .iter()
                .filter(|(key, _)| key.ends_with("_id") && *key != "id")
                .find_map(|(_, value)| self.by_id().get(value.as_str()?).copied())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn attrs(v: Value) -> Attributes {
        v.as_object().cloned().map(Attributes::from).expect("object")
    }

    /// A cloud whose resources name their region in an ARN.
    struct ArnRegions;

    impl CloudRules for ArnRegions {
        fn own_region<'a>(&self, attributes: &'a Attributes) -> Option<&'a str> {
            attributes.get("arn")?.as_str()?.split(':').nth(3)
        }
    }

    #[test]
    fn regions_from_every_partition_and_from_references() {
        let arn = attrs(json!({"arn": "arn:aws:ec2:eu-west-3:1:vpc/vpc-1"}));
        assert_eq!(own_region(&ArnRegions, &arn), Some("eu-west-3"));
        let live = [LiveResource {
            type_: "aws_subnet".into(),
            id: "subnet-1".into(),
            region: Some("ap-south-1".into()),
            attributes: Attributes::new(),
            is_default: false,
            part_of: None,
        }];
        let hints = RegionHints::new(&ArnRegions, &[], &live);
        let nat = attrs(json!({"id": "nat-1", "subnet_id": "subnet-1"}));
        assert_eq!(hints.region_of(&nat), Some("ap-south-1"));
        assert_eq!(hints.region_of(&attrs(json!({"id": "x", "subnet_id": "subnet-2"}))), None);
        assert_eq!(
            own_region(&crate::drift::NoRules, &attrs(json!({"arn": "arn:aws:ec2:eu-west-3:1:x"}))),
            None,
            "a cloud without regions in its ids"
        );
    }

    #[test]
    fn an_id_repeated_across_regions_is_told_apart_by_region() {
        let key = |region: &str| LiveResource {
            type_: "aws_key_pair".into(),
            id: "deployer".into(),
            region: Some(region.into()),
            attributes: Attributes::new(),
            is_default: false,
            part_of: None,
        };
        let live = [key("us-east-1"), key("eu-west-1")];
        let index = LiveIndex::new(&live, |_| true);
        assert_eq!(index.find("aws_key_pair", "deployer", Some("eu-west-1")), Lookup::Found(1, &live[1]));
        assert_eq!(index.find("aws_key_pair", "deployer", Some("us-east-1")), Lookup::Found(0, &live[0]));
        assert_eq!(index.find("aws_key_pair", "deployer", Some("sa-east-1")), Lookup::Absent);
        assert_eq!(index.find("aws_key_pair", "deployer", None), Lookup::Ambiguous);
    }
}
