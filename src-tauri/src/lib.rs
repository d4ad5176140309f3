//! Tally's desktop shell: the only crate that knows Tauri.
//!
//! It owns the window, the app's state (one `tally_core::Engine`), the command adapters
//! in `commands/` (each parses its input, calls the engine and maps the error to
//! `{code, message}`: no business logic here), streaming over `tauri::ipc::Channel`, and
//! the engine's app-wide notices as events and OS notifications, the thread that runs
//! the engine's background maintenance, one instance per data folder (`single_instance.rs`
//! on Linux), the window's remembered size and place, the native question before the key
//! goes to another server (asked outside the web view), updates (`updates.rs`), and which
//! pages and windows the web view may open. What the window may call is in `capabilities/`
//! and `build.rs`.
//! Everything a user can do lives in `tally-core`; this crate must stay thin.
//!
//! The whole project's map is `ARCHITECTURE.md` at the repository's root.

mod commands;
#[cfg(target_os = "linux")]
mod single_instance;
mod updates;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tally_core::{Engine, EngineConfig, Notice};
use tauri::{Emitter, Manager};
use tauri_plugin_notification::NotificationExt;

/// The argument with which Tally runs itself to read a PDF's text in a process apart.
pub const READ_PDF_ARG: &str = "--read-pdf";

/// The app-wide event with the new meter after every billed request or budget change.
pub const SPEND_UPDATED: &str = "spend_updated";
/// The app-wide event when a budget threshold is reached (once per threshold per month).
pub const BUDGET_ALERT: &str = "budget_alert";
/// The app-wide event when a model has titled a new conversation.
pub const CONVERSATION_TITLED: &str = "conversation_titled";
/// The app-wide event when a check finds the stored data damaged (plain-language text).
pub const STORAGE_PROBLEM: &str = "storage_problem";
/// The app-wide event when an MCP server starts, is ready, fails or stops by itself.
pub const MCP_SERVER_CHANGED: &str = "mcp_server_changed";
/// The app-wide event when a sync starts or ends, or sync is turned on or off.
pub const SYNC_CHANGED: &str = "sync_changed";

/// The first background maintenance (daily backup, Trash) waits this long after start, so
/// it never competes with launching; then it runs every hour (a backup at most daily).
const MAINTAIN_FIRST_AFTER: Duration = Duration::from_secs(60);
const MAINTAIN_EVERY: Duration = Duration::from_secs(60 * 60);
/// While sync is on, Tally syncs this long after start, then this often (and whenever the
/// person presses "Sync now").
const SYNC_FIRST_AFTER: Duration = Duration::from_secs(15);
const SYNC_EVERY: Duration = Duration::from_secs(5 * 60);
/// The window's size and place are saved once it has been still this long.
const WINDOW_STATE_QUIET: Duration = Duration::from_millis(500);

