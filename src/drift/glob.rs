//! Wildcard matching for ignore rules and severity overrides.

/// `*` matches any run of characters, `?` any one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Dotted attribute paths: each pattern segment is a glob over one path segment,
/// and a pattern matches a path it is a prefix of (`tags` matches `tags.Env`).
pub fn path_match(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) = (pattern.split('.').collect(), path.split('.').collect());
    pattern.len() <= path.len() && pattern.iter().zip(&path).all(|(p, s)| glob_match(p, s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("aws_*", "aws_instance"));
        assert!(glob_match("module.legacy.*", "module.legacy.aws_vpc.main"));
        assert!(glob_match("i-0?bc*", "i-0abc123"));
        assert!(!glob_match("aws_*", "google_compute_instance"));
        assert!(glob_match("*", ""));
        assert!(!glob_match("a", ""));
    }

    #[test]
    fn paths() {
        assert!(path_match("tags", "tags.Env"));
        assert!(path_match("tags.Last*", "tags.LastPatched"));
        assert!(path_match("ingress.*", "ingress.tcp"));
        assert!(!path_match("tags.Env", "tags"));
        assert!(!path_match("ami", "instance_type"));
    }
}
