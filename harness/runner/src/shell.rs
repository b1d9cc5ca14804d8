//! The little of a POSIX shell (bash, busybox sh) the script's registry lines need: words split
//! on blanks, '…' and "…" quoting with backslash escapes, `$VAR` / `${VAR}` expansion, and
//! command substitution `$(…)` over the pipelines .gitlab-ci.yml files use to write a
//! config.json: `printf "%s:%s" "$U" "$P" | base64 | tr -d '\n'`, `echo -n "$U:$P" | base64 -w 0`.
//! A standalone unquoted `>` is kept as the [`REDIRECT`] word. Anything else a shell would
//! interpret (pipes outside `$(…)`, `;`, `&&`, globbing, other programs) is refused.
//!
//! `base64` wraps its output at 76 columns unless `-w 0` (GNU coreutils; busybox 1.35 does the
//! same [OBS Debian busybox 1:1.35.0-4]); `$(…)` drops the trailing newlines only, so a
//! wrapped value keeps a newline inside. tests/shell_oracle.rs compares with busybox sh.

/// The word a standalone unquoted `>` becomes.
pub const REDIRECT: &str = "\u{0}>";

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Splits a line into words, expanding as the shell does.
pub fn words(line: &str, lookup: &impl Fn(&str) -> Option<String>) -> Result<Vec<String>, String> {
    split(line, lookup)
}

fn split(line: &str, lookup: Lookup<'_>) -> Result<Vec<String>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    // Whether the current word exists (a quoted empty string is a word).
    let mut any = false;
    let mut i = 0;
    let push = |out: &mut Vec<String>, cur: &mut String, any: &mut bool| {
        if *any {
            out.push(std::mem::take(cur));
            *any = false;
        }
    };
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => {
                push(&mut out, &mut cur, &mut any);
                i += 1;
            }
            '\'' => {
                any = true;
                i += 1;
                loop {
                    match chars.get(i) {
                        Some('\'') => break,
                        Some(c) => cur.push(*c),
                        None => return Err("unterminated '".into()),
                    }
                    i += 1;
                }
                i += 1;
            }
            '"' => {
                any = true;
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated \"".into()),
                        Some('"') => break,
                        Some('\\') => {
                            // Inside "…" a backslash escapes only $ ` " \ and newline.
                            match chars.get(i + 1) {
                                Some(n @ ('$' | '`' | '"' | '\\')) => {
                                    cur.push(*n);
                                    i += 2;
                                }
                                _ => {
                                    cur.push('\\');
                                    i += 1;
                                }
                            }
                        }
                        Some('$') => {
                            let (text, used) = dollar(&chars[i..], lookup)?;
                            cur.push_str(&text);
                            i += used;
                        }
                        Some('`') => return Err("backquote command substitution is not simulated".into()),
                        Some(c) => {
                            cur.push(*c);
                            i += 1;
                        }
                    }
                }
                i += 1;
            }
            '\\' => {
                any = true;
                if let Some(n) = chars.get(i + 1) {
                    cur.push(*n);
                }
                i += 2;
            }
            '$' => {
                let (text, used) = dollar(&chars[i..], lookup)?;
                i += used;
                // An unquoted expansion is split on blanks; one that comes out empty makes no
                // word (`-u $EMPTY -p x` is `-u -p x`).
                let mut parts = text.split([' ', '\t', '\n']).peekable();
                let mut first = true;
                while let Some(p) = parts.next() {
                    if !first {
                        push(&mut out, &mut cur, &mut any);
                    }
                    first = false;
                    if !p.is_empty() {
                        cur.push_str(p);
                        any = true;
                    }
                    if parts.peek().is_none() {
                        break;
                    }
                }
            }
            '>' if !any && matches!(chars.get(i + 1), None | Some(' ' | '\t')) => {
                out.push(REDIRECT.to_string());
                i += 1;
            }
            '|' | ';' | '&' | '<' | '>' | '`' | '(' | ')' => {
                return Err(format!("`{c}` outside quotes is not simulated"));
            }
            '*' | '?' | '[' => {
                // A glob would match the job's files, which regsim does not have.
                return Err(format!("the glob character `{c}` is not simulated"));
            }
            c => {
                any = true;
                cur.push(c);
                i += 1;
            }
        }
    }
    push(&mut out, &mut cur, &mut any);
    Ok(out)
}

