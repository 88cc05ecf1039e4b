//! Which types to generate: names and `*` / `?` globs, with suggestions for names that match
//! nothing.

use std::collections::BTreeSet;

/// Whether `name` matches `pattern` (`*` any run of characters, `?` one character).
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The names of `available` matched by `patterns`; `Err(pattern)` for the first pattern
/// (other than `*`) that matches nothing.
pub fn select<'a>(
    patterns: &[String],
    available: impl Iterator<Item = &'a String> + Clone,
) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for pattern in patterns {
        let before = out.len();
        let mut matched = false;
        for name in available.clone() {
            if glob_match(pattern, name) {
                matched = true;
                out.insert(name.clone());
            }
        }
        // `*` alone may match nothing (a provider without data sources); any other pattern
        // that matches nothing is a mistake.
        if !matched && out.len() == before && pattern != "*" {
            return Err(pattern.clone());
        }
    }
    Ok(out)
}

/// Up to three names of `available` closest to `wanted` (edit distance, then name).
pub fn suggestions<'a>(wanted: &str, available: impl Iterator<Item = &'a String>) -> Vec<String> {
    let wanted = wanted.replace(['*', '?'], "");
    let mut scored: Vec<(usize, &String)> = available
        .map(|n| (distance(&wanted, n), n))
        .filter(|(d, n)| *d <= n.len().max(wanted.len()) / 2 || n.contains(&wanted))
        .collect();
    scored.sort();
    scored.into_iter().take(3).map(|(_, n)| n.clone()).collect()
}

fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("aws_s3_bucket*", "aws_s3_bucket"));
        assert!(glob_match("aws_s3_bucket*", "aws_s3_bucket_policy"));
        assert!(!glob_match("aws_s3_bucket*", "aws_s3_object"));
        assert!(glob_match("aws_?3_*", "aws_s3_object"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn suggests_close_names() {
        let names: Vec<String> = ["aws_s3_bucket", "aws_s3_object", "aws_sns_topic"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            suggestions("aws_s3_buckt", names.iter())[0],
            "aws_s3_bucket"
        );
    }
}
