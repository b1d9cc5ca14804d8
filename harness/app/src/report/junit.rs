//! `regsim run --format junit`: one `<testcase>` per scenario file, in the JUnit XML that GitLab
//! reads for merge-request test reports (`artifacts:reports:junit`) and that the Jenkins JUnit
//! schema describes. A scenario that is not as expected is a `<failure>` whose message is the
//! first difference; a file that cannot be run is an `<error>`.

use super::{Entry, Status, first_difference};
use crate::run::render_text;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

pub fn render(entries: &[Entry]) -> String {
    let count = |s: Status| entries.iter().filter(|e| e.status() == s).count().to_string();
    let (tests, failures, errors) = (
        entries.len().to_string(),
        count(Status::NotAsExpected),
        count(Status::Broken),
    );
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write = |w: &mut Writer<Vec<u8>>, e: Event<'_>| w.write_event(e).expect("writing to memory");
    write(&mut w, Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let attrs = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", errors.as_str()),
    ];
    write(
        &mut w,
        Event::Start(BytesStart::new("testsuites").with_attributes([("name", "regsim")].into_iter().chain(attrs))),
    );
    write(
        &mut w,
        Event::Start(
            BytesStart::new("testsuite").with_attributes(
                [("name", "regsim scenarios")]
                    .into_iter()
                    .chain(attrs)
                    .chain([("skipped", "0")]),
            ),
        ),
    );
    for e in entries {
        let file = e.file.display().to_string();
        let name = match &e.result {
            Ok(r) => r.name.clone(),
            Err(_) => file_stem(&file),
        };
        write(
            &mut w,
            Event::Start(
                BytesStart::new("testcase").with_attributes([("name", name.as_str()), ("classname", file.as_str())]),
            ),
        );
        match &e.result {
            Err(error) => {
                let error = error.to_string();
                element(
                    &mut w,
                    "error",
                    &[("message", &error), ("type", "broken scenario")],
                    &error,
                )
            }
            Ok(r) => {
                if let Some(d) = first_difference(r) {
                    let mut body = String::new();
                    if let Some(x) = &d.expected {
                        body.push_str(&format!("expected: {x}\n"));
                    }
                    if let Some(a) = &d.actual {
                        body.push_str(&format!("job log:  {a}\n"));
                    }
                    element(
                        &mut w,
                        "failure",
                        &[("message", &d.message), ("type", "not as expected")],
                        &body,
                    );
                }
                element(&mut w, "system-out", &[], &render_text(r, false));
            }
        }
        write(&mut w, Event::End(BytesEnd::new("testcase")));
    }
    write(&mut w, Event::End(BytesEnd::new("testsuite")));
    write(&mut w, Event::End(BytesEnd::new("testsuites")));
    let mut out = String::from_utf8(w.into_inner()).expect("quick-xml writes UTF-8");
    out.push('\n');
    out
}

/// `<name attrs…>text</name>`; quick-xml escapes attribute values and text.
fn element(w: &mut Writer<Vec<u8>>, name: &str, attrs: &[(&str, &str)], text: &str) {
    let owned: Vec<(String, String)> = attrs.iter().map(|(k, v)| (k.to_string(), xml_safe(v))).collect();
    let start = BytesStart::new(name).with_attributes(owned.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    w.write_event(Event::Start(start)).expect("writing to memory");
    w.write_event(Event::Text(BytesText::new(&xml_safe(text))))
        .expect("writing to memory");
    w.write_event(Event::End(BytesEnd::new(name)))
        .expect("writing to memory");
}

/// XML 1.0 cannot carry most control characters, even escaped; raw job logs hold ESC (colour
/// codes) and CR. Replace them with their caret form so the text stays readable.
fn xml_safe(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' => c.to_string(),
            '\r' => "^M".to_string(),
            c if (c as u32) < 0x20 => format!("^{}", ((c as u8) + b'@') as char),
            c => c.to_string(),
        })
        .collect()
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}
