//! Built-in profiles, crosswalks, policies and report queries, embedded at build time so the
//! binary works from any directory. Files on disk (`./profiles`, `./policies`, `./queries`, or the
//! directory named by `CALLSIFT_HOME`) take precedence, so an analyst changes a rule without
//! recompiling.
use std::path::PathBuf;

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// A text asset: where it came from (for error messages) and its content.
#[derive(Debug, Clone)]
pub struct Asset {
    pub origin: PathBuf,
    pub text: String,
    /// Directory relative paths inside the asset resolve against; `None` for embedded assets.
    pub dir: Option<PathBuf>,
}

/// Directories searched for a kind of asset (`profiles`, `policies`, `queries`, `dashboards`), in order.
pub fn search_dirs(kind: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(home) = std::env::var("CALLSIFT_HOME") {
        dirs.push(PathBuf::from(home).join(kind));
    }
    dirs.push(PathBuf::from(kind));
    dirs
}

/// Find `kind/file_name` on disk, else among the embedded assets.
pub fn find(kind: &str, file_name: &str) -> Option<Asset> {
    for d in search_dirs(kind) {
        let p = d.join(file_name);
        if p.is_file() {
            if let Ok(text) = std::fs::read_to_string(&p) {
                return Some(Asset { origin: p, text, dir: Some(d) });
            }
        }
    }
    embedded(kind, file_name)
}

pub fn embedded(kind: &str, file_name: &str) -> Option<Asset> {
    EMBEDDED.iter().find(|(k, n, _)| *k == kind && *n == file_name).map(|(k, n, t)| Asset {
        origin: PathBuf::from(format!("<built-in>/{k}/{n}")),
        text: t.to_string(),
        dir: None,
    })
}

/// Names (file stems) of every asset of a kind with the given extension, on disk and built in.
pub fn list(kind: &str, ext: &str) -> Vec<String> {
    let mut names: Vec<String> = EMBEDDED
        .iter()
        .filter(|(k, n, _)| *k == kind && n.ends_with(ext))
        .map(|(_, n, _)| n.trim_end_matches(ext).to_string())
        .collect();
    for d in search_dirs(kind) {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if let Some(stem) = n.strip_suffix(ext) {
                    names.push(stem.to_string());
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// Load an asset given as a path (contains a `/` or ends with `ext`) or as a name.
pub fn resolve(kind: &str, name_or_path: &str, ext: &str) -> Option<Asset> {
    let p = PathBuf::from(name_or_path);
    if p.is_file() {
        let text = std::fs::read_to_string(&p).ok()?;
        let dir = p.parent().map(|d| if d.as_os_str().is_empty() { PathBuf::from(".") } else { d.to_path_buf() });
        return Some(Asset { origin: p, text, dir });
    }
    if name_or_path.contains('/') {
        return None;
    }
    let file = if name_or_path.ends_with(ext) { name_or_path.to_string() } else { format!("{name_or_path}{ext}") };
    find(kind, &file)
}

/// `resolve`, or a usage error naming what is known: `what` is the kind in words (`profile`).
pub fn load(kind: &str, name_or_path: &str, ext: &str, what: &str) -> crate::Result<Asset> {
    resolve(kind, name_or_path, ext).ok_or_else(|| {
        crate::Error::Usage(format!(
            "no {what} `{name_or_path}`: not a readable file and not a known {what} (known: {})",
            list(kind, ext).join(", ")
        ))
    })
}

/// Load a file referenced from inside another asset (e.g. a profile's crosswalk).
pub fn sibling(kind: &str, parent: &Asset, rel: &str) -> Option<Asset> {
    if let Some(dir) = &parent.dir {
        let p = dir.join(rel);
        let text = std::fs::read_to_string(&p).ok()?;
        return Some(Asset { origin: p.clone(), text, dir: p.parent().map(|d| d.to_path_buf()) });
    }
    embedded(kind, rel)
}
