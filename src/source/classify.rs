//! The call-type classifier: categorises raw call types that no crosswalk lists, from ordered
//! rules in a data file (`profiles/classifier_rules.csv`) — patterns over the normalised type text,
//! no per-city code.
//!
//! Normalised text: upper case, every character other than A–Z / 0–9 a space, runs of spaces
//! collapsed (`6X - Major Dist (Violence)` → `6X MAJOR DIST VIOLENCE`). `category` rules are tried
//! in file order and the first match gives the category, its flags, third-party likelihood and
//! confidence; every matching `modifier` rule ORs its flags in (`… WEAPON`, `… I/P`). No category
//! rule matching means the type stays unmapped.
use std::path::Path;
use std::sync::{Arc, OnceLock};

use regex::bytes::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use crate::assets::{self, Asset};
use crate::error::{Error, Result};
use crate::source::crosswalk::{read_flags, row_error, CATEGORIES};
use crate::warehouse::schema::{Flag, FLAGS};

/// Where a call's category came from (the `category_source` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CategorySource {
    Crosswalk,
    Classifier,
    Unmapped,
}

impl CategorySource {
    pub const ALL: [CategorySource; 3] =
        [CategorySource::Crosswalk, CategorySource::Classifier, CategorySource::Unmapped];

    pub fn as_str(self) -> &'static str {
        match self {
            CategorySource::Crosswalk => "crosswalk",
            CategorySource::Classifier => "classifier",
            CategorySource::Unmapped => "unmapped",
        }
    }
}

/// The classifier's answer for one call type.
#[derive(Debug, Clone, PartialEq)]
pub struct Classified {
    pub category: &'static str,
    pub flags: [bool; FLAGS.len()],
    pub third_party_p: Option<f64>,
    /// The category rule's stated confidence, 0..1.
    pub confidence: f64,
    /// Name of the category rule that fired, then any modifiers (`suicide+weapon`).
    pub rule: String,
}

#[derive(Debug, Clone)]
struct CategoryRule {
    name: String,
    category: &'static str,
    flags: [bool; FLAGS.len()],
    third_party_p: Option<f64>,
    confidence: f64,
}

#[derive(Debug, Clone)]
struct ModifierRule {
    name: String,
    pattern: Regex,
    flags: [bool; FLAGS.len()],
}

#[derive(Debug, Clone)]
pub struct Classifier {
    pub origin: std::path::PathBuf,
    categories: Vec<CategoryRule>,
    category_set: RegexSet,
    modifiers: Vec<ModifierRule>,
}

/// The classifier's text normalisation (see the module docs).
pub fn normalize_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut space = false;
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c.to_ascii_uppercase());
        } else {
            space = true;
        }
    }
    out
}

const RULES_FILE: &str = "classifier_rules.csv";

impl Classifier {
    /// The built-in rules, or `./profiles/classifier_rules.csv` when present (loaded once a process).
    pub fn load_default() -> Result<Arc<Classifier>> {
        static DEFAULT: OnceLock<Arc<Classifier>> = OnceLock::new();
        if let Some(c) = DEFAULT.get() {
            return Ok(c.clone());
        }
        let asset = assets::find("profiles", RULES_FILE)
            .ok_or_else(|| Error::Asset(format!("profiles/{RULES_FILE} is missing from this build")))?;
        let c = Arc::new(Classifier::from_asset(&asset)?);
        Ok(DEFAULT.get_or_init(|| c).clone())
    }

    pub fn from_asset(asset: &Asset) -> Result<Classifier> {
        Classifier::parse(&asset.origin, &asset.text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Classifier> {
        let mut rdr = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
        let headers =
            rdr.headers().map_err(|e| Error::config(path, "header", format!("not a CSV header: {e}")))?.clone();
        let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
        let need =
            |name: &str| col(name).ok_or_else(|| Error::config(path, "header", format!("missing column `{name}`")));
        let (name_i, kind_i, pat_i, cat_i) = (need("name")?, need("kind")?, need("pattern")?, need("category")?);
        let (tp_i, conf_i) = (col("third_party_likelihood"), col("confidence"));
        let flag_i: Vec<Option<usize>> = FLAGS.iter().map(|f| col(f)).collect();
        let mut categories = Vec::new();
        let mut patterns = Vec::new();
        let mut modifiers = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| row_error(path, e))?;
            let line = rec.position().map(|p| p.line()).unwrap_or(0);
            let at = |c: &str| format!("line {line}, {c}");
            let get = |i: usize| rec.get(i).unwrap_or("").trim();
            let name = get(name_i).to_string();
            let pattern = ascii_regex(get(pat_i)).map_err(|e| Error::config(path, at("pattern"), e.to_string()))?;
            let flags = read_flags(path, line, &flag_i, get)?;
            match get(kind_i) {
                "category" => {
                    let c = get(cat_i);
                    let category = CATEGORIES.iter().find(|k| k.eq_ignore_ascii_case(c)).copied().ok_or_else(|| {
                        Error::config(path, at("category"), format!("`{c}` is not a taxonomy category"))
                    })?;
                    let third_party_p = match tp_i.map(get) {
                        None | Some("") => None,
                        Some(v) => Some(share(v).ok_or_else(|| {
                            Error::config(path, at("third_party_likelihood"), format!("expected 0..1, found `{v}`"))
                        })?),
                    };
                    let cv = conf_i.map(get).unwrap_or("");
                    let confidence = share(cv)
                        .ok_or_else(|| Error::config(path, at("confidence"), format!("expected 0..1, found `{cv}`")))?;
                    patterns.push(pattern.as_str().to_string());
                    categories.push(CategoryRule { name, category, flags, third_party_p, confidence });
                }
                "modifier" => modifiers.push(ModifierRule { name, pattern, flags }),
                other => {
                    return Err(Error::config(
                        path,
                        at("kind"),
                        format!("expected `category` or `modifier`, found `{other}`"),
                    ))
                }
            }
        }
        let category_set = RegexSetBuilder::new(&patterns)
            .unicode(false)
            .build()
            .map_err(|e| Error::config(path, "pattern", e.to_string()))?;
        Ok(Classifier { origin: path.to_path_buf(), categories, category_set, modifiers })
    }

