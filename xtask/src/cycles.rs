//! No import cycle between the modules of one crate: a module that uses another (through
//! a `crate::` path, or a name the crate root re-exports from it) must not be used by it,
//! directly or round about. Reads the sources as text: the top-level modules of each
//! crate (a folder module counts as one), tests left out; a path in a comment or a doc
//! link counts, since it names the module too.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::process::{Result, root};

/// The source folders whose modules are checked.
const CRATES: &[&str] = &[
    "crates/tally-attach/src",
    "crates/tally-core/src",
    "crates/tally-keychain/src",
    "crates/tally-openai/src",
    "crates/tally-spend/src",
    "crates/tally-store/src",
    "crates/tally-sync/src",
    "src-tauri/src",
    "xtask/src",
    "tests/mock-openai/src",
];

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Fails naming each cycle found.
pub fn check() -> Result {
    let mut found = Vec::new();
    for folder in CRATES {
        let graph = graph_of(&read_modules(&root().join(folder))?);
        for cycle in cycles(&graph) {
            found.push(format!("{folder}: {}", cycle.join(" ↔ ")));
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "modules that use each other:\n  {}",
            found.join("\n  ")
        ))
    }
}

/// Each module's source, by name (the crate root as `lib` or `main`).
fn read_modules(folder: &Path) -> Result<BTreeMap<String, String>> {
    let mut modules = BTreeMap::new();
    let entries = std::fs::read_dir(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path
            .file_stem()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let text = if path.is_dir() {
            let mut text = String::new();
            for file in std::fs::read_dir(&path)
                .map_err(|e| e.to_string())?
                .flatten()
            {
                if file.path().extension().is_some_and(|e| e == "rs") {
                    text += &std::fs::read_to_string(file.path()).map_err(|e| e.to_string())?;
                }
            }
            text
        } else if path.extension().is_some_and(|e| e == "rs") {
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            continue;
        };
        modules.insert(name.to_string(), without_tests(&text).to_string());
    }
    Ok(modules)
}

fn without_tests(text: &str) -> &str {
    text.find("#[cfg(test)]\nmod tests")
        .map_or(text, |at| &text[..at])
}

/// Which module uses which.
fn graph_of(modules: &BTreeMap<String, String>) -> Graph {
    let root = if modules.contains_key("lib") {
        "lib"
    } else {
        "main"
    };
    // Names the root re-exports: `pub use module::{A, B};` or `pub use module::A;`.
    let mut exported: BTreeMap<String, String> = BTreeMap::new();
    if let Some(text) = modules.get(root) {
        for statement in text.split(';') {
            let Some(path) = statement.trim().strip_prefix("pub use ") else {
                continue;
            };
            let Some((module, names)) = path.split_once("::") else {
                continue;
            };
            for name in names.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if !name.is_empty() {
                    exported.insert(name.to_string(), module.trim().to_string());
                }
            }
        }
    }
    let mut graph = Graph::new();
    for (name, text) in modules.iter().filter(|(name, _)| name.as_str() != root) {
        let uses = graph.entry(name.clone()).or_default();
        for first in crate_path_heads(text) {
            let target = match exported.get(&first) {
                Some(module) => module.clone(),
                None => first,
            };
            if &target != name && target != root && modules.contains_key(&target) {
                uses.insert(target);
            }
        }
    }
    graph
}

/// The first name of each path after `crate::`, one per item of a `crate::{…}` group.
fn crate_path_heads(text: &str) -> Vec<String> {
    let mut heads = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The group's items at its top level, each up to its first `::`.
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        heads.push(first_name(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            heads.push(first_name(&item));
        } else {
            heads.push(first_name(rest));
        }
    }
    heads.retain(|h| !h.is_empty());
    heads
}

fn first_name(text: &str) -> String {
    text.trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect()
}

/// The strongly connected groups of more than one module (Tarjan's algorithm).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, node: &'a str) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            for next in self.graph.get(node).into_iter().flatten() {
                let next = next.as_str();
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.stack.contains(&next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let at = self.stack.iter().rposition(|m| *m == node).unwrap_or(0);
                let group: Vec<String> = self.stack.drain(at..).map(str::to_string).collect();
                if group.len() > 1 {
                    self.found.push(group);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !walk.index.contains_key(node.as_str()) {
            walk.visit(node);
        }
    }
    for group in &mut walk.found {
        group.sort();
    }
    walk.found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a case is, its files (name, text), and the cycles expected.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a [&'a str]]);

    fn modules(files: &[(&str, &str)]) -> BTreeMap<String, String> {
        files
            .iter()
            .map(|(name, text)| (name.to_string(), without_tests(text).to_string()))
            .collect()
    }

    #[test]
    fn modules_that_use_each_other_are_found_however_they_name_each_other() {
        let cases: &[Case] = &[
            (
                "paths both ways",
                &[
                    ("lib", "mod a; mod b;"),
                    ("a", "use crate::b::f;"),
                    ("b", "fn g() { crate::a::h() }"),
                ],
                &[&["a", "b"]],
            ),
            (
                "a name the root re-exports, inside a group",
                &[
                    ("lib", "mod a; mod b; pub use b::{Thing, Other};"),
                    ("a", "use crate::{Other, Error};"),
                    ("b", "use crate::a::{self, f};"),
                ],
                &[&["a", "b"]],
            ),
            (
                "round about, through a third",
                &[
                    ("main", "mod a; mod b; mod c;"),
                    ("a", "use crate::b;"),
                    ("b", "use crate::c::x;"),
                    ("c", "use crate::{a::y, z};"),
                ],
                &[&["a", "b", "c"]],
            ),
            (
                "one way only",
                &[
                    ("lib", "mod a; mod b; pub use a::A;"),
                    ("a", "pub struct A;"),
                    ("b", "use crate::{A, a::B};"),
                ],
                &[],
            ),
            (
                "a test module may use anything",
                &[
                    ("lib", "mod a; mod b;"),
                    ("a", "use crate::b;"),
                    ("b", "fn f() {}\n#[cfg(test)]\nmod tests { use crate::a; }"),
                ],
                &[],
            ),
        ];
        for (what, files, expected) in cases {
            let found = cycles(&graph_of(&modules(files)));
            let expected: Vec<Vec<String>> = expected
                .iter()
                .map(|group| group.iter().map(|m| m.to_string()).collect())
                .collect();
            assert_eq!(found, expected, "{what}");
        }
    }
}

#[cfg(test)]
mod workspace {
    #[test]
    fn the_workspace_s_crates_have_no_import_cycle() {
        super::check().unwrap();
    }
}
