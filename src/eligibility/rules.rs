//! The names of the per-call rule columns the tagging query computes, defined once and used by
//! SQL generation (`policy::rules_select`, `policy::tag_sql`) and by `explain`.

/// Officer-initiated: out of the denominator.
pub const SELF_INITIATED: &str = "x_self";
/// No category from the crosswalk or the classifier.
pub const UNMAPPED: &str = "x_unmapped";
/// Too little information to assess risk.
pub const INSUFFICIENT_INFO: &str = "x_info";
/// In scope for a community responder.
pub const SCOPE: &str = "s_scope";

/// Disqualifier `i` fires.
pub fn disqualifier(i: usize) -> String {
    format!("d_{i}")
}

/// Limitation `i` excludes the call.
pub fn limitation(i: usize) -> String {
    format!("l_{i}")
}

/// The fact limitation `i` depends on is not recorded for the call (an estimate applies).
pub fn unrecorded(i: usize) -> String {
    format!("u_{i}")
}

/// The probability that limitation `i` excludes the call when the fact is unrecorded.
pub fn likelihood(i: usize) -> String {
    format!("p_{i}")
}

/// Scenario flag: the scenario includes limitation `i`.
pub fn in_scenario(i: usize) -> String {
    format!("h_{i}")
}
