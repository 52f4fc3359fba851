//! The layers `src/lib.rs` documents, checked: a module imports only
//! modules of the layers above its own (its `crate::NAME` paths outside
//! `#[cfg(test)]` code, doc comments included, as `module-cycles` reads
//! them), and every top-level module is in the table.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::root;

/// `module -> layer`, from the table in the crate docs.
fn layers() -> BTreeMap<String, u32> {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).expect("src/lib.rs");
    let mut m = BTreeMap::new();
    for line in lib.lines() {
        let Some(row) = line.strip_prefix("//! | ") else {
            continue;
        };
        let cells: Vec<&str> = row.split(" | ").collect();
        let (Some(layer), Some(mods)) = (cells.first(), cells.get(1)) else {
            continue;
        };
        let Ok(layer) = layer.trim().parse::<u32>() else {
            continue;
        };
        for name in mods.split('`').skip(1).step_by(2) {
            m.insert(name.to_string(), layer);
        }
    }
    m
}

/// The top-level module a file of `src/` belongs to.
fn module_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib" && name != "main").then(|| name.to_string())
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn modules_import_only_from_the_layers_above() {
    let layers = layers();
    assert!(
        layers.len() >= 15,
        "the layer table in src/lib.rs: {layers:?}"
    );
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).expect("under src");
        let Some(module) = module_of(rel) else {
            continue;
        };
        let Some(&own) = layers.get(&module) else {
            wrong.push(format!("{module} is not in the layer table of src/lib.rs"));
            continue;
        };
        let text = std::fs::read_to_string(&f).expect("read");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if name == module {
                continue;
            }
            match layers.get(&name) {
                Some(&l) if l < own => {}
                Some(&l) => wrong.push(format!(
                    "{} (layer {own}) imports {name} (layer {l})",
                    rel.display()
                )),
                None => {}
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
