//! Provider addresses and resource instance addresses as Terraform writes them.

use std::fmt;

/// The provider of a resource, from either address form:
/// `provider.aws`, `provider.aws.west` (Terraform 0.12),
/// `provider["registry.terraform.io/hashicorp/aws"]` and
/// `module.x.provider["registry.opentofu.org/hashicorp/aws"].west` (0.13+, OpenTofu).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProviderAddress {
    /// Provider type, such as `aws`.
    pub name: String,
    /// Registry source, such as `registry.terraform.io/hashicorp/aws`, when given.
    pub source: Option<String>,
    /// Alias, such as `west`.
    pub alias: Option<String>,
}

impl ProviderAddress {
    /// Parses a provider address; `None` if it is neither form.
    pub fn parse(text: &str) -> Option<Self> {
        // Drop the module prefix segment by segment (`module.a.module.b.`), so a module
        // whose name contains `provider` (`module.oidc_provider.`) is not mistaken for
        // the provider part.
        let mut rest = text;
        while let Some(after) = rest.strip_prefix("module.") {
            rest = &after[after.find('.')? + 1..];
        }
        let rest = rest.strip_prefix("provider")?;
        if let Some(quoted) = rest.strip_prefix("[\"") {
            let end = quoted.find("\"]")?;
            let source = &quoted[..end];
            let name = source.rsplit('/').next()?.to_string();
            let alias = quoted[end + 2..].strip_prefix('.').map(str::to_string);
            if name.is_empty() {
                return None;
            }
            return Some(Self { name, source: Some(source.to_string()), alias });
        }
        let mut parts = rest.strip_prefix('.')?.splitn(2, '.');
        let name = parts.next().filter(|n| !n.is_empty())?.to_string();
        let alias = parts.next().map(str::to_string);
        Some(Self { name, source: None, alias })
    }
}

/// A `count` or `for_each` instance key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexKey {
    Int(i64),
    String(String),
}

impl fmt::Display for IndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "[{i}]"),
            // Terraform escapes keys like JSON strings.
            Self::String(s) => write!(f, "[{}]", serde_json::Value::String(s.clone())),
        }
    }
}

/// `module.a.aws_instance.web[0]` from its parts.
pub fn instance_address(
    module: Option<&str>,
    data: bool,
    type_: &str,
    name: &str,
    key: Option<&IndexKey>,
) -> String {
    let mut out = String::new();
    if let Some(module) = module.filter(|m| !m.is_empty()) {
        out.push_str(module);
        out.push('.');
    }
    if data {
        out.push_str("data.");
    }
    out.push_str(type_);
    out.push('.');
    out.push_str(name);
    if let Some(key) = key {
        out.push_str(&key.to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_provider_forms() {
        let legacy = ProviderAddress::parse("provider.aws").expect("legacy");
        assert_eq!((legacy.name.as_str(), legacy.source, legacy.alias), ("aws", None, None));
        let aliased = ProviderAddress::parse("provider.aws.west").expect("alias");
        assert_eq!(aliased.alias.as_deref(), Some("west"));
        let modern =
            ProviderAddress::parse(r#"provider["registry.terraform.io/hashicorp/aws"]"#).expect("modern");
        assert_eq!(modern.name, "aws");
        assert_eq!(modern.source.as_deref(), Some("registry.terraform.io/hashicorp/aws"));
        let tofu =
            ProviderAddress::parse(r#"module.net.provider["registry.opentofu.org/hashicorp/aws"].east"#)
                .expect("opentofu with module and alias");
        assert_eq!((tofu.name.as_str(), tofu.alias.as_deref()), ("aws", Some("east")));
        for module in ["module.oidc_provider", "module.provider", "module.a.module.provider_x"] {
            let modern = ProviderAddress::parse(&format!(
                r#"{module}.provider["registry.terraform.io/hashicorp/aws"]"#
            ))
            .expect("module named like a provider");
            assert_eq!((modern.name.as_str(), modern.alias), ("aws", None), "{module}");
            let legacy = ProviderAddress::parse(&format!("{module}.provider.aws.west")).expect("legacy");
            assert_eq!((legacy.name.as_str(), legacy.alias.as_deref()), ("aws", Some("west")), "{module}");
        }
        assert_eq!(ProviderAddress::parse("aws"), None);
        assert_eq!(ProviderAddress::parse(r#"provider[""]"#), None);
    }

    #[test]
    fn builds_instance_addresses() {
        let key = IndexKey::String("eu \"west\"".into());
        assert_eq!(
            instance_address(Some("module.net"), false, "aws_subnet", "private", Some(&key)),
            r#"module.net.aws_subnet.private["eu \"west\""]"#
        );
        assert_eq!(
            instance_address(None, false, "aws_instance", "web", Some(&IndexKey::Int(2))),
            "aws_instance.web[2]"
        );
        assert_eq!(instance_address(None, true, "aws_ami", "ubuntu", None), "data.aws_ami.ubuntu");
    }
}
