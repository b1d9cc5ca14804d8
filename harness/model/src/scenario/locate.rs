//! Finds where a field sits in a scenario's YAML text, for errors found after parsing (an
//! unknown project in `job.project`, say). Walks the parser's events with their marks.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Line and column (1-based) of the value at `path` (`job.project`, `projects[1].path`).
pub fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let want = parse_path(path)?;
    let mut rec = Recorder { events: Vec::new() };
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut rec, false).ok()?;
    let mut i = 0;
    // Skip StreamStart / DocumentStart.
    while i < rec.events.len() && !matches!(rec.events[i].0, Event::MappingStart(..) | Event::SequenceStart(..)) {
        i += 1;
    }
    let mut mark = rec.events.get(i)?.1;
    for step in &want {
        match (&rec.events[i].0, step) {
            (Event::MappingStart(..), Step::Key(k)) => {
                i += 1;
                loop {
                    match &rec.events.get(i)?.0 {
                        Event::MappingEnd => return None,
                        Event::Scalar(s, ..) if s == k => {
                            mark = rec.events[i].1;
                            i += 1;
                            break;
                        }
                        _ => {
                            i = skip(&rec.events, i); // key
                            i = skip(&rec.events, i); // value
                        }
                    }
                }
                // Point at the value when it is a scalar on the same line, else at the key.
                if let Event::Scalar(..) = rec.events[i].0 {
                    mark = rec.events[i].1;
                }
            }
            (Event::SequenceStart(..), Step::Index(n)) => {
                i += 1;
                for _ in 0..*n {
                    if matches!(rec.events.get(i)?.0, Event::SequenceEnd) {
                        return None;
                    }
                    i = skip(&rec.events, i);
                }
                if matches!(rec.events.get(i)?.0, Event::SequenceEnd) {
                    return None;
                }
                mark = rec.events[i].1;
            }
            _ => return None,
        }
    }
    Some((mark.line(), mark.col() + 1))
}

struct Recorder {
    events: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Recorder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.events.push((ev, mark));
    }
}

/// Index just past the node starting at `i`.
fn skip(events: &[(Event, Marker)], mut i: usize) -> usize {
    let mut depth = 0usize;
    loop {
        match events.get(i).map(|e| &e.0) {
            None => return i,
            Some(Event::MappingStart(..) | Event::SequenceStart(..)) => depth += 1,
            Some(Event::MappingEnd | Event::SequenceEnd) => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
        if depth == 0 {
            return i;
        }
    }
}

enum Step {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (key, rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            steps.push(Step::Key(key.to_string()));
        }
        for idx in rest.split('[').filter(|s| !s.is_empty()) {
            steps.push(Step::Index(idx.trim_end_matches(']').parse().ok()?));
        }
    }
    Some(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_fields() {
        let t = "a: 1\njob:\n  project: x/y\nprojects:\n  - path: p\n  - path: q\n    created_in: 16.0\n";
        assert_eq!(locate(t, "job.project"), Some((3, 12)));
        assert_eq!(locate(t, "projects[1].created_in"), Some((7, 17)));
        assert_eq!(locate(t, "projects[1]").map(|(l, _)| l), Some(6));
        assert_eq!(locate(t, "nope"), None);
    }
}
