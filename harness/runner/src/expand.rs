//! `$VAR` / `${VAR}` expansion as the runner does it (Go `os.Expand` over the job variables;
//! an unknown variable expands to nothing).

/// The job's `image:` after the runner's variable expansion (job variables, last one wins).
pub fn expanded_image(payload: &regsim_wire::job_api::JobPayload) -> String {
    expand(&payload.image.name, |k| payload.variable(k))
}

/// Go's `os.Expand` (what the runner's `ExpandValue` calls): `${NAME}`, `$NAME` (letters, digits,
/// `_`), and the one-character shell specials `$*`, `$#`, `$$`, `$@`, `$!`, `$?`, `$-`, `$0`–`$9`;
/// `${}` and an unclosed `${` are eaten; a `$` before anything else, or at the end, stays.
pub fn expand(s: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let b = s.as_bytes();
    let special = |c: u8| matches!(c, b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-') || c.is_ascii_digit();
    let mut out = String::with_capacity(s.len());
    let mut i = 0; // start of the text not yet copied
    let mut j = 0;
    while j < b.len() {
        if b[j] == b'$' && j + 1 < b.len() {
            out.push_str(&s[i..j]);
            let rest = &s[j + 1..];
            let r = rest.as_bytes();
            // getShellName: the name and how many bytes it takes.
            let (name, w): (&str, usize) = if r[0] == b'{' {
                if r.len() > 2 && special(r[1]) && r[2] == b'}' {
                    (&rest[1..2], 3)
                } else {
                    match rest[1..].find('}') {
                        Some(0) => ("", 2),
                        Some(k) => (&rest[1..1 + k], k + 2),
                        None => ("", 1),
                    }
                }
            } else if special(r[0]) {
                (&rest[0..1], 1)
            } else {
                let n = r
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
                    .count();
                (&rest[..n], n)
            };
            if name.is_empty() && w == 0 {
                // Valid syntax without a name: the dollar stays.
                out.push('$');
            } else if !name.is_empty() {
                out.push_str(&lookup(name).unwrap_or_default());
            }
            j += w;
            i = j + 1;
        }
        j += 1;
    }
    out.push_str(&s[i.min(s.len())..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn expands_both_forms() {
        let l = |k: &str| (k == "CI_REGISTRY").then(|| "r.example.com:5050".to_string());
        assert_eq!(super::expand("$CI_REGISTRY/a/b:1", l), "r.example.com:5050/a/b:1");
        assert_eq!(super::expand("${CI_REGISTRY}/x", l), "r.example.com:5050/x");
        assert_eq!(super::expand("$NOPE/x", l), "/x");
        assert_eq!(super::expand("a$", l), "a$");
        // Go's os.Expand, case by case.
        assert_eq!(super::expand("robot$team+ci", l), "robot+ci");
        assert_eq!(super::expand("a$$b", l), "ab");
        assert_eq!(super::expand("$1x", l), "x");
        assert_eq!(super::expand("a${}b", l), "ab");
        assert_eq!(super::expand("a${b", l), "ab");
        assert_eq!(super::expand("a$ b", l), "a$ b");
        assert_eq!(super::expand("é$CI_REGISTRY€", l), "ér.example.com:5050€");
    }
}
