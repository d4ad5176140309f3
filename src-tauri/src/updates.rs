//! Updates through `tauri-plugin-updater`: the check against Tally's release manifest (the
//! endpoint and the public key are `plugins.updater` in `tauri.conf.json`, their one place),
//! the package downloaded with a bound on its size, installed only once its signature is
//! the developers' and names the version announced, then a restart. Nothing is sent but
//! the request for the manifest and the package. With the person's agreement (a setting,
//! off until given), a quiet check once a day, whose find is an app-wide event.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use tally_core::Engine;
use tally_core::api::{AvailableUpdate, ErrorCode, IpcError, UpdateProgress, UpdateView};
use tauri::{Emitter, Manager};
use tauri_plugin_updater::{Update, Updater, UpdaterExt};

/// The app-wide event when the quiet daily check finds a newer version.
pub const UPDATE_AVAILABLE: &str = "update_available";

/// The most an update package may weigh (a release's .deb is about 10 MB).
const MAX_PACKAGE_BYTES: u64 = 200_000_000;
/// The most of a release's notes shown.
const MAX_NOTES_CHARS: usize = 4_000;
/// Whether the quiet check is due is first asked this long after start (the window is up
/// by then), then every hour: the engine lets it through at most once a day.
const QUIET_FIRST_AFTER: Duration = Duration::from_secs(10);
const QUIET_EVERY: Duration = Duration::from_secs(60 * 60);

/// The update the last check found, which Install installs.
#[derive(Default)]
pub struct Updates {
    found: Mutex<Option<Update>>,
    wake: tokio::sync::Notify,
}

impl Updates {
    /// Asks the quiet check whether it is due now rather than at its next hour (the person
    /// has just agreed to it).
    pub fn wake_quiet_check(&self) {
        self.wake.notify_one();
    }
}

/// Runs the quiet daily check for as long as the app runs: when due (see
/// [`Engine::take_daily_update_check`]) it asks the update server, and a newer version is
/// announced to the window as [`UPDATE_AVAILABLE`]. A failed check is only logged: the
/// person did not ask for this one.
pub fn start_quiet_checks<R: tauri::Runtime>(app: tauri::AppHandle<R>, engine: Arc<Engine>) {
    tauri::async_runtime::spawn(async move {
        let updates = app.state::<Updates>();
        let mut wait = QUIET_FIRST_AFTER;
        loop {
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = updates.wake.notified() => {}
            }
            wait = QUIET_EVERY;
            let engine = engine.clone();
            let due =
                tauri::async_runtime::spawn_blocking(move || engine.take_daily_update_check())
                    .await;
            match due {
                Ok(Ok(true)) => {}
                Ok(Ok(false)) => continue,
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "could not read whether an update check is due");
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the update check's question failed");
                    continue;
                }
            }
            match check(&app, &updates).await {
                Ok(UpdateView {
                    available: Some(offer),
                    ..
                }) => {
                    tracing::info!(version = %offer.version, "a newer Tally is out");
                    if let Err(e) = app.emit(UPDATE_AVAILABLE, offer) {
                        tracing::warn!(error = %e, "could not announce the update");
                    }
                }
                Ok(_) => tracing::info!("Tally is up to date"),
                Err(e) => tracing::info!(error = %e.message, "the daily update check failed"),
            }
        }
    });
}

/// Asks the update server whether a newer Tally is out.
pub async fn check<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    updates: &Updates,
) -> Result<UpdateView, IpcError> {
    let current = app.package_info().version.to_string();
    let found = updater(app)?.check().await.map_err(|e| {
        error(
            ErrorCode::Network,
            format!(
                "Tally could not reach its update server ({}). Try again later.",
                plain(&e)
            ),
        )
    })?;
    let available = found.as_ref().map(|update| AvailableUpdate {
        version: update.version.clone(),
        notes: update.body.as_deref().map(bounded_notes),
        date: update.date.map(|d| d.date().to_string()),
    });
    *updates.found.lock().unwrap_or_else(|e| e.into_inner()) = found;
    Ok(UpdateView { current, available })
}

