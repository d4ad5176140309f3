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
