//! Content digests as registries and engines write them (`sha256:<hex>`).

use sha2::{Digest, Sha256};

/// `sha256:` and the lower-case hex SHA-256 of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}
