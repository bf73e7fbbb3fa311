//! Every dependency arrow points down (docs/architecture.md): a lower layer never imports a
//! higher one. Checked on the source itself, so a new import that runs back up fails here.

use std::path::{Path, PathBuf};

fn sources_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(sources_under(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

/// The modules of the crate that `path` names in code (not in comments): `crate::app`, ...
fn imports(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut found = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let name: String = rest[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            found.push(name);
            rest = &rest[at + 7..];
        }
    }
    found
}

fn assert_no_imports(layer: &[&str], forbidden: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for part in layer {
        let path = root.join(part);
        let files = if path.is_dir() {
            sources_under(&path)
        } else {
            vec![path]
        };
        assert!(!files.is_empty(), "no sources for {part}");
        for file in files {
            for module in imports(&file) {
                assert!(
                    !forbidden.contains(&module.as_str()),
                    "{} imports crate::{module}, a layer above it",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn provider_poller_and_model_import_nothing_above_them() {
    assert_no_imports(
        &["provider", "poller", "model.rs", "wire", "sanitize.rs"],
        &[
            "app",
            "ui",
            "dashboard",
            "runtime",
            "emulator",
            "config",
            "serve",
            "wait",
            "headless",
            "connect",
            "cli",
        ],
    );
}

#[test]
fn the_app_never_imports_the_ui_or_a_host() {
    assert_no_imports(
        &["app"],
        &["ui", "dashboard", "runtime", "serve", "emulator", "config"],
    );
}

#[test]
fn the_emulator_stands_beside_the_product() {
    assert_no_imports(
        &["emulator"],
        &[
            "app",
            "ui",
            "dashboard",
            "runtime",
            "poller",
            "provider",
            "config",
            "cli",
            "serve",
            "wait",
            "headless",
            "connect",
        ],
    );
}
