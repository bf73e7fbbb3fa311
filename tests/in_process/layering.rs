//! Every dependency arrow points down (docs/architecture.md): a lower layer never imports a
//! higher one, and no two modules import each other, however indirectly. Checked on the
//! source itself, so a new import that runs back up fails here, naming the file and the path.
//!
//! The graph: one node per top-level module (`src/x.rs` or `src/x/`, with everything under
//! it; `main` is the binary), one edge per `crate::x` path (`use crate::x::…`,
//! `use crate::{x, y}`, `crate::x::f()` in code, `super::…` that climbs to the crate root; in
//! `main.rs`, `ssowatch::x`). Comments do not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may import modules of the layers below its own, never
/// one of its own layer or above. The docs' picture (docs/architecture.md) is this table.
const LAYERS: &[&[&str]] = &[
    &["sanitize"],
    &["model"],
    &["wire"],
    &["provider", "emulator"],
    &["poller", "estimate"],
    &["failures", "call_path"],
    &["handoff"],
    &["app"],
    &["ui", "runtime", "config"],
    &["metrics", "output", "hub"],
    &["connect"],
    &["dashboard", "serve", "headless", "wait"],
    &["remote"],
    &["cli"],
    &["main"],
];

/// Modules that stand beside the product rather than under it: only the modules named may
/// import them, whatever their layer. The emulator serves the clouds' wire protocols for
/// `--demo`, the tests and the benchmarks; the product's layers must not lean on it.
const BESIDE: &[(&str, &[&str])] = &[("emulator", &["connect", "cli", "main"])];

/// The only files that may name `clap`: the command line is parsed in one place, and every
/// command takes plain options of its own.
const CLAP_FILES: &[&str] = &["cli.rs", "main.rs"];

/// Top-level module -> module it imports -> the first file (relative to `src`) that does.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

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
    files.sort();
    files
}

/// The module path of a file relative to `src`: `wait/pace.rs` is `[wait, pace]`,
/// `wait/mod.rs` is `[wait]`, `model.rs` is `[model]`.
fn module_path(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if let Some(last) = parts.pop() {
        let stem = last.strip_suffix(".rs").unwrap_or(&last).to_string();
        if stem != "mod" {
            parts.push(stem);
        }
    }
    parts
}