    /// Classify a raw call type; `None` when no category rule matches.
    pub fn classify(&self, raw: &str) -> Option<Classified> {
        let text = normalize_text(raw);
        let first = self.category_set.matches(text.as_bytes()).iter().next()?;
        let r = &self.categories[first];
        let mut flags = r.flags;
        let mut rule = r.name.clone();
        for m in self.modifiers.iter().filter(|m| m.pattern.is_match(text.as_bytes())) {
            // Name only the modifiers that changed something, so `rule` says why each flag is set.
            if flags.iter().zip(m.flags).any(|(f, add)| add && !*f) {
                rule.push('+');
                rule.push_str(&m.name);
            }
            for (f, add) in flags.iter_mut().zip(m.flags) {
                *f |= add;
            }
        }
        Some(Classified { category: r.category, flags, third_party_p: r.third_party_p, confidence: r.confidence, rule })
    }

    pub fn rule_count(&self) -> usize {
        self.categories.len() + self.modifiers.len()
    }
}

/// The normalised text is ASCII (A–Z, 0–9, space), so `\w` and `\b` need no Unicode tables:
/// byte-oriented ASCII mode keeps the compiled rule set small (Unicode mode exceeds the size limit).
fn ascii_regex(p: &str) -> std::result::Result<Regex, regex::Error> {
    RegexBuilder::new(p).unicode(false).build()
}

fn share(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|p| (0.0..=1.0).contains(p))
}

/// True when the flag is set (typed access for callers holding a flag array).
pub fn has(flags: &[bool; FLAGS.len()], f: Flag) -> bool {
    flags[f as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: &str = "name,kind,pattern,category,weapon,violence,medical,in_progress,imminent_danger,insufficient_info,bh_nexus,conflict,police_type,third_party_likelihood,confidence,note\n\
        suicide,category,\\bSUICID,Behavioral Health,,,,,1,,1,,,0.5,0.95,\n\
        welfare,category,\\bWELF|WELFARE,Assisting the Public,,,,,,,,,1,0.9,0.9,\n\
        disturbance,category,\\bDIST(URB|URBANCE)?\\b,Complaints/Environmental Conditions,,,,,,,,1,1,0.8,0.7,\n\
        weapon,modifier,\\b(WEAPON|WPN|ARMED|GUN|KNIFE)\\b,,1,,,,,,,,,,,\n";

    fn classifier() -> Classifier {
        Classifier::parse(Path::new("rules.csv"), RULES).unwrap()
    }

    #[test]
    fn normalises_punctuation_and_case() {
        assert_eq!(normalize_text("6X - Major Dist (Violence)"), "6X MAJOR DIST VIOLENCE");
        assert_eq!(normalize_text("  susp person/veh "), "SUSP PERSON VEH");
        assert_eq!(normalize_text("---"), "");
    }

    #[test]
    fn first_category_rule_wins_and_modifiers_add_flags() {
        let c = classifier();
        let s = c.classify("Suicide threat - weapon").unwrap();
        assert_eq!(s.category, "Behavioral Health");
        assert!(has(&s.flags, Flag::ImminentDanger) && has(&s.flags, Flag::BhNexus) && has(&s.flags, Flag::Weapon));
        assert_eq!(s.rule, "suicide+weapon");
        assert_eq!(s.confidence, 0.95);
        let d = c.classify("DIST - LOUD PARTY").unwrap();
        assert_eq!(d.category, "Complaints/Environmental Conditions");
        assert!(has(&d.flags, Flag::Conflict) && !has(&d.flags, Flag::Weapon));
        assert_eq!(d.third_party_p, Some(0.8));
        assert!(c.classify("PARKING PROBLEM").is_none());
        // A modifier alone never gives a category.
        assert!(c.classify("GUN").is_none());
    }

    #[test]
    fn bad_rules_name_line_and_column() {
        let bad = RULES.replace("Behavioral Health,,,,,1", "Mental Stuff,,,,,1");
        let e = Classifier::parse(Path::new("rules.csv"), &bad).unwrap_err().to_string();
        assert!(e.contains("rules.csv") && e.contains("line 2, category") && e.contains("Mental Stuff"), "{e}");
        let bad = RULES.replace("\\bWELF|WELFARE", "(WELF");
        let e = Classifier::parse(Path::new("rules.csv"), &bad).unwrap_err().to_string();
        assert!(e.contains("line 3, pattern"), "{e}");
    }

    #[test]
    fn shipped_rules_load() {
        let c = Classifier::load_default().unwrap();
        assert!(c.rule_count() > 50, "{}", c.rule_count());
    }
}
