//! The registry's error vocabulary (docker/distribution `registry/api/errcode` and `api/v2`):
//! codes, their default messages, and the JSON body the registry writes.

/// A registered error code and its default message.
pub struct Code {
    pub value: &'static str,
    pub message: &'static str,
    pub status: u16,
}

pub const UNAUTHORIZED: Code = Code {
    value: "UNAUTHORIZED",
    message: "authentication required",
    status: 401,
};
pub const DENIED: Code = Code {
    value: "DENIED",
    message: "requested access to the resource is denied",
    status: 403,
};
pub const UNSUPPORTED: Code = Code {
    value: "UNSUPPORTED",
    message: "The operation is unsupported.",
    status: 405,
};
pub const MANIFEST_UNKNOWN: Code = Code {
    value: "MANIFEST_UNKNOWN",
    message: "manifest unknown",
    status: 404,
};
pub const BLOB_UNKNOWN: Code = Code {
    value: "BLOB_UNKNOWN",
    message: "blob unknown to registry",
    status: 404,
};
pub const BLOB_UPLOAD_UNKNOWN: Code = Code {
    value: "BLOB_UPLOAD_UNKNOWN",
    message: "blob upload unknown to registry",
    status: 404,
};
pub const DIGEST_INVALID: Code = Code {
    value: "DIGEST_INVALID",
    message: "provided digest did not match uploaded content",
    status: 400,
};
pub const MANIFEST_INVALID: Code = Code {
    value: "MANIFEST_INVALID",
    message: "manifest invalid",
    status: 400,
};
pub const MANIFEST_BLOB_UNKNOWN: Code = Code {
    value: "MANIFEST_BLOB_UNKNOWN",
    message: "blob unknown to registry",
    status: 400,
};
pub const NAME_INVALID: Code = Code {
    value: "NAME_INVALID",
    message: "invalid repository name",
    status: 400,
};

/// Every code the Docker client knows, with its default message (for the collapse rule of
/// `Errors.UnmarshalJSON`, docker-errors.md §1.1).
pub const KNOWN: &[(&str, &str)] = &[
    ("UNKNOWN", "unknown error"),
    ("UNSUPPORTED", "The operation is unsupported."),
    ("UNAUTHORIZED", "authentication required"),
    ("DENIED", "requested access to the resource is denied"),
    ("UNAVAILABLE", "service unavailable"),
    ("TOOMANYREQUESTS", "too many requests"),
    ("DIGEST_INVALID", "provided digest did not match uploaded content"),
    ("SIZE_INVALID", "provided length did not match content length"),
    ("NAME_INVALID", "invalid repository name"),
    ("TAG_INVALID", "manifest tag did not match URI"),
    ("NAME_UNKNOWN", "repository name not known to registry"),
    ("MANIFEST_UNKNOWN", "manifest unknown"),
    ("MANIFEST_INVALID", "manifest invalid"),
    ("MANIFEST_UNVERIFIED", "manifest failed signature verification"),
    ("MANIFEST_BLOB_UNKNOWN", "blob unknown to registry"),
    ("BLOB_UNKNOWN", "blob unknown to registry"),
    ("BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry"),
    ("BLOB_UPLOAD_INVALID", "blob upload invalid"),
    ("PAGINATION_NUMBER_INVALID", "invalid number of results requested"),
];

/// `{"errors":[{"code":…,"message":…,"detail":…}]}` plus the encoder's trailing newline; `detail`
/// is left out when `None`.
pub fn body(code: &Code, detail: Option<serde_json::Value>) -> String {
    let mut e = serde_json::Map::new();
    e.insert("code".into(), code.value.into());
    e.insert("message".into(), code.message.into());
    if let Some(d) = detail {
        e.insert("detail".into(), d);
    }
    format!("{}\n", serde_json::json!({ "errors": [e] }))
}
