//! How sure the ranking is: the margin between the top two candidates, and what
//! evidence would settle a close call.

use super::Context;
use crate::rca::collect::NodeId;
use crate::rca::collect::NONE;
use crate::rca::{Candidate, Confidence, Factors};

/// How far apart the top two are, and what would settle a close call.
pub(super) fn confidence(
    ctx: &Context<'_>,
    cands: &[Candidate],
    scored: &[(NodeId, f64, Factors, Vec<String>)],
) -> Confidence {
    let (Some(first), second) = (scored.first(), scored.get(1)) else {
        return Confidence {
            level: "low",
            margin: 0.0,
            settle: None,
        };
    };
    let margin = second.map_or(1.0, |s| {
        if first.1 > 0.0 {
            (first.1 - s.1) / first.1
        } else {
            0.0
        }
    });
    let level = if margin >= 0.25 && first.1 >= 0.5 {
        "high"
    } else if margin >= 0.1 {
        "medium"
    } else {
        "low"
    };
    let settle = (margin < 0.25).then(|| {
        let (a, b) = (first.0, second.map_or(NONE, |s| s.0));
        let na = cands.first().map_or("", |c| c.service.as_str());
        let nb = cands.get(1).map_or("", |c| c.service.as_str());
        if b == NONE {
            return format!("more data around {na}'s onset");
        }
        let unseen: Vec<&str> = [(a, na), (b, nb)]
            .into_iter()
            .filter(|(x, _)| !ctx.c.nodes[*x as usize].observed())
            .map(|(_, n)| n)
            .collect();
        if !unseen.is_empty() {
            format!("logs or traces of {} (it has no telemetry of its own here)", unseen.join(" and "))
        } else if !ctx.callees[a as usize].contains(&b) && !ctx.callees[b as usize].contains(&a) {
            format!("traces showing whether {na} and {nb} call each other, or which one fails first")
        } else {
            format!("{na}'s and {nb}'s own errors at second resolution around the onset, to see which fails first")
        }
    });
    Confidence {
        level,
        margin,
        settle,
    }
}
