//! Generates an `allow-<command>` permission for each of Tally's commands, so the main
//! window's capability (`capabilities/default.json`) grants exactly the commands it uses.
//! A command missing here is refused at runtime: keep this list in step with
//! `generate_handler!` in `src/lib.rs` (the shell tests check both ways).

const COMMANDS: &[&str] = &[
    "chat_send",
    "chat_retry",
    "chat_continue",
    "chat_summarize",
    "chat_stop",
    "conversation_list",
    "conversation_get",
    "conversation_search",
    "conversation_switch",
    "message_delete",
    "conversation_settings_set",
    "conversation_rename",
    "conversation_pin",
    "conversation_trash",
    "conversation_restore",
    "trash_list",
    "trash_delete",
    "trash_empty",
    "conversation_export",
    "import_begin",
    "import_append",
    "import_run",
    "key_status",
    "key_set",
    "key_delete",
    "key_test",
    "models_list",
    "settings_get",
    "settings_set",
    "persona_list",
    "persona_save",
    "persona_delete",
    "mcp_server_list",
    "mcp_server_save",
    "mcp_server_remove",
    "mcp_server_set_enabled",
    "mcp_server_restart",
    "mcp_import_json",
    "link_open",
    "spend_summary",
    "budget_set",
    "budget_clear",
    "budget_alerts_dismiss",
    "prices_list",
    "price_set",
    "price_reset",
    "cost_estimate",
    "usage_report",
    "ledger_list",
    "ledger_export",
    "backup_list",
    "backup_create",
    "backup_restore",
    "recovery_get",
    "recovery_dismiss",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri-build failed");
}
