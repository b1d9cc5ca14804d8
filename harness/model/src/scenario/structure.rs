//! What a scenario's YAML must be before it is deserialized: one document, nested at most
//! [`MAX_DEPTH`] levels, with each key once per mapping. Checked on libyaml's token stream — the
//! scanner `serde_yaml_ng` parses with, so both see the same collections — as it is produced:
//! the check stops at the first level too deep, before the parsers' work grows with depth × size
//! (libyaml and yaml-rust2 look at every open flow level for each token; 100 000 nested `[` took
//! a minute).

use std::collections::HashSet;
use unsafe_libyaml as unsafe_sys;

/// How deep collections may nest. A scenario nests five or six levels; `serde_yaml_ng` stops
/// at 128 anyway, but only after the whole file has been scanned.
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StructureError {
    #[error(
        "collections nested more than {MAX_DEPTH} levels deep, which regsim refuses before parsing (a scenario nests five or six; YAML parsers slow down with every level)"
    )]
    TooDeep,
    #[error("a second YAML document starts here; a scenario file is one document")]
    SecondDocument,
    #[error(
        "duplicate key `{0}`: this mapping already has it (YAML keys are unique; regsim does not let the last one win)"
    )]
    DuplicateKey(String),
}

/// A [`StructureError`] where it was found: 1-based line and column, and the field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub line: usize,
    pub column: usize,
    pub field: Option<String>,
    pub error: StructureError,
}