/// Adds every command and plugin to `builder`, so the shell tests can build the same app
/// on Tauri's mock runtime.
pub fn configure<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .plugin(navigation_guard())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        // For the shell's own questions only (see `ask_before_sending_the_key`): the
        // window is granted none of its commands.
        .plugin(tauri_plugin_dialog::init())
        // Driven by `update_check` and `update_install` only: the window is granted none of
        // its own commands.
        .plugin(tauri_plugin_updater::Builder::new().build())
        .manage(updates::Updates::default())
        .invoke_handler(tauri::generate_handler![
            commands::chat::chat_send,
            commands::chat::chat_retry,
            commands::chat::chat_continue,
            commands::chat::chat_summarize,
            commands::chat::chat_stop,
            commands::attachment::attachment_add,
            commands::attachment::attachment_add_pdf_pages,
            commands::attachment::attachment_content,
            commands::conversation::conversation_list,
            commands::conversation::conversation_get,
            commands::conversation::conversation_search,
            commands::conversation::conversation_switch,
            commands::conversation::message_delete,
            commands::conversation::conversation_settings_set,
            commands::conversation::conversation_settings_check,
            commands::conversation::conversation_rename,
            commands::conversation::conversation_pin,
            commands::conversation::conversation_title_history,
            commands::conversation::conversation_trash,
            commands::conversation::conversation_restore,
            commands::conversation::trash_list,
            commands::conversation::trash_delete,
            commands::conversation::trash_empty,
            commands::transfer::conversation_export,
            commands::transfer::import_begin,
            commands::transfer::import_append,
            commands::transfer::import_append_archive,
            commands::transfer::import_run,
            commands::key::key_status,
            commands::key::key_set,
            commands::key::key_delete,
            commands::key::key_test,
            commands::settings::models_list,
            commands::settings::settings_get,
            commands::settings::settings_set,
            commands::settings::persona_list,
            commands::settings::persona_save,
            commands::settings::persona_delete,
            commands::mcp::mcp_server_list,
            commands::mcp::mcp_server_save,
            commands::mcp::mcp_server_remove,
            commands::mcp::mcp_server_set_enabled,
            commands::mcp::mcp_server_restart,
            commands::mcp::mcp_import_json,
            commands::mcp::tool_call_decide,
            commands::mcp::tool_permission_list,
            commands::mcp::tool_permission_revoke,
            commands::link::link_open,
            commands::about::app_about,
            commands::about::data_folder_open,
            commands::about::update_check,
            commands::about::update_install,
            commands::spend::spend_summary,
            commands::spend::budget_set,
            commands::spend::budget_clear,
            commands::spend::budget_alerts_dismiss,
            commands::spend::prices_list,
            commands::spend::price_set,
            commands::spend::price_reset,
            commands::spend::cost_estimate,
            commands::spend::usage_report,
            commands::spend::ledger_list,
            commands::spend::ledger_export,
            commands::backup::backup_list,
            commands::backup::backup_create,
            commands::backup::backup_restore,
            commands::backup::recovery_get,
            commands::backup::recovery_dismiss,
            commands::sync::sync_get,
            commands::sync::sync_enable,
            commands::sync::sync_disable,
            commands::sync::sync_now,
        ])
}

/// Keeps the trusted window on Tally's own pages: a dragged or middle-clicked link, or a
/// script, cannot load another page in it (links open in the browser via `link_open`).
fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|_, url| {
            let allowed = is_app_page(url);
            if !allowed {
                tracing::warn!(
                    scheme = url.scheme(),
                    "a navigation away from Tally was refused"
                );
            }
            allowed
        })
        .build()
}

/// Builds the window from its configuration (`tauri.conf.json`, where it is not created
/// by itself), refusing every new window a page asks for: a `target=_blank` link, a
/// middle click, `window.open`. Links open in the browser through `link_open`; no other
/// page gets a window of its own beside the trusted one.
fn main_window<R: tauri::Runtime>(
    app: &tauri::App<R>,
) -> Result<tauri::WebviewWindow<R>, Box<dyn std::error::Error>> {
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == "main")
        .ok_or("tauri.conf.json has no window labelled main")?;
    let window = tauri::WebviewWindowBuilder::from_config(app.handle(), config)?
        .on_new_window(|url, _| {
            tracing::warn!(scheme = url.scheme(), "a new window was refused");
            tauri::webview::NewWindowResponse::Deny
        })
        .build()?;
    #[cfg(target_os = "linux")]
    paint_without_compositing(&window)?;
    Ok(window)
}

/// WebKitGTK draws the page without its GPU compositor. Tally's page is text that
/// scrolls, which the CPU paints well; the compositor costs the web process about 80 MB
/// and, where it falls back to software GL (a virtual machine, a remote session), some ms
/// of every frame, which a streaming reply's first text then waits for
/// (`cargo xtask bench`). Set before the page's first frame.
#[cfg(target_os = "linux")]
fn paint_without_compositing<R: tauri::Runtime>(
    window: &tauri::WebviewWindow<R>,
) -> tauri::Result<()> {
    window.with_webview(|webview| {
        use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
        if let Some(settings) = WebViewExt::settings(&webview.inner()) {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    })
}

/// Whether `url` is one of the app's own pages (its assets, the isolation frame, the
/// development server on loopback), never a page from elsewhere.
pub fn is_app_page(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" | "isolation" | "asset" | "ipc" | "about" => true,
        "http" | "https" => url.host_str().is_some_and(|host| {
            host == "localhost"
                || host.ends_with(".localhost")
                || host
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }),
        _ => false,
    }
}

