//! A scenario file's bytes before any YAML parser sees them: its size, its encoding and the
//! characters YAML does not allow. Each refusal names the byte offset, so the error can give the
//! line and column; a parser would say nothing (a file it cannot read) or point elsewhere.

use std::io::Read;
use std::path::Path;

/// The largest scenario file regsim reads. The catalogue's largest is a few kilobytes; the cap
/// keeps every later step (parsing, locating errors) short, whatever a file holds.
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Why a file's bytes are not a scenario's text, with the byte offset it was found at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error(
        "the file is larger than {MAX_FILE_BYTES} bytes (1 MiB), which regsim refuses to read; a scenario is a few kilobytes"
    )]
    TooLarge,
    #[error("the file is UTF-16 ({0} byte-order mark); save it as UTF-8")]
    Utf16(&'static str),
    #[error("invalid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8")]
    NotUtf8 { byte: u8 },
    #[error("a NUL byte; the file looks like UTF-16 without a byte-order mark: save it as UTF-8")]
    NulUtf16,
    #[error("a NUL byte, which YAML does not allow in a file")]
    Nul,
    #[error(
        "control character {0}, which YAML does not allow in a file (in a double-quoted string, write it as an escape such as \"\\e\")"
    )]
    Control(String),
}

/// An [`InputError`] at a byte offset of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtOffset {
    pub offset: usize,
    pub error: InputError,
}

/// The file's first `MAX_FILE_BYTES + 1` bytes at most: a larger file is refused without
/// reading it whole.
pub fn read_capped(path: &Path) -> std::io::Result<Vec<u8>> {
    // A FIFO would block the read until a writer comes, a device would never end: only regular
    // files are scenarios (a link to one is followed).
    if !std::fs::metadata(path)?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The text of a file's bytes: UTF-8, at most [`MAX_FILE_BYTES`], a leading byte-order mark
/// dropped (editors on Windows write one; it is no part of the text).
pub fn decode(bytes: &[u8]) -> Result<&str, AtOffset> {
    let at = |offset, error| AtOffset { offset, error };
    if bytes.len() > MAX_FILE_BYTES {
        return Err(at(MAX_FILE_BYTES, InputError::TooLarge));
    }
    if bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(at(0, InputError::Utf16("little-endian")));
    }
    if bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(at(0, InputError::Utf16("big-endian")));
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let skipped = bytes.len() - body.len();
    let text = std::str::from_utf8(body).map_err(|e| {
        let offset = e.valid_up_to();
        at(skipped + offset, InputError::NotUtf8 { byte: body[offset] })
    })?;
    check_characters(text).map_err(|e| at(skipped + e.offset, e.error))?;
    Ok(text)
}

/// Text given as a string (not read from a file): the same size and character checks, and the
/// byte-order mark dropped.
pub fn check_text(text: &str) -> Result<&str, AtOffset> {
    if text.len() > MAX_FILE_BYTES {
        return Err(AtOffset {
            offset: MAX_FILE_BYTES,
            error: InputError::TooLarge,
        });
    }
    let body = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    check_characters(body)?;
    Ok(body)
}

/// YAML's printable set (YAML 1.1 §5.1, which libyaml's reader enforces): tab, line feed,
/// carriage return, NEL and everything else that is not a control character.
fn check_characters(text: &str) -> Result<(), AtOffset> {
    let Some((offset, c)) = text
        .char_indices()
        .find(|&(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{85}'))
    else {
        return Ok(());
    };
    let error = match c {
        // UTF-16 text of ASCII characters has a NUL beside every one of them.
        '\0' if looks_like_utf16(text.as_bytes(), offset) => InputError::NulUtf16,
        '\0' => InputError::Nul,
        c => InputError::Control(format!("U+{:04X}", c as u32)),
    };
    Err(AtOffset { offset, error })
}

fn looks_like_utf16(bytes: &[u8], nul: usize) -> bool {
    let neighbour_is_nul = |i: usize| bytes.get(i) == Some(&0);
    nul <= 1 && (neighbour_is_nul(nul + 2) || nul >= 2 && neighbour_is_nul(nul - 2))
}

/// Line and column (1-based, the column in characters) of a byte offset, counted over the
/// bytes before it (read as UTF-8 as far as they are).
pub fn line_and_column(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let column = 1 + String::from_utf8_lossy(&before[line_start..]).chars().count();
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_their_offset() {
        assert_eq!(decode(b"a: 1\nb: \xFF\n").unwrap_err().offset, 8);
        assert_eq!(
            decode(b"\xFF\xFEa\0").unwrap_err().error,
            InputError::Utf16("little-endian")
        );
        assert_eq!(decode(b"a\0:\0 \0").unwrap_err().error, InputError::NulUtf16);
        assert_eq!(decode(b"a: b\0").unwrap_err().error, InputError::Nul);
        assert_eq!(
            decode(b"a: \x1b[31m").unwrap_err().error,
            InputError::Control("U+001B".into())
        );
        assert_eq!(
            decode(&vec![b' '; MAX_FILE_BYTES + 1]).unwrap_err().error,
            InputError::TooLarge
        );
    }

    #[test]
    fn a_byte_order_mark_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFa: 1\n").unwrap(), "a: 1\n");
        assert_eq!(check_text("\u{FEFF}a: 1\n").unwrap(), "a: 1\n");
    }

    #[test]
    fn offsets_become_lines_and_columns() {
        assert_eq!(line_and_column(b"ab\ncd\xC3\xA9e", 7), (2, 4));
        assert_eq!(line_and_column(b"x", 0), (1, 1));
    }
}
