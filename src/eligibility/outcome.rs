//! Outcomes: each call gets exactly one per scenario, the first that applies in this order. The
//! SQL keeps them as strings (`eligibility.outcome`); Rust code names them with this enum.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    ExcludedSelfInitiated,
    OutOfHours,
    OutOfArea,
    /// The call type has no category from the crosswalk or the classifier: counted apart, never
    /// silently eligible or ineligible.
    Unmapped,
    InsufficientInfo,
    Disqualified,
    OutOfScope,
    Limited,
    Eligible,
}

impl Outcome {
    /// Every outcome in decision order.
    pub const ALL: [Outcome; 9] = [
        Outcome::ExcludedSelfInitiated,
        Outcome::OutOfHours,
        Outcome::OutOfArea,
        Outcome::Unmapped,
        Outcome::InsufficientInfo,
        Outcome::Disqualified,
        Outcome::OutOfScope,
        Outcome::Limited,
        Outcome::Eligible,
    ];

    /// The string stored in `eligibility.outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::ExcludedSelfInitiated => "excluded_self_initiated",
            Outcome::OutOfHours => "out_of_hours",
            Outcome::OutOfArea => "out_of_area",
            Outcome::Unmapped => "unmapped",
            Outcome::InsufficientInfo => "insufficient_info",
            Outcome::Disqualified => "disqualified",
            Outcome::OutOfScope => "out_of_scope",
            Outcome::Limited => "limited",
            Outcome::Eligible => "eligible",
        }
    }

    /// The `reason` string: the outcome, with the rule after `:` for disqualified / limited.
    pub fn reason(self, rule: Option<&str>) -> String {
        match rule {
            Some(r) => format!("{}:{r}", self.as_str()),
            None => self.as_str().to_string(),
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_orders() {
        for o in Outcome::ALL {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert!(Outcome::Unmapped < Outcome::InsufficientInfo && Outcome::InsufficientInfo < Outcome::Disqualified);
        assert_eq!(Outcome::Disqualified.reason(Some("weapon")), "disqualified:weapon");
        assert_eq!(Outcome::parse("nope"), None);
    }
}
