use std::path::PathBuf;

/// The committed TypeScript bindings match the Rust types. `cargo xtask bindings` (or this
/// test with `UPDATE_BINDINGS=1`) rewrites them.
#[test]
fn typescript_bindings_are_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/lib/ipc/bindings.ts");
    let expected = tally_core::api::bindings_file();
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "ui/src/lib/ipc/bindings.ts is stale: run `cargo xtask bindings`"
    );
}

/// The browser tests' fake engine answers `prices_list` and `models_list` with what this
/// engine answers for the shipped catalog, from `ui/tests/browser/catalog.json`: the UI's
/// tests know no prices or models of their own. `cargo xtask bindings` rewrites it.
#[test]
fn bindings_the_browser_tests_read_the_shipped_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let engine = tally_core::Engine::open(tally_core::EngineConfig::new(dir.path())).unwrap();
    let prices = serde_json::to_string_pretty(&engine.prices_list().unwrap()).unwrap();
    let models = serde_json::to_string_pretty(&engine.models_list().unwrap()).unwrap();
    let expected = format!("{{\n\"prices\": {prices},\n\"models\": {models}\n}}\n");
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/tests/browser/catalog.json");
    if std::env::var_os("UPDATE_BINDINGS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "ui/tests/browser/catalog.json is stale: run `cargo xtask bindings`"
    );
}
