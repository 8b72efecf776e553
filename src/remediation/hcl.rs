//! Terraform code for an unmanaged resource (pure): an `import` block and a resource
//! skeleton with the live values of the attributes driftmgr compares, formatted as
//! `terraform fmt` formats it (tested with real Terraform in tests/remediation.rs).

use std::fmt::Write;

use serde_json::Value;

use crate::attributes::Attributes;
use crate::drift::CloudRules;

/// An HCL string literal: quotes, backslashes, control characters and template
/// sequences (`${`, `%{`) escaped.
fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value that fits on one line; `None` for objects and lists of objects.
fn inline(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(string(s)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) if items.iter().all(|v| !v.is_object() && !v.is_array()) => {
            let parts: Option<Vec<String>> = items.iter().filter(|v| !v.is_null()).map(inline).collect();
            Some(format!("[{}]", parts?.join(", ")))
        }
        _ => None,
    }
}

/// Lines `name = value` with the `=` aligned, as `terraform fmt` aligns a run of
/// single-line attributes.
fn aligned(out: &mut String, indent: &str, pairs: &[(String, String)]) {
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (key, value) in pairs {
        let _ = writeln!(out, "{indent}{key:width$} = {value}");
    }
}

/// A block's body: its single-line attributes (sorted, aligned) first, then nested
/// blocks for lists of objects.
fn body(out: &mut String, indent: &str, fields: &[(String, &Value)]) {
    let mut pairs = Vec::new();
    let mut blocks = Vec::new();
    for (name, value) in fields {
        if value.is_null() {
            continue;
        }
        match inline(value) {
            Some(text) => pairs.push((name.clone(), text)),
            None => blocks.push((name.clone(), *value)),
        }
    }
    aligned(out, indent, &pairs);
    for (name, value) in blocks {
        for entry in value.as_array().into_iter().flatten().filter_map(Value::as_object) {
            let _ = writeln!(out, "{indent}{name} {{");
            let mut inner: Vec<(String, &Value)> = entry.iter().map(|(k, v)| (k.clone(), v)).collect();
            inner.sort_by(|a, b| a.0.cmp(&b.0));
            body(out, &format!("{indent}  "), &inner);
            let _ = writeln!(out, "{indent}}}");
        }
    }
}

/// The `import` block and resource skeleton for `type_` `id`, named `name`.
pub fn import_and_resource(
    rules: &dyn CloudRules,
    type_: &str,
    id: &str,
    name: &str,
    live: &Attributes,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "import {{\n  to = {type_}.{name}\n  id = {}\n}}\n", string(id));
    let _ = writeln!(out, "resource {} {} {{", string(type_), string(name));
    let mut fields: Vec<(String, &Value)> = rules
        .compared(type_)
        .iter()
        .filter(|(attribute, _)| *attribute != "tags")
        .filter_map(|(attribute, _)| Some((attribute.to_string(), live.get(attribute)?)))
        .collect();
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    body(&mut out, "  ", &fields);
    if let Some(tags) = live.string_map("tags").filter(|t| !t.is_empty()) {
        // AWS's own tags are not Terraform's to set.
        let pairs: Vec<(String, String)> = tags
            .iter()
            .filter(|(k, _)| !k.starts_with("aws:"))
            .map(|(k, v)| (string(k), string(v)))
            .collect();
        if !pairs.is_empty() {
            out.push_str("  tags = {\n");
            aligned(&mut out, "    ", &pairs);
            out.push_str("  }\n");
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_instance_becomes_an_import_block_and_an_aligned_skeleton() {
        let live = Attributes::from(
            json!({"instance_type": "t3.micro", "ami": "ami-1", "ebs_optimized": false,
                "vpc_security_group_ids": ["sg-1", "sg-2"], "tags": {"Name": "web \"1\"", "aws:x": "y"}})
            .as_object()
            .cloned()
            .expect("object"),
        );
        let text =
            import_and_resource(crate::provider::cloud_rules("aws"), "aws_instance", "i-0ab", "i_0ab", &live);
        assert_eq!(
            text,
            "import {\n  to = aws_instance.i_0ab\n  id = \"i-0ab\"\n}\n\nresource \"aws_instance\" \"i_0ab\" {\n  ami                    = \"ami-1\"\n  ebs_optimized          = false\n  instance_type          = \"t3.micro\"\n  vpc_security_group_ids = [\"sg-1\", \"sg-2\"]\n  tags = {\n    \"Name\" = \"web \\\"1\\\"\"\n  }\n}\n"
        );
    }

    #[test]
    fn rules_become_nested_blocks_and_templates_are_escaped() {
        let live = Attributes::from(
            json!({"description": "${var.x} 100%{", "ingress": [
                {"protocol": "tcp", "from_port": 22, "to_port": 22, "cidr_blocks": ["0.0.0.0/0"]}]})
            .as_object()
            .cloned()
            .expect("object"),
        );
        let text = import_and_resource(
            crate::provider::cloud_rules("aws"),
            "aws_security_group",
            "sg-1",
            "sg_1",
            &live,
        );
        assert!(text.contains("  description = \"$${var.x} 100%%{\"\n"), "{text}");
        assert!(
            text.contains("  ingress {\n    cidr_blocks = [\"0.0.0.0/0\"]\n    from_port   = 22\n    protocol    = \"tcp\"\n    to_port     = 22\n  }\n"),
            "{text}"
        );
    }
}
