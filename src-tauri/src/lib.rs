//! Tally's desktop shell: the only crate that knows Tauri.
//!
//! It owns the window, the app's state (one `tally_core::Engine`), the command adapters
//! in `commands/` (each parses its input, calls the engine and maps the error to
//! `{code, message}`: no business logic here), and streaming over `tauri::ipc::Channel`.
//! Everything a user can do lives in `tally-core`; this crate must stay thin.

mod commands;

use std::path::PathBuf;
use std::sync::Arc;

use tally_core::{Engine, EngineConfig};
use tauri::Manager;

/// Adds every command and plugin to `builder`, so the shell tests can build the same app
/// on Tauri's mock runtime.
pub fn configure<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(tauri::generate_handler![
            commands::chat::chat_send,
            commands::chat::chat_retry,
            commands::chat::chat_continue,
            commands::chat::chat_stop,
            commands::conversation::conversation_list,
            commands::conversation::conversation_get,
            commands::key::key_status,
            commands::key::key_set,
            commands::key::key_delete,
            commands::key::key_test,
            commands::settings::settings_get,
            commands::settings::settings_set,
            commands::link::link_open,
        ])
}

/// Opens the engine on `TALLY_DATA_DIR`, or the OS app-data folder.
pub fn open_engine<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Result<Arc<Engine>, String> {
    let data_dir = match std::env::var_os("TALLY_DATA_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => app.path().app_data_dir().map_err(|e| e.to_string())?,
    };
    tracing::info!(data_dir = %data_dir.display(), "opening the database");
    Engine::open(EngineConfig::new(data_dir).with_env()).map_err(|e| e.to_string())
}

/// Runs the app.
pub fn run() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    configure(tauri::Builder::default())
        .setup(|app| {
            let engine = open_engine(app.handle())?;
            app.manage(engine);
            Ok(())
        })
        .run(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Tally could not start: {e}");
            std::process::exit(1);
        });
}
