//! A call type → category and flags, from the profile's crosswalk first and the classifier for
//! types the crosswalk does not list. Each distinct raw value is normalised and looked up once.
use std::collections::HashMap;
use std::sync::Arc;

use crate::source::classify::{CategorySource, Classifier};
use crate::source::crosswalk::{normalize_key, Crosswalk, CATEGORIES};
use crate::warehouse::schema::FLAGS;

/// What callsift knows about one raw call type.
#[derive(Debug, Clone, PartialEq)]
pub struct MappedType {
    pub category: Option<&'static str>,
    pub flags: [bool; FLAGS.len()],
    pub third_party_p: Option<f64>,
    pub source: CategorySource,
    /// The classifier rule's confidence (classifier only).
    pub confidence: Option<f64>,
    /// The classifier rule(s) that fired (classifier only).
    pub rule: Option<Arc<str>>,
    /// The crosswalk key (normalised text), for reporting unmapped types.
    pub key: Arc<str>,
}

/// Bounds the cache: exports with free-text call types could otherwise grow it without limit.
const CACHE_CAP: usize = 200_000;
/// Longer raw values (free text in a type column, hostile input) are mapped but not cached.
const CACHE_KEY_BYTES: usize = 256;

pub struct TypeMap<'p> {
    crosswalk: &'p Crosswalk,
    classifier: &'p Classifier,
    cache: HashMap<String, MappedType, foldhash::fast::RandomState>,
    key: String,
    /// The answer for an uncached (over-long) value.
    last: Option<MappedType>,
}

impl<'p> TypeMap<'p> {
    pub fn new(crosswalk: &'p Crosswalk, classifier: &'p Classifier) -> Self {
        TypeMap { crosswalk, classifier, cache: HashMap::default(), key: String::new(), last: None }
    }

    /// Map a raw call type (cached per distinct raw value).
    pub fn map(&mut self, raw: &str) -> &MappedType {
        if raw.len() > CACHE_KEY_BYTES {
            let m = self.lookup(raw);
            return self.last.insert(m);
        }
        if !self.cache.contains_key(raw) {
            if self.cache.len() >= CACHE_CAP {
                self.cache.clear();
            }
            let m = self.lookup(raw);
            self.cache.insert(raw.to_string(), m);
        }
        &self.cache[raw]
    }

    fn lookup(&mut self, raw: &str) -> MappedType {
        normalize_key(raw, &mut self.key);
        let key: Arc<str> = Arc::from(self.key.as_str());
        if let Some(e) = self.crosswalk.get_normalized(&self.key) {
            return MappedType {
                category: CATEGORIES.iter().find(|c| **c == e.category).copied(),
                flags: e.flags,
                third_party_p: e.third_party_p,
                source: CategorySource::Crosswalk,
                confidence: None,
                rule: None,
                key,
            };
        }
        match self.classifier.classify(raw) {
            Some(c) => MappedType {
                category: Some(c.category),
                flags: c.flags,
                third_party_p: c.third_party_p,
                source: CategorySource::Classifier,
                confidence: Some(c.confidence),
                rule: Some(Arc::from(c.rule.as_str())),
                key,
            },
            None => MappedType {
                category: None,
                flags: [false; FLAGS.len()],
                third_party_p: None,
                source: CategorySource::Unmapped,
                confidence: None,
                rule: None,
                key,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn crosswalk_first_then_classifier_then_unmapped() {
        let cw = Crosswalk::parse(
            Path::new("cw.csv"),
            b"raw_type,category,police_type\nWELFARE CHECK,Assisting the Public,1\n",
        )
        .unwrap();
        let cl = Classifier::parse(
            Path::new("rules.csv"),
            "name,kind,pattern,category,confidence\nwelfare,category,WELF,Other (Not Crime),0.7\nnoise,category,NOISE,Complaints/Environmental Conditions,0.9\n",
        )
        .unwrap();
        let mut tm = TypeMap::new(&cw, &cl);
        let a = tm.map(" welfare  check").clone();
        assert_eq!((a.source, a.category), (CategorySource::Crosswalk, Some("Assisting the Public")));
        let b = tm.map("Loud noise").clone();
        assert_eq!(
            (b.source, b.category, b.confidence),
            (CategorySource::Classifier, Some("Complaints/Environmental Conditions"), Some(0.9))
        );
        assert_eq!(b.rule.as_deref(), Some("noise"));
        let c = tm.map("zzz").clone();
        assert_eq!((c.source, c.category, &*c.key), (CategorySource::Unmapped, None, "ZZZ"));
    }
}
