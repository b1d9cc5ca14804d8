//! Docker Hub's own words by date: a service, not a release, so its eras start on the day a
//! public report first shows the wording (docs/research/registries-identities.md §1.4). A
//! scenario's clock picks the row.

use time::OffsetDateTime;
use time::macros::datetime;

/// One era of the anonymous rate limit's `429 TOOMANYREQUESTS` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitMessage {
    pub since: OffsetDateTime,
    pub message: &'static str,
    pub source: &'static str,
}

/// Oldest first.
pub const ANONYMOUS_RATE_LIMIT: &[RateLimitMessage] = &[
    RateLimitMessage {
        since: datetime!(2020-11-02 00:00 UTC),
        message: "You have reached your pull rate limit. You may increase the limit by authenticating and upgrading: https://www.docker.com/increase-rate-limit",
        source: "[RPT] seen 2021-01 … 2023-03 (seed 002 quotes it in GitLab's docs; a jib log with the full body, apache/incubator-kie-kogito-runtimes#2864); the limits began 2020-11-02 (Docker's announcement)",
    },
    RateLimitMessage {
        since: datetime!(2025-05-01 00:00 UTC),
        message: "You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit",
        source: "[RPT] seen from 2025-05 (docker/hub-feedback#2464, #2505); the day it replaced the older wording is NOT CONFIRMED (between 2023-03 and 2025-05)",
    },
];

/// The message Docker Hub answers an anonymous client over its limit with at `now`.
pub fn anonymous_rate_limit(now: OffsetDateTime) -> &'static RateLimitMessage {
    ANONYMOUS_RATE_LIMIT
        .iter()
        .rev()
        .find(|e| e.since <= now)
        .unwrap_or(&ANONYMOUS_RATE_LIMIT[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wording_follows_the_clock() {
        assert!(
            anonymous_rate_limit(datetime!(2023-08-01 09:00 UTC))
                .message
                .starts_with("You have reached your pull rate limit.")
        );
        assert!(
            anonymous_rate_limit(datetime!(2025-11-01 09:00 UTC))
                .message
                .contains("unauthenticated")
        );
    }
}
