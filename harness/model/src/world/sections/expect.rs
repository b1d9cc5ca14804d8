//! `expect:`: the outcome, the lines the log must hold (after the seed post's redactions), and
//! the post's lines the log cannot contain.

use super::Ctx;
use crate::scenario::{Scenario, ScenarioError};
use crate::world::{Expect, Redaction};

pub(super) fn build(ctx: &Ctx<'_>, s: &Scenario) -> Result<Expect, ScenarioError> {
    let post_redactions = s
        .expect
        .post_redactions
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let field = format!("expect.post_redactions[{i}]");
            match (&r.replace, &r.pattern) {
                (Some(t), None) => Ok(Redaction::Text {
                    replace: t.clone(),
                    with: r.with.clone(),
                }),
                (None, Some(p)) => regex::Regex::new(p)
                    .map(|pattern| Redaction::Pattern {
                        pattern,
                        with: r.with.clone(),
                    })
                    .map_err(|e| {
                        // The regex crate's message draws a caret under the pattern over several
                        // lines; its last line is the reason.
                        let why = e.to_string().lines().last().unwrap_or_default().to_string();
                        ctx.err(&format!("{field}.pattern"), format!("not a regular expression ({why})"))
                    }),
                _ => Err(ctx.err(&field, "give exactly one of `replace` and `pattern`")),
            }
        })
        .collect::<Result<_, _>>()?;
    Ok(Expect {
        outcome: s.expect.outcome,
        lines: s.expect.lines.clone(),
        post_redactions,
        not_reproduced: s
            .expect
            .not_reproduced
            .iter()
            .map(|n| (n.line.clone(), n.why.trim().to_string()))
            .collect(),
    })
}
