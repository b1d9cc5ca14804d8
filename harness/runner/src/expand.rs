//! `$VAR` / `${VAR}` expansion as the runner does it (Go `os.Expand` over the job variables;
//! an unknown variable expands to nothing).

/// The job's `image:` after the runner's variable expansion (job variables, last one wins).
pub fn expanded_image(payload: &regsim_wire::job_api::JobPayload) -> String {
    expand(&payload.image.name, |k| payload.variable(k))
}

pub fn expand(s: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            if b[i + 1] == b'{'
                && let Some(end) = s[i + 2..].find('}')
            {
                let name = &s[i + 2..i + 2 + end];
                out.push_str(&lookup(name).unwrap_or_default());
                i += 3 + end;
                continue;
            }
            let name_len = s[i + 1..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            if name_len > 0 {
                out.push_str(&lookup(&s[i + 1..i + 1 + name_len]).unwrap_or_default());
                i += 1 + name_len;
                continue;
            }
        }
        let c = s[i..].chars().next().expect("in bounds");
        out.push(c);
        i += c.len_utf8();
    }
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
    }
}