/// Downloads the update the last check found (its progress to `progress`), installs it
/// once its signature is verified, and restarts Tally at the new version.
pub async fn install<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    updates: &Updates,
    progress: impl Fn(UpdateProgress),
) -> Result<(), IpcError> {
    let update = updates
        .found
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .ok_or_else(|| error(ErrorCode::NotFound, "Check for updates first.".to_string()))?;
    let package = download(&update, progress).await?;
    tauri::async_runtime::spawn_blocking(move || update.install(package))
        .await
        .map_err(|e| error(ErrorCode::Internal, e.to_string()))?
        .map_err(|e| install_failed(&e))?;
    // Through the exit of the event loop, so the MCP servers are stopped as on any quit.
    app.request_restart();
    Ok(())
}

fn updater<R: tauri::Runtime>(app: &tauri::AppHandle<R>) -> Result<Updater, IpcError> {
    let builder = app.updater_builder().timeout(Duration::from_secs(60));
    // The tests serve a release of their own on loopback, signed with a key of their own; a
    // release build reads neither variable.
    #[cfg(debug_assertions)]
    let builder = {
        let mut builder = builder;
        if let Ok(url) = std::env::var("TALLY_UPDATE_URL") {
            let url = url
                .parse()
                .map_err(|_| error(ErrorCode::InvalidInput, format!("TALLY_UPDATE_URL: {url}")))?;
            builder = builder
                .endpoints(vec![url])
                .map_err(|e| error(ErrorCode::InvalidInput, plain(&e)))?;
        }
        if let Ok(key) = std::env::var("TALLY_UPDATE_PUBKEY") {
            builder = builder.pubkey(key);
        }
        builder
    };
    builder
        .build()
        .map_err(|e| error(ErrorCode::Internal, plain(&e)))
}

/// The package, read to its end with a bound on its size (a server may send anything).
async fn download(update: &Update, progress: impl Fn(UpdateProgress)) -> Result<Vec<u8>, IpcError> {
    let url = &update.download_url;
    if url.scheme() != "https" && !(cfg!(debug_assertions) && tally_core::is_loopback(url)) {
        return Err(error(
            ErrorCode::UpdateFailed,
            "The update's address is not secure (https), so Tally did not download it.".into(),
        ));
    }
    let unreachable = |e: reqwest::Error| {
        error(
            ErrorCode::Network,
            format!("The update could not be downloaded ({e}). Nothing was changed."),
        )
    };
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(unreachable)?;
    let response = client
        .get(url.as_str())
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(unreachable)?;
    let total = response.content_length();
    let too_large = || {
        error(
            ErrorCode::UpdateFailed,
            "The update is far larger than Tally's packages are, so it was not installed. \
             Nothing was changed."
                .into(),
        )
    };
    if total.is_some_and(|t| t > MAX_PACKAGE_BYTES) {
        return Err(too_large());
    }
    let mut package = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(piece) = stream.next().await {
        let piece = piece.map_err(unreachable)?;
        if (package.len() + piece.len()) as u64 > MAX_PACKAGE_BYTES {
            return Err(too_large());
        }
        package.extend_from_slice(&piece);
        progress(UpdateProgress {
            downloaded: package.len() as u64,
            total,
        });
    }
    Ok(package)
}

fn install_failed(e: &tauri_plugin_updater::Error) -> IpcError {
    use tauri_plugin_updater::Error as E;
    let message = match e {
        E::Minisign(_)
        | E::Base64(_)
        | E::SignatureUtf8(_)
        | E::SignedVersionMismatch { .. }
        | E::MissingSignedVersion => {
            "This update is not signed by Tally's developers, so it was not installed. Nothing \
             was changed."
                .to_string()
        }
        E::InvalidUpdaterFormat => {
            "The download is not a package of the kind Tally was installed from, so it was not \
             installed. Nothing was changed."
                .to_string()
        }
        _ => format!(
            "The system did not install the update ({}). Nothing was changed: you can install \
             the new package from Tally's home page instead.",
            plain(e)
        ),
    };
    error(ErrorCode::UpdateFailed, message)
}

fn bounded_notes(notes: &str) -> String {
    notes
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .take(MAX_NOTES_CHARS)
        .collect()
}

fn plain(e: &impl std::fmt::Display) -> String {
    let text = e.to_string();
    text.chars().take(300).collect()
}

fn error(code: ErrorCode, message: String) -> IpcError {
    IpcError { code, message }
}