/// The code of a file without its comments (line, doc and nested block comments) and without
/// the contents of its string and character literals, so that neither `// crate::x` nor
/// `"crate::x"` nor an Accept header's `"*/*"` changes what is read.
fn code_of(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        if c == '/' && at(i + 1) == '/' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (at(i + 1) == '"' || at(i + 1) == '#') && !ident_char(prev(&chars, i))
        {
            // A raw string: r"…" or r#"…"#, with as many #s at the end as at the start.
            let mut j = i + 1;
            let mut hashes = 0;
            while at(j) == '#' {
                hashes += 1;
                j += 1;
            }
            if at(j) != '"' {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| at(j + k) == '#') {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && at(i + 1) == '\\' {
            // '\n', '\'', '\u{…}'
            i += 2;
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else if c == '\'' && at(i + 2) == '\'' {
            // 'x' (a lifetime such as 'a has no closing quote two on)
            i += 3;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev(chars: &[char], i: usize) -> char {
    if i == 0 { ' ' } else { chars[i - 1] }
}

fn ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn ident(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The first segment of each path in a `{a, b::c, d::{e, f}}` group that starts `text`
/// (just after the `{`).
fn group_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0usize;
    let mut item_start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                heads.push(ident(&text[item_start..i]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                heads.push(ident(&text[item_start..i]));
                item_start = i + 1;
            }
            _ => {}
        }
    }
    heads.retain(|h| !h.is_empty());
    heads
}

/// The top-level modules a file's code names, as written after `root::` (`crate::` in the
/// library, `ssowatch::` in the binary), plus `super::` paths that climb out of the file's
/// top-level module. `module` is the file's module path; `super` inside an inline module
/// (`mod tests`) is read as if at file level, so it can only over-report.
fn imports_in(code: &str, root: &str, module: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let prefix = format!("{root}::");
    let mut at = 0;
    while let Some(pos) = code[at..].find(&prefix) {
        let start = at + pos;
        at = start + prefix.len();
        let before = code[..start].chars().next_back();
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // `my_crate::`, not `crate::`
        }
        let after = &code[at..];
        if let Some(group) = after.strip_prefix('{') {
            found.extend(group_heads(group));
        } else {
            found.insert(ident(after));
        }
    }
    let mut at = 0;
    while let Some(pos) = code[at..].find("super::") {
        let start = at + pos;
        let before = code[..start].chars().next_back();
        let mut rest = &code[start..];
        let mut climbs = 0;
        while let Some(r) = rest.strip_prefix("super::") {
            climbs += 1;
            rest = r;
        }
        at = start + (code[start..].len() - rest.len());
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        if climbs >= module.len() {
            if let Some(group) = rest.strip_prefix('{') {
                found.extend(group_heads(group));
            } else {
                found.insert(ident(rest));
            }
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

/// The import graph of the top-level modules under `src`: only edges between two modules of
/// the crate (not `crate::SOME_CONST` at the root), and not a module's imports of itself.
fn import_graph(src: &Path) -> Graph {
    let files = sources_under(src);
    let mut modules = BTreeSet::new();
    for file in &files {
        let Ok(relative) = file.strip_prefix(src) else {
            continue;
        };
        if let Some(top) = module_path(relative).first() {
            modules.insert(top.clone());
        }
    }
    let mut graph = Graph::new();
    for file in &files {
        let Ok(relative) = file.strip_prefix(src) else {
            continue;
        };
        let module = module_path(relative);
        let Some(top) = module.first().cloned() else {
            continue;
        };
        if top == "lib" {
            // The crate root only declares the modules.
            continue;
        }
        let root = if top == "main" { "ssowatch" } else { "crate" };
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let node = graph.entry(top.clone()).or_default();
        for imported in imports_in(&code_of(&text), root, &module) {
            if imported != top && modules.contains(&imported) {
                node.entry(imported)
                    .or_insert_with(|| relative.display().to_string());
            }
        }
    }
    graph
}

/// A cycle of the graph, as the path that closes it (`[a, b, a]`), if there is one. Depth
/// first from each node in name order, so the same sources always name the same cycle.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flat_map(BTreeMap::keys) {
            if let Some(cycle) = visit(next, graph, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut done, &mut Vec::new()))
}

/// One cycle in each group of modules that reach each other (a strongly connected component
/// of more than one module), so that a failure names every knot at once, not one per run.
fn find_cycles(graph: &Graph) -> Vec<Vec<String>> {
    fn reach(from: &str, graph: &Graph) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(node) = todo.pop() {
            for next in graph.get(&node).into_iter().flat_map(BTreeMap::keys) {
                if seen.insert(next.clone()) {
                    todo.push(next.clone());
                }
            }
        }
        seen
    }
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reach(n, graph))).collect();
    let mut placed = BTreeSet::new();
    let mut cycles = Vec::new();
    for node in graph.keys() {
        if placed.contains(node) || !reaches[node].contains(node) {
            continue;
        }
        let component: BTreeSet<&String> = reaches[node]
            .iter()
            .filter_map(|other| reaches.get_key_value(other).map(|(k, _)| *k))
            .filter(|other| reaches[*other].contains(node))
            .collect();
        let within: Graph = component
            .iter()
            .map(|&n| {
                let edges = graph[n]
                    .iter()
                    .filter(|(to, _)| component.contains(to))
                    .map(|(to, file)| (to.clone(), file.clone()))
                    .collect();
                (n.clone(), edges)
            })
            .collect();
        if let Some(cycle) = find_cycle(&within) {
            cycles.push(cycle);
        }
        placed.extend(component.into_iter().cloned());
    }
    cycles
}

/// `a -> b (src/a.rs) -> a (src/b/mod.rs)`: the cycle with the file that makes each step.
fn describe_cycle(graph: &Graph, cycle: &[String]) -> String {
    let mut text = cycle[0].clone();
    for pair in cycle.windows(2) {
        let file = graph
            .get(&pair[0])
            .and_then(|edges| edges.get(&pair[1]))
            .map_or("?", String::as_str);
        text.push_str(&format!(
            " -> {} (crate::{} in src/{file})",
            pair[1], pair[1]
        ));
    }
    text
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every way the graph breaks the table: an edge to the same layer or above, an import of a
/// module that stands beside from a module not allowed to, a module the table does not place.
fn layering_violations(graph: &Graph) -> Vec<String> {
    let mut problems = Vec::new();
    for (module, edges) in graph {
        let Some(own) = layer_of(module) else {
            problems.push(format!(
                "module `{module}` is not in the LAYERS table of tests/in_process/layering.rs (and the picture in docs/architecture.md): place it"
            ));
            continue;
        };
        for (imported, file) in edges {
            match layer_of(imported) {
                Some(theirs) if theirs >= own => problems.push(format!(
                    "src/{file} imports crate::{imported}: `{module}` is in layer {own} {:?}, `{imported}` in layer {theirs} {:?}; a module imports only layers below its own",
                    LAYERS[own], LAYERS[theirs]
                )),
                _ => {}
            }
            for (beside, importers) in BESIDE {
                if imported == beside && !importers.contains(&module.as_str()) {
                    problems.push(format!(
                        "src/{file} imports crate::{imported}, which stands beside the product: only {importers:?} may"
                    ));
                }
            }
        }
    }
    for module in LAYERS.iter().flat_map(|layer| layer.iter()) {
        if !graph.contains_key(*module) {
            problems.push(format!(
                "the LAYERS table names `{module}`, which src does not have"
            ));
        }
    }
    problems
}

#[test]
fn no_module_imports_itself_through_others() {
    let graph = import_graph(&src());
    assert!(graph.len() > 10, "the graph covers the crate: {graph:?}");
    let cycles: Vec<String> = find_cycles(&graph)
        .iter()
        .map(|cycle| format!("import cycle: {}", describe_cycle(&graph, cycle)))
        .collect();
    assert!(cycles.is_empty(), "{}", cycles.join("\n"));
}

#[test]
fn every_import_points_down_the_layers() {
    let problems = layering_violations(&import_graph(&src()));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn clap_is_named_only_by_the_command_line() {
    let root = src();
    for file in sources_under(&root) {
        let relative = file.strip_prefix(&root).unwrap_or(&file);
        if CLAP_FILES.iter().any(|f| relative == Path::new(f)) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !code_of(&text).contains("clap"),
            "src/{} names clap: clap types live in src/cli.rs, and the commands take plain options that main fills",
            relative.display()
        );
    }
}

fn graph_of(edges: &[(&str, &str)]) -> Graph {
    let mut graph = Graph::new();
    for (from, to) in edges {
        graph
            .entry(from.to_string())
            .or_default()
            .insert(to.to_string(), format!("{from}.rs"));
        graph.entry(to.to_string()).or_default();
    }
    graph
}

/// The finder on the two cycles this crate once had (cli <-> wait, failures <-> metrics), on
/// a longer one and on graphs without any.
#[test]
fn the_cycle_finder_finds_cycles_and_only_cycles() {
    let today = graph_of(&[
        ("cli", "wait"),
        ("wait", "cli"),
        ("cli", "model"),
        ("wait", "model"),
    ]);
    assert_eq!(
        find_cycle(&today),
        Some(vec!["cli".into(), "wait".into(), "cli".into()])
    );
    assert_eq!(
        describe_cycle(&today, &["cli".into(), "wait".into(), "cli".into()]),
        "cli -> wait (crate::wait in src/cli.rs) -> cli (crate::cli in src/wait.rs)"
    );
    let metrics = graph_of(&[
        ("app", "failures"),
        ("failures", "metrics"),
        ("metrics", "failures"),
    ]);
    assert_eq!(
        find_cycle(&metrics),
        Some(vec!["failures".into(), "metrics".into(), "failures".into()])
    );
    let long = graph_of(&[("a", "b"), ("b", "c"), ("c", "d"), ("d", "b")]);
    assert_eq!(
        find_cycle(&long),
        Some(vec!["b".into(), "c".into(), "d".into(), "b".into()])
    );
    // A diamond shares a module without a cycle.
    let diamond = graph_of(&[("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]);
    assert_eq!(find_cycle(&diamond), None);
    assert!(find_cycles(&diamond).is_empty());
    // Both of the crate's old cycles at once are both named.
    let both = graph_of(&[
        ("cli", "wait"),
        ("wait", "cli"),
        ("failures", "metrics"),
        ("metrics", "failures"),
        ("metrics", "model"),
    ]);
    assert_eq!(
        find_cycles(&both),
        vec![
            vec!["cli".to_string(), "wait".into(), "cli".into()],
            vec!["failures".to_string(), "metrics".into(), "failures".into()],
        ]
    );
}

#[test]
fn the_table_rejects_upward_and_sideways_imports() {
    let upward = graph_of(&[("model", "app")]);
    let problems = layering_violations(&upward);
    assert!(
        problems.iter().any(|p| p.contains("imports crate::app")),
        "{problems:?}"
    );
    let sideways = graph_of(&[("dashboard", "serve")]);
    assert!(
        layering_violations(&sideways)
            .iter()
            .any(|p| p.contains("imports crate::serve"))
    );
    let beside = graph_of(&[("poller", "emulator")]);
    assert!(
        layering_violations(&beside)
            .iter()
            .any(|p| p.contains("stands beside"))
    );
    let unknown = graph_of(&[("newthing", "model")]);
    assert!(
        layering_violations(&unknown)
            .iter()
            .any(|p| p.contains("`newthing` is not in the LAYERS table"))
    );
    // The two cycles this crate once had both break the table too.
    assert!(!layering_violations(&graph_of(&[("wait", "cli")])).is_empty());
    assert!(!layering_violations(&graph_of(&[("failures", "metrics")])).is_empty());
}

/// The parser reads `use` groups, paths in code and `super` climbs, and skips comments.
#[test]
fn imports_are_read_from_code_not_comments() {
    let text = "use crate::{app, poller::{Event, Poller}, model::Status};\n\
                // crate::ui in a comment\n\
                /* crate::dashboard in a block */\n\
                /// crate::serve in a doc comment\n\
                let x = crate::runtime::step(\"crate::cli\", '\"', \"*/*\", r#\"crate::wait\"#);\n\
                let y = my_crate::cli::X;\n\
                use super::super::metrics::Metrics;\n\
                use super::table::Row;\n";
    let module = vec!["app".to_string(), "update".to_string()];
    let found = imports_in(&code_of(text), "crate", &module);
    let expected: BTreeSet<String> = ["app", "poller", "model", "runtime", "metrics"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(found, expected);
    assert_eq!(module_path(Path::new("wait/mod.rs")), vec!["wait"]);
    assert_eq!(module_path(Path::new("wait/pace.rs")), vec!["wait", "pace"]);
    assert_eq!(module_path(Path::new("model.rs")), vec!["model"]);
}
