//! `docs/coverage.md`, generated from the type declarations: for every AWS type, how
//! it is listed, what is compared and how, what folds into it, what remediation can
//! do, and whether the replay corpus recreates it in moto. A unit test regenerates it
//! and fails when the committed file differs (`make docs` writes it).

use std::fmt::Write;

use super::types::{Listing, Scope, TYPES};
use crate::crd::AttributeChange;
use crate::drift::{CloudRules, Compare};

/// How an attribute is compared, for people.
fn how(compare: &Compare) -> &'static str {
    match compare {
        Compare::Scalar => "value",
        Compare::StringSet => "set",
        Compare::Tags => "map, key by key",
        Compare::Entries(_) => "entries",
        Compare::Document(_) => "policy document, by meaning",
    }
}

/// What remediation can set back in place: each compared attribute the rules accept a
/// change of (tags: any tag but AWS's own).
fn fixable(rules: &dyn CloudRules, type_: &str, compared: &[(&'static str, Compare)]) -> Vec<&'static str> {
    let mut out = Vec::new();
    // An entry of each set-like kind AWS has: a security group rule, a route, an ACL entry.
    const ENTRIES: &[&str] =
        &["\"tcp 22-22 10.0.0.0/8\"", "\"10.1.0.0/16 -> igw-1\"", "\"100 allow tcp 10.0.0.0/8 22-22\""];
    for (name, compare) in compared {
        let path = if matches!(compare, Compare::Tags) { format!("{name}.Team") } else { name.to_string() };
        let changes: Vec<AttributeChange> = match compare {
            Compare::Entries(_) => ENTRIES
                .iter()
                .map(|e| AttributeChange { path: path.clone(), expected: Some(e.to_string()), actual: None })
                .collect(),
            _ => vec![AttributeChange { path, expected: Some("\"2\"".into()), actual: Some("\"1\"".into()) }],
        };
        if changes.iter().any(|change| rules.fix_risk(type_, change).is_some()) {
            out.push(*name);
        }
    }
    out
}

/// The page of every AWS type; `replayed` says which types the replay corpus creates.
pub fn markdown(rules: &dyn CloudRules, replayed: &dyn Fn(&str) -> bool) -> String {
    let mut out = String::from(
        "# Coverage: what driftmgr checks\n\n\
         Generated from the type declarations (`src/provider/aws/*.rs`) by `make docs`; a unit \
         test fails when this page differs from them. A type not listed here is reported *not \
         checked* (unsupported type).\n\n## AWS\n\n",
    );
    let listed = TYPES.iter().filter(|t| matches!(t.listing, Listing::List { .. })).count();
    let _ = writeln!(out, "{listed} types listed, {} verified through another.\n", TYPES.len() - listed);
    out.push_str("| type | listing | compared | remediation | replayed in moto |\n|---|---|---|---|---|\n");
    for t in TYPES.iter() {
        let listing = match t.listing {
            Listing::List { scope, operations, page_size, .. } => {
                let page = page_size.map_or("one response".to_string(), |n| format!("pages of {n}"));
                let scope = if scope == Scope::Global { "once per account" } else { "per region" };
                format!("{} ({page}, {scope})", operations.join(" + "))
            }
            Listing::Folded { parent } => format!("folded into `{parent}`"),
            Listing::Alias { of } => format!("the `{of}` it manages"),
        };
        let compared = if let Listing::Alias { of } = t.listing {
            format!("as `{of}`")
        } else if t.compared.is_empty() {
            "its entries on the parent".to_string()
        } else {
            let mut parts: Vec<String> = t
                .compared
                .iter()
                .map(|(name, compare)| {
                    let default =
                        t.defaults.iter().find(|(d, _)| d == name).map(|(_, v)| format!(", unset = `{v}`"));
                    let severity =
                        t.severity.iter().find(|(s, _)| s == name).map(|(_, s)| format!(", {s:?}"));
                    let opens = t.critical_when.iter().any(|(c, _)| c == name);
                    let sometimes = t.not_applicable.iter().any(|(n, _)| n == name);
                    format!(
                        "`{name}` ({}{}{}{}{})",
                        how(compare),
                        default.unwrap_or_default(),
                        severity.unwrap_or_default(),
                        if opens { ", Critical when it opens the resource" } else { "" },
                        if sometimes { ", where it applies" } else { "" },
                    )
                })
                .collect();
            parts.extend(t.not_compared.iter().map(|(name, why)| format!("not `{name}`: {why}")));
            parts.join("; ")
        };
        let mut remediation: Vec<String> =
            fixable(rules, t.name, t.compared).iter().map(|a| format!("set `{a}`")).collect();
        if rules.deletable(t.name) {
            remediation.push("delete when unmanaged".into());
        }
        let remediation =
            if remediation.is_empty() { "Terraform".to_string() } else { remediation.join(", ") };
        let replay = if replayed(t.name) { "yes" } else { "no" };
        let _ = writeln!(out, "| `{}` | {listing} | {compared} | {remediation} | {replay} |", t.name);
    }
    out.push_str(
        "\nRemediation \"Terraform\": a plan lists the change under `status.unhandled` with the \
         Terraform command that makes it. Policy documents compare by meaning: key order, a string \
         and a one-element list, an account id and its root ARN, `\"*\"` and `{\"AWS\": \"*\"}`, an \
         empty `Sid`, a missing `Version` (IAM's `2008-10-17`) and IAM's URL-encoding are not drift.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The types tests/support/replay.py recreates in moto (a method named after each).
    fn replayed(type_: &str) -> bool {
        include_str!("../../../tests/support/replay.py").contains(&format!("    def {type_}(self"))
    }

    #[test]
    fn docs_coverage_is_generated_from_the_declarations() {
        let page = markdown(&super::super::AwsRules, &replayed);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/coverage.md");
        if std::env::var_os("DRIFTMGR_WRITE_DOCS").is_some() {
            std::fs::write(path, &page).expect("write docs/coverage.md");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(committed == page, "docs/coverage.md is stale: run `make docs` and commit the result");
        assert!(page.contains(
            "| `aws_iam_role` | GetAccountAuthorizationDetails + ListRoles (pages of 1000, once per account)"
        ));
    }
}
