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

/// Pulls an authenticated free account may make per 6-hour window: 200 as Docker documented it
/// from November 2020 (docker/docs#20774, #20788); whether that still held after the 2025
/// announcements is NOT CONFIRMED (registries-identities.md §1.4). Only the RateLimit headers show
/// the number; the job log does not.
pub const AUTHENTICATED_PULLS_PER_WINDOW: u32 = 200;

/// One era of the authenticated rate limit's message; `{account}` and `{token_id}` are filled in.
pub const AUTHENTICATED_RATE_LIMIT: &[RateLimitMessage] = &[RateLimitMessage {
    since: datetime!(2026-01-01 00:00 UTC),
    message: "You have reached your pull rate limit as '{account}': {token_id}. You may increase the limit by upgrading. https://www.docker.com/increase-rate-limit",
    source: "[RPT] a GitHub Actions log of 2026-01-18 and client code that strips this exact text (registries-identities.md §1.4); earlier authenticated wording NOT CONFIRMED",
}];

/// The message for an account over its limit at `now`, or `None` where the wording is not known.
pub fn authenticated_rate_limit(now: OffsetDateTime) -> Option<&'static RateLimitMessage> {
    AUTHENTICATED_RATE_LIMIT.iter().rev().find(|e| e.since <= now)
}

/// The `details` of the token service's 429 after too many failed logins: the text users quote
/// from 2016 on (docker/hub-feedback#786, #2201, #2217); the body's shape (`{"details": …}`, as
/// for a wrong password) is INFERRED from distribution's client, which renders a 429 `details`
/// as `toomanyrequests: …` (registry/client/errors.go parseHTTPErrorResponse).
pub const TOO_MANY_FAILED_LOGINS: &str = "too many failed login attempts for username or IP address";

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
