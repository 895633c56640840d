//! Value maps: a profile's table from a raw export value (priority `2B`, call source `ONVIEW`, unit
//! id `CR12`) to a canonical one, matching exactly, by prefix or by leading digits.
use std::collections::BTreeMap;

use serde::Deserialize;

use crate::source::crosswalk::normalize_key;

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum MatchKind {
    #[default]
    Exact,
    /// Longest listed prefix wins (e.g. unit ids `CR12` → community responder).
    Prefix,
    /// Leading digits of the value (priorities like `2B` → 2). `values` still take precedence.
    LeadingDigits,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValueMapToml<T> {
    #[serde(default = "BTreeMap::new")]
    pub(crate) values: BTreeMap<String, T>,
    pub(crate) default: Option<T>,
    #[serde(default, rename = "match")]
    pub(crate) match_kind: MatchKind,
}

/// A value mapping with keys normalised like call types (case and spacing ignored).
#[derive(Debug, Clone)]
pub struct ValueMap<T> {
    exact: std::collections::HashMap<String, T, foldhash::fast::RandomState>,
    /// Prefixes, longest first.
    prefixes: Vec<(String, T)>,
    pub default: Option<T>,
    pub match_kind: MatchKind,
}

impl<T: Clone> ValueMap<T> {
    pub(crate) fn from_toml(t: ValueMapToml<T>) -> Self {
        let mut key = String::new();
        let mut exact = std::collections::HashMap::default();
        let mut prefixes = Vec::new();
        for (k, v) in t.values {
            normalize_key(&k, &mut key);
            if t.match_kind == MatchKind::Prefix {
                prefixes.push((key.clone(), v));
            } else {
                exact.insert(key.clone(), v);
            }
        }
        prefixes.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        ValueMap { exact, prefixes, default: t.default, match_kind: t.match_kind }
    }

    /// `key` must already be normalised. `None` = not mapped (caller applies the default and counts it).
    pub fn lookup(&self, key: &str) -> Option<&T> {
        if let Some(v) = self.exact.get(key) {
            return Some(v);
        }
        self.prefixes.iter().find(|(p, _)| key.starts_with(p.as_str())).map(|(_, v)| v)
    }

    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.prefixes.is_empty()
    }

    /// Every listed (normalised key, value), exact keys and prefixes alike, in no particular order
    /// (`callsift sample --profile` inverts the map to write raw codes).
    pub fn entries(&self) -> impl Iterator<Item = (&str, &T)> {
        self.exact.iter().map(|(k, v)| (k.as_str(), v)).chain(self.prefixes.iter().map(|(k, v)| (k.as_str(), v)))
    }

    pub fn values(&self) -> impl Iterator<Item = &T> {
        self.exact.values().chain(self.prefixes.iter().map(|(_, v)| v))
    }
}
