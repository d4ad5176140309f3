//! The window may call Tally's commands and nothing more; every command has its permission.

use std::collections::BTreeSet;

use serde_json::json;

use crate::{Shell, no_args};

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{MANIFEST_DIR}/{path}")).unwrap()
}

/// The quoted snake_case names in build.rs's `COMMANDS`.
fn generated_permissions() -> BTreeSet<String> {
    let build = read("build.rs");
    let list = build.split("const COMMANDS").nth(1).unwrap();
    let list = &list[..list.find("];").unwrap()];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// The command names in lib.rs's `generate_handler!`.
fn registered_commands() -> BTreeSet<String> {
    let lib = read("src/lib.rs");
    let list = lib.split("generate_handler![").nth(1).unwrap();
    let list = &list[..list.find(']').unwrap()];
    list.split(',')
        .filter_map(|path| path.trim().rsplit("::").next())
        .filter(|name| !name.is_empty())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_has_a_permission_and_the_window_is_granted_each() {
    let registered = registered_commands();
    assert!(registered.len() > 30, "{registered:?}");
    assert_eq!(registered, generated_permissions());
    let capability: serde_json::Value =
        serde_json::from_str(&read("capabilities/default.json")).unwrap();
    let granted: BTreeSet<String> = capability["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = registered
        .iter()
        .map(|name| format!("allow-{}", name.replace('_', "-")))
        .chain(["core:event:allow-listen", "core:event:allow-unlisten"].map(String::from))
        .collect();
    assert_eq!(
        granted, expected,
        "the capability grants more or less than is used"
    );
}

#[test]
fn a_window_the_capability_does_not_name_can_call_nothing() {
    let shell = Shell::start_in_window("other");
    let refused = shell.invoke("settings_get", no_args()).unwrap_err();
    assert!(
        refused.to_string().contains("not allowed"),
        "settings_get from another window: {refused}"
    );
}

#[test]
fn core_commands_the_ui_does_not_use_are_refused() {
    let shell = Shell::start();
    assert!(shell.invoke("settings_get", no_args()).is_ok());
    for (command, args) in [
        (
            "plugin:event|emit",
            json!({"event": "spend_updated", "payload": {}}),
        ),
        ("plugin:window|close", json!({"label": "main"})),
        (
            "plugin:opener|open_url",
            json!({"url": "https://example.com"}),
        ),
        (
            "plugin:notification|notify",
            json!({"options": {"title": "x"}}),
        ),
        // The question whether the key may go to another server is the shell's alone.
        (
            "plugin:dialog|message",
            json!({"message": "Send your key?", "kind": "warning"}),
        ),
        ("plugin:dialog|ask", json!({"message": "Send your key?"})),
        ("plugin:dialog|open", json!({"options": {}})),
    ] {
        let refused = shell.invoke(command, args).unwrap_err();
        assert!(
            refused.to_string().contains("not allowed"),
            "{command}: {refused}"
        );
    }
}
