//! The shell on Tauri's mock runtime: commands called through real IPC requests, with the
//! engine on a temporary SQLite file and the mock API on loopback.

mod acl;
mod commands;

use std::sync::{Arc, Mutex};

use mock_openai::{MockConfig, MockServer};
use serde_json::{Value, json};
use tally_core::{Engine, EngineConfig};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{
    INVOKE_KEY, MockRuntime, get_ipc_response, mock_builder, mock_context, noop_assets,
};
use tauri::webview::InvokeRequest;
use tauri::{Listener, Manager, WebviewWindow, WebviewWindowBuilder};

pub const KEY: &str = "sk-proj-TestKeyForTallyOnly0000000000abcd";

pub struct Shell {
    pub window: WebviewWindow<MockRuntime>,
    /// App-wide events the shell emitted: `(name, payload)`.
    pub events: Arc<Mutex<Vec<(String, Value)>>>,
    pub mock: MockServer,
    _app: tauri::App<MockRuntime>,
    dir: tempfile::TempDir,
}

impl Shell {
    pub fn start() -> Self {
        Self::start_in_window("main")
    }

    /// The shell with its one window labelled `window_label` (the capability names "main").
    pub fn start_in_window(window_label: &str) -> Self {
        let mock = MockServer::start_in_background(MockConfig {
            delay: std::time::Duration::ZERO,
            ..Default::default()
        })
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut config = EngineConfig::new(dir.path());
        config.api_base_override = Some(mock.base_url());
        config.env_api_key = Some(tally_core::SecretString::from(KEY));
        config.keychain_service = format!("Tally-shell-test-{}", std::process::id());
        let engine: Arc<Engine> = Engine::open(config).unwrap();
        // Tests that count requests do not want the background title request.
        engine
            .settings_set(tally_core::api::SettingsUpdate {
                auto_titles: Some(false),
                ..Default::default()
            })
            .unwrap();
        let app = tally_app::configure(mock_builder())
            .build(context_with_real_permissions())
            .unwrap();
        tally_app::forward_notices(app.handle(), &engine);
        let events = Arc::new(Mutex::new(Vec::new()));
        for name in [
            tally_app::SPEND_UPDATED,
            tally_app::BUDGET_ALERT,
            tally_app::CONVERSATION_TITLED,
        ] {
            let events = events.clone();
            app.listen(name, move |event| {
                let payload = serde_json::from_str(event.payload()).unwrap();
                events.lock().unwrap().push((name.to_string(), payload));
            });
        }
        app.manage(engine);
        let window = WebviewWindowBuilder::new(&app, window_label, Default::default())
            .build()
            .unwrap();
        Self {
            window,
            events,
            mock,
            _app: app,
            dir,
        }
    }

    /// The engine's data folder.
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    /// Invokes `command` as the UI would; `Ok` holds the JSON result, `Err` the JSON error.
    pub fn invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        get_ipc_response(
            &self.window,
            InvokeRequest {
                cmd: command.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|body| body.deserialize::<Value>().unwrap())
    }
}

/// The mock context with the app's real permissions (the capability and the permissions
/// build.rs generates), so every command call here passes the same checks as in the app.
fn context_with_real_permissions() -> tauri::Context<MockRuntime> {
    let mut context = mock_context(noop_assets());
    let mut real: tauri::Context<MockRuntime> = tauri::generate_context!();
    std::mem::swap(
        context.runtime_authority_mut(),
        real.runtime_authority_mut(),
    );
    // The plugins' own settings too (the updater's endpoint and key).
    context.config_mut().plugins = real.config().plugins.clone();
    context
}

pub fn no_args() -> Value {
    json!({})
}
