//! IAM wildcard patterns (`*` any run of characters, `?` one character) and whether one
//! pattern matches everything another one does.

/// Whether every string `narrow` matches is also matched by `wide`.
///
/// `*` and `?` in `narrow` are treated as the sets they stand for: a `*` in `narrow` is
/// covered only by a `*` in `wide`, a `?` by a `?` or a `*`. With `ignore_case` letters
/// compare ASCII-case-insensitively (IAM action names are case-insensitive, ARNs are not).
pub fn covers(wide: &str, narrow: &str, ignore_case: bool) -> bool {
    let w: Vec<char> = wide.chars().collect();
    let n: Vec<char> = narrow.chars().collect();
    // reach[j]: `w[..i]` can match `n[..j]` (dynamic programming over i).
    let mut reach = vec![false; n.len() + 1];
    reach[0] = true;
    for &wc in &w {
        let mut next = vec![false; n.len() + 1];
        match wc {
            '*' => {
                // `*` consumes any run of narrow's characters, wildcards included.
                let mut any = false;
                for j in 0..=n.len() {
                    any |= reach[j];
                    next[j] = any;
                }
            }
            '?' => {
                for j in 0..n.len() {
                    if reach[j] && n[j] != '*' {
                        next[j + 1] = true;
                    }
                }
            }
            literal => {
                for j in 0..n.len() {
                    let same = if ignore_case {
                        literal.eq_ignore_ascii_case(&n[j])
                    } else {
                        literal == n[j]
                    };
                    if reach[j] && same && n[j] != '*' && n[j] != '?' {
                        next[j + 1] = true;
                    }
                }
            }
        }
        reach = next;
    }
    reach[n.len()]
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_what_they_stand_for() {
        assert!(covers("s3:*", "s3:GetObject", true));
        assert!(covers("*", "s3:*", true));
        assert!(covers("s3:Get*", "s3:GetObject", true));
        assert!(covers("S3:getobject", "s3:GetObject", true));
        assert!(!covers("S3:getobject", "s3:GetObject", false));
        assert!(!covers("s3:GetObject", "s3:*", true));
        assert!(!covers("s3:Get*", "s3:*", true));
        assert!(covers("arn:aws:s3:::b/*", "arn:aws:s3:::b/events/*", false));
        assert!(!covers(
            "arn:aws:s3:::b/events/*",
            "arn:aws:s3:::b/*",
            false
        ));
        assert!(covers("a?c", "abc", false));
        assert!(!covers("a?c", "a*c", false));
        assert!(covers("a*c", "a?c", false));
        assert!(covers("", "", false));
        assert!(!covers("", "x", false));
    }
}
