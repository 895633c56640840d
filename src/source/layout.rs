//! A profile's columns resolved against one file's header: which column (or columns) feeds each
//! canonical field.
use crate::error::{Error, Result};
use crate::source::profile::{Source, SourceField};

/// A profile's columns resolved against one file's header.
#[derive(Debug, Clone)]
pub struct Layout {
    pub(crate) src: [Option<Source>; SourceField::ALL.len()],
    /// (field, source column name used)
    pub matched: Vec<(SourceField, String)>,
    /// (field, names tried)
    pub missing: Vec<(SourceField, Vec<String>)>,
    pub width: usize,
}

impl Layout {
    /// The (first) source column index of a field.
    pub fn get(&self, f: SourceField) -> Option<usize> {
        match self.src[f.index()].as_ref()? {
            Source::Col(i) | Source::Extract(i, _) => Some(*i),
            Source::Concat(v) | Source::Coalesce(v) => v.first().copied(),
        }
    }

    pub fn source(&self, f: SourceField) -> Option<&Source> {
        self.src[f.index()].as_ref()
    }

    /// Fields whose value is computed from several columns or a regex (not a plain column).
    pub fn derived(&self) -> impl Iterator<Item = (SourceField, &Source)> {
        SourceField::ALL
            .iter()
            .filter_map(|f| self.src[f.index()].as_ref().filter(|s| !matches!(s, Source::Col(_))).map(|s| (*f, s)))
    }

    /// Required columns absent from the header make the file unreadable with this profile.
    pub fn check_required(&self, file: &std::path::Path) -> Result<()> {
        for req in [SourceField::CallId, SourceField::ReceivedAt] {
            if self.get(req).is_none() {
                let tried =
                    self.missing.iter().find(|(f, _)| *f == req).map(|(_, n)| n.join("`, `")).unwrap_or_default();
                return Err(Error::Input {
                    file: file.to_path_buf(),
                    message: format!(
                        "header has no column for {} (looked for `{tried}`); is this the right profile?",
                        req.name()
                    ),
                });
            }
        }
        if self.get(SourceField::InitialType).is_none() && self.get(SourceField::FinalType).is_none() {
            return Err(Error::Input {
                file: file.to_path_buf(),
                message: "header has no call type column (initial_type or final_type)".into(),
            });
        }
        Ok(())
    }
}
