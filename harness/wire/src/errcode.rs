//! The registry's error vocabulary (docker/distribution `registry/api/errcode` and `api/v2`):
//! codes, their default messages and statuses, and the JSON body a registry writes. Both sides
//! use it: the mock registries write these bodies, the simulated engine reads them back.

use std::fmt;

/// Every code distribution registers (`registry/api/errcode/register.go`, `registry/api/v2/errors.go`
/// at v2.8.2; docker-errors.md §1.1), in its order, with its status. A code a client does
/// not know reads as `UNKNOWN` (`Errors.UnmarshalJSON`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Unknown,
    Unsupported,
    Unauthorized,
    Denied,
    Unavailable,
    TooManyRequests,
    DigestInvalid,
    SizeInvalid,
    NameInvalid,
    TagInvalid,
    NameUnknown,
    ManifestUnknown,
    ManifestInvalid,
    ManifestUnverified,
    ManifestBlobUnknown,
    BlobUnknown,
    BlobUploadUnknown,
    BlobUploadInvalid,
    PaginationNumberInvalid,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 19] = [
        ErrorCode::Unknown,
        ErrorCode::Unsupported,
        ErrorCode::Unauthorized,
        ErrorCode::Denied,
        ErrorCode::Unavailable,
        ErrorCode::TooManyRequests,
        ErrorCode::DigestInvalid,
        ErrorCode::SizeInvalid,
        ErrorCode::NameInvalid,
        ErrorCode::TagInvalid,
        ErrorCode::NameUnknown,
        ErrorCode::ManifestUnknown,
        ErrorCode::ManifestInvalid,
        ErrorCode::ManifestUnverified,
        ErrorCode::ManifestBlobUnknown,
        ErrorCode::BlobUnknown,
        ErrorCode::BlobUploadUnknown,
        ErrorCode::BlobUploadInvalid,
        ErrorCode::PaginationNumberInvalid,
    ];

    /// The code as it is written on the wire (`DENIED`).
    pub fn as_str(self) -> &'static str {
        self.entry().0
    }

    /// The registered default message (`requested access to the resource is denied`).
    pub fn message(self) -> &'static str {
        self.entry().1
    }

    /// The HTTP status the registry answers with.
    pub fn status(self) -> u16 {
        self.entry().2
    }

    /// A code as a client reads it: registered codes by their value, anything else `None`.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// `ErrorCode.Error()`: the value in lower case with `_` as spaces (`manifest unknown`).
    pub fn words(self) -> String {
        self.as_str().to_lowercase().replace('_', " ")
    }

    fn entry(self) -> (&'static str, &'static str, u16) {
        use ErrorCode::*;
        match self {
            Unknown => ("UNKNOWN", "unknown error", 500),
            Unsupported => ("UNSUPPORTED", "The operation is unsupported.", 405),
            Unauthorized => ("UNAUTHORIZED", "authentication required", 401),
            Denied => ("DENIED", "requested access to the resource is denied", 403),
            Unavailable => ("UNAVAILABLE", "service unavailable", 503),
            TooManyRequests => ("TOOMANYREQUESTS", "too many requests", 429),
            DigestInvalid => ("DIGEST_INVALID", "provided digest did not match uploaded content", 400),
            SizeInvalid => ("SIZE_INVALID", "provided length did not match content length", 400),
            NameInvalid => ("NAME_INVALID", "invalid repository name", 400),
            TagInvalid => ("TAG_INVALID", "manifest tag did not match URI", 400),
            NameUnknown => ("NAME_UNKNOWN", "repository name not known to registry", 404),
            ManifestUnknown => ("MANIFEST_UNKNOWN", "manifest unknown", 404),
            ManifestInvalid => ("MANIFEST_INVALID", "manifest invalid", 400),
            ManifestUnverified => ("MANIFEST_UNVERIFIED", "manifest failed signature verification", 400),
            ManifestBlobUnknown => ("MANIFEST_BLOB_UNKNOWN", "blob unknown to registry", 400),
            BlobUnknown => ("BLOB_UNKNOWN", "blob unknown to registry", 404),
            BlobUploadUnknown => ("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", 404),
            BlobUploadInvalid => ("BLOB_UPLOAD_INVALID", "blob upload invalid", 404),
            PaginationNumberInvalid => ("PAGINATION_NUMBER_INVALID", "invalid number of results requested", 400),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `{"errors":[{"code":…,"message":…,"detail":…}]}` plus the encoder's trailing newline, with the
/// code's default message; `detail` is left out when `None`.
pub fn body(code: ErrorCode, detail: Option<serde_json::Value>) -> String {
    body_with_message(code, code.message(), detail)
}

/// [`body`] with a message of the server's own (Docker Hub's rate limit, say).
pub fn body_with_message(code: ErrorCode, message: &str, detail: Option<serde_json::Value>) -> String {
    let mut e = serde_json::Map::new();
    e.insert("code".into(), code.as_str().into());
    e.insert("message".into(), message.into());
    if let Some(d) = detail {
        e.insert("detail".into(), d);
    }
    format!("{}\n", serde_json::json!({ "errors": [e] }))
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn codes_read_back_and_word_as_go_does() {
        for c in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(c.as_str()), Some(c));
        }
        assert_eq!(ErrorCode::parse("NOPE"), None);
        assert_eq!(ErrorCode::ManifestUnknown.words(), "manifest unknown");
        assert_eq!(
            super::body(ErrorCode::Denied, None),
            "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}\n"
        );
    }
}