/// Checks `text` (already within the size cap). Syntax errors are left to the parser, which
/// reports them with its own words and the same position.
pub fn check(text: &str) -> Result<(), Found> {
    let mut walk = Walk::default();
    let mut tokens = Tokens::new(text);
    while let Some(token) = tokens.next_token() {
        let mark = token.mark;
        walk.step(token).map_err(|(error, field)| Found {
            line: mark.0 + 1,
            column: mark.1 + 1,
            field,
            error,
        })?;
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    StreamEnd,
    DocumentStart,
    DocumentEnd,
    BlockSequenceStart,
    BlockMappingStart,
    BlockEnd,
    FlowSequenceStart,
    FlowSequenceEnd,
    FlowMappingStart,
    FlowMappingEnd,
    BlockEntry,
    FlowEntry,
    Key,
    Alias,
    Scalar,
    /// Stream start, directives, values, anchors and tags: no bearing on the checks.
    Other,
}

struct Token {
    kind: Kind,
    /// 0-based line and column.
    mark: (usize, usize),
    /// A scalar's value.
    value: Option<String>,
}

/// One open collection, with where the walk is inside it (for the field path).
enum Frame {
    Map {
        keys: HashSet<String>,
        current: Option<String>,
    },
    Seq {
        index: Option<usize>,
        flow: bool,
    },
    /// `key:` followed by `- item` lines at the key's own indentation: libyaml sends no start or
    /// end token for such a sequence.
    IndentlessSeq {
        index: usize,
    },
}

#[derive(Default)]
struct Walk {
    frames: Vec<Frame>,
    /// The next scalar is a key of the innermost mapping.
    key_expected: bool,
    content_seen: bool,
    document_ended: bool,
}

type Refusal = (StructureError, Option<String>);

impl Walk {
    fn step(&mut self, token: Token) -> Result<(), Refusal> {
        match token.kind {
            Kind::DocumentStart if self.content_seen => return Err((StructureError::SecondDocument, None)),
            Kind::DocumentEnd => self.document_ended = true,
            Kind::BlockMappingStart | Kind::FlowMappingStart => {
                self.node()?;
                self.push(Frame::Map {
                    keys: HashSet::new(),
                    current: None,
                })?;
            }
            Kind::BlockSequenceStart | Kind::FlowSequenceStart => {
                self.node()?;
                let flow = token.kind == Kind::FlowSequenceStart;
                self.push(Frame::Seq {
                    index: flow.then_some(0),
                    flow,
                })?;
            }
            Kind::BlockEnd => {
                if matches!(self.frames.last(), Some(Frame::IndentlessSeq { .. })) {
                    self.frames.pop();
                }
                self.frames.pop();
            }
            Kind::FlowSequenceEnd | Kind::FlowMappingEnd => {
                self.frames.pop();
            }
            Kind::BlockEntry => self.block_entry()?,
            Kind::FlowEntry => {
                if let Some(Frame::Seq {
                    index: Some(i),
                    flow: true,
                }) = self.frames.last_mut()
                {
                    *i += 1;
                }
            }
            Kind::Key => {
                if matches!(self.frames.last(), Some(Frame::IndentlessSeq { .. })) {
                    self.frames.pop();
                }
                self.key_expected = matches!(self.frames.last(), Some(Frame::Map { .. }));
            }
            Kind::Scalar => {
                self.node()?;
                if std::mem::take(&mut self.key_expected) {
                    self.key(token.value.unwrap_or_default())?;
                }
            }
            Kind::Alias => {
                self.node()?;
                self.key_expected = false;
            }
            Kind::StreamEnd | Kind::DocumentStart | Kind::Other => {}
        }
        Ok(())
    }

    /// A node begins: content after an explicit `...` is a second document.
    fn node(&mut self) -> Result<(), Refusal> {
        if self.document_ended && self.content_seen {
            return Err((StructureError::SecondDocument, None));
        }
        self.content_seen = true;
        Ok(())
    }

    fn push(&mut self, frame: Frame) -> Result<(), Refusal> {
        // A collection as a key (`? [a]: b`) is no string key to compare.
        self.key_expected = false;
        if self.frames.len() >= MAX_DEPTH {
            return Err(self.too_deep());
        }
        self.frames.push(frame);
        Ok(())
    }

    fn block_entry(&mut self) -> Result<(), Refusal> {
        match self.frames.last_mut() {
            Some(Frame::Seq { index, flow: false }) => *index = Some(index.map_or(0, |i| i + 1)),
            Some(Frame::IndentlessSeq { index }) => *index += 1,
            Some(Frame::Map { .. }) => {
                if self.frames.len() >= MAX_DEPTH {
                    return Err(self.too_deep());
                }
                self.frames.push(Frame::IndentlessSeq { index: 0 });
            }
            _ => {}
        }
        Ok(())
    }

    fn key(&mut self, key: String) -> Result<(), Refusal> {
        let parent = path_of(&self.frames[..self.frames.len().saturating_sub(1)]);
        let Some(Frame::Map { keys, current }) = self.frames.last_mut() else {
            return Ok(());
        };
        let field = if parent.is_empty() {
            key.clone()
        } else {
            format!("{parent}.{key}")
        };
        if !keys.insert(key.clone()) {
            return Err((StructureError::DuplicateKey(key), Some(field)));
        }
        *current = Some(key);
        Ok(())
    }

    /// Too deep, named by the field the nesting starts in (its first three levels): the whole
    /// path would be 64 steps of `[0]`.
    fn too_deep(&self) -> Refusal {
        (
            StructureError::TooDeep,
            Some(path_of(&self.frames[..3.min(self.frames.len())])),
        )
    }
}

/// The dotted path of where the walk is in `frames` (`projects[1].members`), as errors name
/// fields.
fn path_of(frames: &[Frame]) -> String {
    let mut out = String::new();
    for f in frames {
        match f {
            Frame::Map { current: Some(k), .. } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Frame::Seq { index: Some(i), .. } | Frame::IndentlessSeq { index: i } => {
                out.push_str(&format!("[{i}]"));
            }
            _ => {}
        }
    }
    out
}

/// libyaml's scanner over a string, one token at a time. The scanner looks at most 1024
/// characters ahead (a possible simple key goes stale after that), so tokens arrive as the text
/// is read and the walk can stop early.
struct Tokens<'a> {
    /// Boxed: libyaml keeps a pointer to the parser in the parser (its read handler's data).
    parser: Box<std::mem::MaybeUninit<unsafe_sys::yaml_parser_t>>,
    initialised: bool,
    done: bool,
    /// The input must outlive the parser.
    _text: &'a str,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Tokens<'a> {
        let mut parser = Box::new(std::mem::MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: `parser` is heap-allocated and never moves while libyaml holds pointers into
        // it; it is initialised before use (a failed initialisation is only an allocation
        // failure, reported as no tokens) and deleted in `drop`; `text` outlives it.
        let ok = unsafe {
            let p = parser.as_mut_ptr();
            let ok = unsafe_sys::yaml_parser_initialize(p).ok;
            if ok {
                unsafe_sys::yaml_parser_set_input_string(p, text.as_ptr(), text.len() as u64);
            }
            ok
        };
        Tokens {
            parser,
            initialised: ok,
            done: !ok,
            _text: text,
        }
    }

    /// The next token, or `None` at the stream's end or at a scanner error.
    fn next_token(&mut self) -> Option<Token> {
        if self.done {
            return None;
        }
        let mut raw = std::mem::MaybeUninit::<unsafe_sys::yaml_token_t>::uninit();
        // SAFETY: the parser was initialised in `new` (`done` is set otherwise); a token that
        // `yaml_parser_scan` fills is read, its scalar copied out, then deleted once.
        unsafe {
            if unsafe_sys::yaml_parser_scan(self.parser.as_mut_ptr(), raw.as_mut_ptr()).fail {
                self.done = true;
                return None;
            }
            let raw = raw.assume_init_mut();
            let token = Token {
                kind: kind(raw.type_),
                mark: (raw.start_mark.line as usize, raw.start_mark.column as usize),
                value: (raw.type_ == unsafe_sys::YAML_SCALAR_TOKEN).then(|| {
                    let s = raw.data.scalar;
                    let bytes = std::slice::from_raw_parts(s.value, s.length as usize);
                    String::from_utf8_lossy(bytes).into_owned()
                }),
            };
            unsafe_sys::yaml_token_delete(raw);
            if token.kind == Kind::StreamEnd {
                self.done = true;
            }
            Some(token)
        }
    }
}

impl Drop for Tokens<'_> {
    fn drop(&mut self) {
        // SAFETY: deleted once, and only when `new` initialised it (a failed initialisation
        // has freed what it allocated).
        if self.initialised {
            unsafe { unsafe_sys::yaml_parser_delete(self.parser.as_mut_ptr()) }
        }
    }
}

