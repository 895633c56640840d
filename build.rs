//! Embeds profiles/, policies/, queries/ and dashboards/ into the binary (see src/assets.rs).
use std::fmt::Write;

fn main() {
    let mut out = String::from("pub static EMBEDDED: &[(&str, &str, &str)] = &[\n");
    for kind in ["profiles", "policies", "queries", "dashboards"] {
        println!("cargo:rerun-if-changed={kind}");
        let Ok(rd) = std::fs::read_dir(kind) else { continue };
        let mut files: Vec<_> = rd.flatten().filter(|e| e.path().is_file()).map(|e| e.path()).collect();
        files.sort();
        for p in files {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            println!("cargo:rerun-if-changed={}", p.display());
            // Relative to the package at compile time, not an absolute path baked into OUT_DIR: a
            // build cache shared by two checkouts (CI's clone, a worktree) must not read the other's files.
            let rel = format!("/{kind}/{name}");
            writeln!(out, "    ({kind:?}, {name:?}, include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), {rel:?}))),")
                .unwrap();
        }
    }
    out.push_str("];\n");
    let dest = std::path::Path::new(&std::env::var("OUT_DIR").unwrap()).join("assets.rs");
    std::fs::write(dest, out).unwrap();
}