/// `TALLY_DATA_DIR`, when set: the data folder instead of the OS app-data folder.
fn data_dir_override() -> Option<PathBuf> {
    std::env::var_os("TALLY_DATA_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// Opens the engine on `TALLY_DATA_DIR`, or the OS app-data folder, with `env_key` (the
/// `OPENAI_API_KEY` taken from the environment at start) for this run.
pub fn open_engine<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    env_key: Option<tally_core::SecretString>,
) -> Result<Arc<Engine>, String> {
    let data_dir = match data_dir_override() {
        Some(dir) => dir,
        None => app.path().app_data_dir().map_err(|e| e.to_string())?,
    };
    tracing::info!(data_dir = %data_dir.display(), "opening the database");
    let mut config = EngineConfig::new(data_dir).with_env(env_key);
    // PDFs are read by this same executable, run apart (see `main.rs`).
    config.pdf_reader = std::env::current_exe()
        .ok()
        .map(|program| tally_core::PdfReader::new(program, vec![READ_PDF_ARG.into()]));
    Engine::open(config).map_err(|e| e.to_string())
}

/// Turns the engine's notices into app-wide events, and budget alerts also into OS
/// notifications (a desktop without a notification service just gets the in-app banner).
pub fn forward_notices<R: tauri::Runtime>(app: &tauri::AppHandle<R>, engine: &Engine) {
    let app = app.clone();
    engine.on_notice(move |notice| match notice {
        Notice::SpendUpdated(spend) => {
            if let Err(e) = app.emit(SPEND_UPDATED, spend) {
                tracing::warn!(error = %e, "could not send the spend update");
            }
        }
        Notice::BudgetAlert(alert) => {
            let shown = app
                .notification()
                .builder()
                .title("Tally: monthly budget")
                .body(&alert.message)
                .show();
            if let Err(e) = shown {
                tracing::warn!(error = %e, "could not show the budget notification");
            }
            if let Err(e) = app.emit(BUDGET_ALERT, alert) {
                tracing::warn!(error = %e, "could not send the budget alert");
            }
        }
        Notice::ConversationTitled(title) => {
            if let Err(e) = app.emit(CONVERSATION_TITLED, title) {
                tracing::warn!(error = %e, "could not send the new title");
            }
        }
        Notice::StorageProblem(message) => {
            if let Err(e) = app.emit(STORAGE_PROBLEM, message) {
                tracing::warn!(error = %e, "could not send the storage problem");
            }
        }
        Notice::McpServerChanged(state) => {
            if let Err(e) = app.emit(MCP_SERVER_CHANGED, state) {
                tracing::warn!(error = %e, "could not send an MCP server's state");
            }
        }
        Notice::SyncChanged(view) => {
            if let Err(e) = app.emit(SYNC_CHANGED, view) {
                tracing::warn!(error = %e, "could not send sync's state");
            }
        }
    });
}

/// Syncs in the background while sync is on: soon after start, then every few minutes.
pub fn start_sync(engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(SYNC_FIRST_AFTER).await;
        loop {
            engine.sync_if_on().await;
            tokio::time::sleep(SYNC_EVERY).await;
        }
    });
}

/// Starts the MCP servers the user turned on, in the background (a server that takes
/// long to start does not hold the window up).
pub fn start_mcp_servers(engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        if let Err(e) = engine.mcp_start_enabled().await {
            tracing::warn!(error = %e, "could not start the MCP servers");
        }
    });
}

/// SIGTERM (what a logout or a shutdown sends) and SIGINT end Tally as closing its window
/// does, through `RunEvent::Exit`, so the MCP servers are stopped rather than left behind.
#[cfg(unix)]
fn quit_on_terminate<R: tauri::Runtime>(app: tauri::AppHandle<R>) {
    use tokio::signal::unix::{SignalKind, signal};
    tauri::async_runtime::spawn(async move {
        let (Ok(mut terminate), Ok(mut interrupt)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::warn!("could not listen for SIGTERM and SIGINT");
            return;
        };
        tokio::select! {
            _ = terminate.recv() => {}
            _ = interrupt.recv() => {}
        }
        tracing::info!("asked to quit by a signal");
        app.exit(0);
    });
}