fn kind(t: unsafe_sys::yaml_token_type_t) -> Kind {
    match t {
        unsafe_sys::YAML_STREAM_END_TOKEN => Kind::StreamEnd,
        unsafe_sys::YAML_DOCUMENT_START_TOKEN => Kind::DocumentStart,
        unsafe_sys::YAML_DOCUMENT_END_TOKEN => Kind::DocumentEnd,
        unsafe_sys::YAML_BLOCK_SEQUENCE_START_TOKEN => Kind::BlockSequenceStart,
        unsafe_sys::YAML_BLOCK_MAPPING_START_TOKEN => Kind::BlockMappingStart,
        unsafe_sys::YAML_BLOCK_END_TOKEN => Kind::BlockEnd,
        unsafe_sys::YAML_FLOW_SEQUENCE_START_TOKEN => Kind::FlowSequenceStart,
        unsafe_sys::YAML_FLOW_SEQUENCE_END_TOKEN => Kind::FlowSequenceEnd,
        unsafe_sys::YAML_FLOW_MAPPING_START_TOKEN => Kind::FlowMappingStart,
        unsafe_sys::YAML_FLOW_MAPPING_END_TOKEN => Kind::FlowMappingEnd,
        unsafe_sys::YAML_BLOCK_ENTRY_TOKEN => Kind::BlockEntry,
        unsafe_sys::YAML_FLOW_ENTRY_TOKEN => Kind::FlowEntry,
        unsafe_sys::YAML_KEY_TOKEN => Kind::Key,
        unsafe_sys::YAML_ALIAS_TOKEN => Kind::Alias,
        unsafe_sys::YAML_SCALAR_TOKEN => Kind::Scalar,
        _ => Kind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(text: &str) -> Found {
        check(text).unwrap_err()
    }

    #[test]
    fn duplicate_keys_are_refused_where_they_repeat() {
        let f = refusal("groups:\n  - path: g\n    members: {alice: guest, alice: reporter}\n");
        assert_eq!(f.error, StructureError::DuplicateKey("alice".into()));
        assert_eq!((f.line, f.column), (3, 29));
        assert_eq!(f.field.as_deref(), Some("groups[0].members.alice"));
        let f = refusal("a: 1\nb:\n  - x\n  - y\n\"a\": 2\n");
        assert_eq!((f.line, f.field.as_deref()), (5, Some("a")));
        check("a: {x: 1}\nb: {x: 1}\nc:\n- {x: 1, y: 2}\n- {x: 1}\n").unwrap();
    }

    #[test]
    fn one_document_only() {
        assert_eq!(refusal("a: 1\n---\nb: 2\n").error, StructureError::SecondDocument);
        assert_eq!(refusal("a: 1\n...\nb: 2\n").line, 3);
        check("---\na: 1\n...\n").unwrap();
    }

    #[test]
    fn deep_nesting_stops_early_and_in_linear_time() {
        let deep = format!("a: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let f = refusal(&deep);
        assert_eq!(f.error, StructureError::TooDeep);
        assert_eq!((f.line, f.column), (1, 4 + MAX_DEPTH - 1));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let block: String = (0..70).map(|i| format!("{}k{i}:\n", " ".repeat(i))).collect();
        assert_eq!(refusal(&block).error, StructureError::TooDeep);
        check(&format!(
            "a: {}{}\n",
            "[".repeat(MAX_DEPTH - 1),
            "]".repeat(MAX_DEPTH - 1)
        ))
        .unwrap();
    }
}