/// A `$…` at the start of `chars`: its expansion and how many characters it took.
fn dollar(chars: &[char], lookup: Lookup<'_>) -> Result<(String, usize), String> {
    match chars.get(1) {
        Some('(') => {
            if chars.get(2) == Some(&'(') {
                return Err("arithmetic expansion is not simulated".into());
            }
            let end = closing_paren(chars, 1)?;
            let inner: String = chars[2..end].iter().collect();
            Ok((substitute(&inner, lookup)?, end + 1))
        }
        Some('{') => {
            let close = chars[2..].iter().position(|c| *c == '}').ok_or("unterminated ${")?;
            let name: String = chars[2..2 + close].iter().collect();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!("`${{{name}}}`: only plain ${{NAME}} is simulated"));
            }
            Ok((lookup(&name).unwrap_or_default(), close + 3))
        }
        Some(c) if c.is_ascii_alphabetic() || *c == '_' => {
            let n = chars[1..]
                .iter()
                .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                .count();
            let name: String = chars[1..1 + n].iter().collect();
            Ok((lookup(&name).unwrap_or_default(), n + 1))
        }
        Some(c) if "*#$@!?-0123456789".contains(*c) => Err(format!("the shell special `${c}` is not simulated")),
        _ => Ok(("$".into(), 1)),
    }
}

/// The index of the `)` closing the `(` at `open`, quotes respected.
fn closing_paren(chars: &[char], open: usize) -> Result<usize, String> {
    let mut depth = 0;
    let mut i = open;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (Some('"'), '\\') => i += 1,
            (Some('"'), '"') => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '\\') => i += 1,
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    Err("unterminated $(".into())
}

/// `$(…)`: a pipeline of the programs below; its output without the trailing newlines.
fn substitute(inner: &str, lookup: Lookup<'_>) -> Result<String, String> {
    let mut data: Option<Vec<u8>> = None;
    for stage in pipeline_stages(inner)? {
        let w = split(&stage, lookup)?;
        let (cmd, args) = w.split_first().ok_or("an empty pipeline stage")?;
        let input = data.take();
        let output = match (cmd.as_str(), input) {
            ("printf", None) => printf(args)?,
            ("echo", None) => echo(args)?,
            ("base64", Some(input)) => base64(args, &input)?,
            ("tr", Some(input)) if args == ["-d", "\\n"] => input.into_iter().filter(|b| *b != b'\n').collect(),
            (other, _) => return Err(format!("`{other}` in a command substitution is not simulated")),
        };
        data = Some(output);
    }
    let mut out = String::from_utf8(data.unwrap_or_default()).map_err(|_| "binary output".to_string())?;
    while out.ends_with('\n') {
        out.pop();
    }
    Ok(out)
}

/// The stages of `a | b | c`, split on unquoted `|`.
fn pipeline_stages(s: &str) -> Result<Vec<String>, String> {
    let mut stages = vec![String::new()];
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some('"'), '\\') => {
                stages.last_mut().expect("one").push(c);
                if let Some(n) = chars.next() {
                    stages.last_mut().expect("one").push(n);
                }
                continue;
            }
            (None, '\'' | '"') => quote = Some(c),
            (None, '|') => {
                if chars.peek() == Some(&'|') {
                    return Err("`||` is not simulated".into());
                }
                stages.push(String::new());
                continue;
            }
            _ => {}
        }
        stages.last_mut().expect("one").push(c);
    }
    if quote.is_some() {
        return Err("unterminated quote in $(…)".into());
    }
    Ok(stages)
}

/// `printf FORMAT ARGS…` with `%s` and `%%` and the escapes `\n`, `\t`, `\\`; as many
/// arguments as conversions.
fn printf(args: &[String]) -> Result<Vec<u8>, String> {
    let (format, mut rest) = match args.split_first() {
        Some((f, r)) => (f.as_str(), r.iter()),
        None => return Err("printf without a format".into()),
    };
    let mut out = String::new();
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => match chars.next() {
                Some('s') => out.push_str(rest.next().map(String::as_str).unwrap_or("")),
                Some('%') => out.push('%'),
                other => return Err(format!("printf conversion %{} is not simulated", other.unwrap_or(' '))),
            },
            '\\' => match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('\\') => out.push('\\'),
                other => return Err(format!("printf escape \\{} is not simulated", other.unwrap_or(' '))),
            },
            c => out.push(c),
        }
    }
    if rest.next().is_some() {
        return Err("printf with more arguments than conversions (it would repeat the format) is not simulated".into());
    }
    Ok(out.into_bytes())
}