/// Stops every MCP server and what its program started, so none outlives Tally (each is
/// given a few seconds to exit, then its process group is killed).
pub fn stop_mcp_servers(engine: &Engine) {
    tauri::async_runtime::block_on(engine.mcp_shutdown());
}

/// Before the key first goes to a host other than OpenAI's or this computer's, asks the
/// person in a native dialog: a script in the window could change the API address, but
/// it cannot see or answer this question.
pub fn ask_before_sending_the_key<R: tauri::Runtime>(app: &tauri::AppHandle<R>, engine: &Engine) {
    use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
    let app = app.clone();
    // The engine asks from a blocking thread, never the main one, so waiting here is safe.
    engine.on_key_consent(move |host: &str| {
        let mut dialog = app
            .dialog()
            .message(format!(
                "Tally's API address points to {host}, which is not OpenAI.\n\n\
                 Whoever runs that server can use your key, and spend your money with it. \
                 Say yes only if you set this address yourself and trust that server.\n\n\
                 If you say yes, Tally will not ask again for {host}."
            ))
            .title(format!("Send your API key to {host}?"))
            .kind(MessageDialogKind::Warning)
            .buttons(MessageDialogButtons::OkCancelCustom(
                with_access_key(&format!("Send my key to {host}")),
                with_access_key("Don't send"),
            ));
        if let Some(window) = app.get_webview_window("main") {
            dialog = dialog.parent(&window);
        }
        let yes = dialog.blocking_show();
        tracing::info!(host, yes, "asked whether the key may go to another server");
        yes
    });
}

/// A button label whose first letter is its access key (Alt+letter) where the toolkit
/// marks one with `_` (GTK); elsewhere the label as it is.
fn with_access_key(label: &str) -> String {
    if cfg!(target_os = "linux") {
        // A `_` of the label's own (a host name may hold one) is shown, not taken as a mark.
        format!("_{}", label.replace('_', "__"))
    } else {
        label.to_string()
    }
}

/// Runs the engine's background maintenance on a thread of its own for as long as the app
/// runs.
pub fn start_maintenance(engine: Arc<Engine>) {
    let spawned = std::thread::Builder::new()
        .name("maintenance".into())
        .spawn(move || {
            std::thread::sleep(MAINTAIN_FIRST_AFTER);
            loop {
                match engine.maintain() {
                    Ok(Some(backup)) => tracing::info!(name = %backup.name, "daily backup made"),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(error = %e, "background maintenance failed"),
                }
                std::thread::sleep(MAINTAIN_EVERY);
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start background maintenance");
    }
}

/// One Tally per data folder: a second launch on the same folder brings the open window
/// forward and exits, since two writers on one database would race. A launch on another
/// folder (`TALLY_DATA_DIR`) is another Tally, so its D-Bus name carries the folder's hash.
fn single_instance<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let mut id = "app.tally.desktop".to_string();
    if let Some(dir) = data_dir_override() {
        let mut hasher = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(&dir, &mut hasher);
        let hash = std::hash::Hasher::finish(&hasher);
        id = format!("{id}.data_{hash:016x}");
    }
    #[cfg(target_os = "linux")]
    return single_instance::init(format!("{id}.SingleInstance"));
    #[cfg(not(target_os = "linux"))]
    return tauri_plugin_single_instance::Builder::new()
        .callback(|app: &tauri::AppHandle<R>, _, _| bring_forward(app))
        .dbus_id(id)
        .build();
}

/// Brings the window forward (a second launch asked for it).
fn bring_forward<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    if let Some(window) = app.get_webview_window("main") {
        let shown = window
            .unminimize()
            .and_then(|()| window.show())
            .and_then(|()| window.set_focus());
        if let Err(e) = shown {
            tracing::warn!(error = %e, "could not bring the window forward");
        }
    }
}

