//! JSON as Go's `encoding/json` writes it, where bytes matter: schema 1 manifests and the image
//! config dockerd derives from one are hashed, so their text must be Go's, not serde_json's.
//!
//! The differences that matter here: Go escapes `<`, `>`, `&`, U+2028 and U+2029 in strings
//! (`escapeHTML`), writes other control characters as `\u00XX` (lower-case hex), sorts map keys
//! by bytes, and compacts `json.RawMessage` values (escaping HTML in them too). Go 1.22 added the
//! short escapes `\b` and `\f`; the producers regsim imitates (distribution 2.x, moby 19.03 and
//! 20.10) were built with older Go, so those stay `\u0008` and `\u000c`.

use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A Go string literal: `json.Marshal(s)`.
pub fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `json.Compact` with `escapeHTML`, as `json.Marshal` applies it to a `RawMessage`: whitespace
/// outside strings goes; `<`, `>`, `&`, U+2028 and U+2029 become `\u` escapes. Assumes `raw` is
/// valid JSON (it comes from a parser).
pub fn compact(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in raw.chars() {
        if in_string {
            match c {
                _ if escaped => {
                    escaped = false;
                    out.push(c);
                }
                '\\' => {
                    escaped = true;
                    out.push(c);
                }
                '"' => {
                    in_string = false;
                    out.push(c);
                }
                '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    out
}

/// `json.Marshal(map[string]*json.RawMessage)`: keys sorted by bytes, values compacted.
pub fn object_of_raw(map: &BTreeMap<String, Box<RawValue>>) -> String {
    let mut out = String::from("{");
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&string(k));
        out.push(':');
        out.push_str(&compact(v.get()));
    }
    out.push('}');
    out
}

/// A JSON object's top-level members as raw text, keys sorted (Go's `map[string]*json.RawMessage`).
pub fn raw_members(json: &[u8]) -> Result<BTreeMap<String, Box<RawValue>>, String> {
    serde_json::from_slice(json).map_err(|e| e.to_string())
}

/// Raw JSON for a value regsim writes (`rawJSON(v)` in distribution and moby: `json.Marshal`).
pub fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text).expect("the caller passes JSON it wrote")
}

/// A `time.Time` re-marshalled: RFC 3339 with the fraction's trailing zeros cut (none when zero)
/// and `Z` for a zero offset (`time.RFC3339Nano`).
pub fn time(rfc3339: &str) -> Result<String, String> {
    use time::format_description::well_known::Rfc3339;
    let t =
        time::OffsetDateTime::parse(rfc3339, &Rfc3339).map_err(|e| format!("parsing time {}: {e}", string(rfc3339)))?;
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    if t.nanosecond() != 0 {
        let frac = format!("{:09}", t.nanosecond());
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
    let offset = t.offset();
    if offset.is_utc() {
        out.push('Z');
    } else {
        let (h, m, _) = offset.as_hms();
        out.push_str(&format!(
            "{}{:02}:{:02}",
            if offset.is_negative() { '-' } else { '+' },
            h.abs(),
            m.abs()
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_escape_as_go_does() {
        assert_eq!(
            string("a<b>&\"c\"\\\n\u{1}"),
            r#""a\u003cb\u003e\u0026\"c\"\\\n\u0001""#
        );
        assert_eq!(string("\u{2028}é"), "\"\\u2028é\"");
    }

    #[test]
    fn raw_messages_are_compacted_with_html_escaped() {
        assert_eq!(compact("{ \"a\" : [1, \"x <y>\"] }"), r#"{"a":[1,"x \u003cy\u003e"]}"#);
        assert_eq!(compact(r#""a\"<""#), r#""a\"\u003c""#);
    }

    #[test]
    fn times_print_as_rfc3339_nano() {
        assert_eq!(time("1970-01-01T00:00:00Z").unwrap(), "1970-01-01T00:00:00Z");
        assert_eq!(
            time("2021-02-01T09:00:00.120000000+00:00").unwrap(),
            "2021-02-01T09:00:00.12Z"
        );
        assert_eq!(time("2021-02-01T09:00:00-05:30").unwrap(), "2021-02-01T09:00:00-05:30");
    }

    #[test]
    fn maps_sort_their_keys() {
        let m = raw_members(br#"{"os":"linux","architecture":"amd64","config":{"Cmd":["/x"]}}"#).unwrap();
        assert_eq!(
            object_of_raw(&m),
            r#"{"architecture":"amd64","config":{"Cmd":["/x"]},"os":"linux"}"#
        );
    }
}