/// `echo [-n] ARGS…`: the arguments joined by blanks; no escape processing.
fn echo(args: &[String]) -> Result<Vec<u8>, String> {
    let (newline, args) = match args.first().map(String::as_str) {
        Some("-n") => (false, &args[1..]),
        Some(f) if f.starts_with('-') && f.len() > 1 => return Err(format!("echo {f} is not simulated")),
        _ => (true, args),
    };
    if args.iter().any(|a| a.contains('\\')) {
        // Shells differ here (dash interprets backslashes, bash does not).
        return Err("echo of a backslash is not simulated".into());
    }
    let mut s = args.join(" ");
    if newline {
        s.push('\n');
    }
    Ok(s.into_bytes())
}

/// `base64 [-w COLS]`: wrapped at 76 columns by default, a final newline.
fn base64(args: &[String], input: &[u8]) -> Result<Vec<u8>, String> {
    use ::base64::Engine as _;
    let cols = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => 76,
        ["-w", n] | ["--wrap", n] => n.parse().map_err(|_| format!("base64 -w {n}"))?,
        [w] if w.starts_with("-w") || w.starts_with("--wrap=") => w
            .trim_start_matches("--wrap=")
            .trim_start_matches("-w")
            .parse()
            .map_err(|_| format!("base64 {w}"))?,
        other => return Err(format!("base64 {} is not simulated", other.join(" "))),
    };
    let encoded = ::base64::engine::general_purpose::STANDARD.encode(input);
    let mut out = String::new();
    if cols == 0 {
        out.push_str(&encoded);
    } else {
        for (i, c) in encoded.chars().enumerate() {
            if i > 0 && i % cols == 0 {
                out.push('\n');
            }
            out.push(c);
        }
    }
    if !encoded.is_empty() {
        out.push('\n');
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(k: &str) -> Option<String> {
        match k {
            "CI_REGISTRY" => Some("r.example.com:5050".into()),
            "U" => Some("project_42_bot_8f3b2a1c9d0e4f5a6b7c8d9e0f1a2b3c".into()),
            "P" => Some("glpat-Xq7Rk2Ld9Wm4Tn8Bv3Hc".into()),
            _ => None,
        }
    }

    #[test]
    fn words_split_quote_and_expand() {
        assert_eq!(
            words(r#"docker login -u 'a b' -p "$CI_REGISTRY" $CI_REGISTRY/x"#, &env).unwrap(),
            [
                "docker",
                "login",
                "-u",
                "a b",
                "-p",
                "r.example.com:5050",
                "r.example.com:5050/x"
            ]
        );
        assert!(words("docker 'x", &env).is_err());
        assert_eq!(words("a -u $NONE -p \"$NONE\"", &env).unwrap(), ["a", "-u", "-p", ""]);
        assert_eq!(
            words(r#"echo "a\"b\$c" > /f"#, &env).unwrap(),
            ["echo", "a\"b$c", REDIRECT, "/f"]
        );
        assert!(words("a | b", &env).is_err());
        assert!(words("a && b", &env).is_err());
    }

    #[test]
    fn command_substitution_wraps_base64_at_76() {
        let line = r#"echo "{\"auth\":\"$(printf "%s:%s" "${U}" "${P}" | base64)\"}""#;
        let w = words(line, &env).unwrap();
        assert_eq!(
            w[1],
            "{\"auth\":\"cHJvamVjdF80Ml9ib3RfOGYzYjJhMWM5ZDBlNGY1YTZiN2M4ZDllMGYxYTJiM2M6Z2xwYXQtWHE3\nUmsyTGQ5V200VG44QnYzSGM=\"}"
        );
        let fixed = r#"echo "$(printf "%s:%s" "${U}" "${P}" | base64 | tr -d '\n')""#;
        assert!(!words(fixed, &env).unwrap()[1].contains('\n'));
        let w0 = r#"echo "$(echo -n "$U:$P" | base64 -w 0)""#;
        assert_eq!(words(w0, &env).unwrap()[1], words(fixed, &env).unwrap()[1]);
    }
}