/// Saves the window's size and position shortly after it stops moving, not only on a clean
/// quit (the plugin's own moment), so a crash or a kill does not forget them.
///
/// The save itself runs on the main thread. Called from another thread, the plugin holds
/// its state lock while it waits for the main thread to read the window's size, and the
/// main thread takes that same lock for every move, resize and close: the two wait on
/// each other for ever. A window closed at that moment (half a second after it opened or
/// moved) left Tally running with no window, holding the single-instance name, so Tally
/// could not be opened again until it was killed.
fn save_window_state_while_used<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;
    let (moved, moves) = mpsc::channel::<()>();
    // Set on the main thread when the window starts to close; from then on the plugin's
    // own save at exit is the last, and no save reaches into a window being destroyed.
    let closing = Arc::new(AtomicBool::new(false));
    let closing_seen = Arc::clone(&closing);
    window.on_window_event(move |event| match event {
        tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_) => {
            let _ = moved.send(());
        }
        tauri::WindowEvent::CloseRequested { .. } | tauri::WindowEvent::Destroyed => {
            closing_seen.store(true, Ordering::SeqCst);
        }
        _ => {}
    });
    let app = window.app_handle().clone();
    let spawned = std::thread::Builder::new()
        .name("window-state".into())
        .spawn(move || {
            while moves.recv().is_ok() {
                // Wait for a quiet moment: a drag sends hundreds of moves.
                while moves.recv_timeout(WINDOW_STATE_QUIET).is_ok() {}
                let on_main = app.clone();
                let closing = Arc::clone(&closing);
                let scheduled = app.run_on_main_thread(move || {
                    if !closing.load(Ordering::SeqCst) {
                        save_window_state_now(&on_main);
                    }
                });
                if scheduled.is_err() {
                    // The event loop has ended: the plugin saves on exit.
                    break;
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "could not start saving the window's size and place");
    }
}

/// Saves the window's size and place; on the main thread only (see above).
fn save_window_state_now<R: tauri::Runtime>(app: &tauri::AppHandle<R>) {
    use tauri_plugin_window_state::{AppHandleExt, StateFlags};
    if let Err(e) = app.save_window_state(StateFlags::all()) {
        tracing::warn!(error = %e, "could not save the window's size and place");
    }
}

/// Runs the app.
#[allow(
    unsafe_code,
    reason = "take_env_api_key changes the environment, before any thread starts"
)]
pub fn run() {
    // SAFETY: the first thing `main` does; no other thread runs yet.
    let env_key = unsafe { tally_core::take_env_api_key() };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TALLY_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // The single-instance plugin goes first, so a second launch exits before anything opens.
    configure(tauri::Builder::default().plugin(single_instance()))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .setup(|app| {
            let window = main_window(app)?;
            save_window_state_while_used(&window);
            let engine = open_engine(app.handle(), env_key)?;
            forward_notices(app.handle(), &engine);
            ask_before_sending_the_key(app.handle(), &engine);
            start_maintenance(engine.clone());
            updates::start_quiet_checks(app.handle().clone(), engine.clone());
            start_mcp_servers(engine.clone());
            start_sync(engine.clone());
            #[cfg(unix)]
            quit_on_terminate(app.handle().clone());
            app.manage(engine);
            Ok(())
        })
        .build(tauri::generate_context!())
        .unwrap_or_else(|e| {
            eprintln!("Tally could not start: {e}");
            std::process::exit(1);
        })
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event
                && let Some(engine) = app.try_state::<Arc<Engine>>()
            {
                stop_mcp_servers(&engine);
            }
        });
}

#[cfg(test)]
mod tests {
    /// The window stays on Tally's pages: its assets, the isolation frame and loopback
    /// (the development server), never a page elsewhere.
    #[test]
    fn only_the_apps_own_pages_may_load_in_the_window() {
        for (url, allowed) in [
            ("tauri://localhost/index.html", true),
            ("http://tauri.localhost/index.html", true),
            ("isolation://localhost/index.html", true),
            ("http://localhost:5173/", true),
            ("http://127.0.0.1:5173/", true),
            ("about:blank", true),
            ("https://example.com/", false),
            ("http://localhost.example.com/", false),
            ("http://127.0.0.1.example.com/", false),
            ("file:///etc/passwd", false),
            ("javascript:alert(1)", false),
            ("data:text/html,<script>alert(1)</script>", false),
        ] {
            let parsed = tauri::Url::parse(url).unwrap();
            assert_eq!(super::is_app_page(&parsed), allowed, "{url}");
        }
    }
}
