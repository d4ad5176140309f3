//! One Tally per data folder, on Linux through a name on the session bus (D-Bus).
//!
//! A second launch asks the first to bring its window forward, then exits. Unlike
//! `tauri-plugin-single-instance` (which Tally used before, and still uses elsewhere), a
//! launch that finds the name held by a Tally that is just quitting waits for it to go and
//! opens, instead of exiting in silence with no window; and one held by a Tally that does
//! not answer says so in words.

use std::time::{Duration, Instant};

use tauri::plugin::{Builder, TauriPlugin};
use tauri::{AppHandle, Manager, Runtime};

/// How long a launch waits for a quitting Tally to let go of the name.
const WAIT_FOR_QUITTING: Duration = Duration::from_secs(10);
/// How long the running Tally has to answer "bring your window forward".
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
const OBJECT_PATH: &str = "/app/tally/desktop/Instance";
const INTERFACE: &str = "app.tally.desktop.Instance";

/// The plugin; `bus_name` is the name this Tally holds while it runs.
pub fn init<R: Runtime>(bus_name: String) -> TauriPlugin<R> {
    Builder::new("single-instance")
        .setup(move |app, _| {
            hold_or_hand_over(app, &bus_name);
            Ok(())
        })
        .on_event(|app, event| {
            // Let go at once on the way out, so a launch right after finds the name free.
            if let tauri::RunEvent::Exit = event
                && let Some(held) = app.try_state::<Held>()
            {
                let _ = held.connection.release_name(held.name.as_str());
            }
        })
        .build()
}

/// The connection that holds the name, kept for as long as the app runs.
struct Held {
    connection: zbus::blocking::Connection,
    name: String,
}

/// What the running Tally serves to a second launch.
struct Instance<R: Runtime> {
    app: AppHandle<R>,
}

#[zbus::interface(name = "app.tally.desktop.Instance")]
impl<R: Runtime> Instance<R> {
    fn show(&self) {
        crate::bring_forward(&self.app);
    }
}

/// How a call to the Tally holding the name went.
enum Handover {
    /// It brought its window forward: this launch has nothing to do.
    Shown,
    /// It let go of the name meanwhile (it was quitting): try to take it again.
    Gone,
    /// It holds the name but does not answer.
    Unresponsive(String),
}

/// Takes the name, or hands this launch over to the Tally holding it and exits.
fn hold_or_hand_over<R: Runtime>(app: &AppHandle<R>, bus_name: &str) {
    let deadline = Instant::now() + WAIT_FOR_QUITTING;
    loop {
        let built = zbus::blocking::connection::Builder::session()
            .and_then(|b| b.name(bus_name))
            .and_then(|b| {
                b.replace_existing_names(false)
                    .allow_name_replacements(false)
                    .serve_at(OBJECT_PATH, Instance { app: app.clone() })
            })
            .and_then(|b| b.build());
        match built {
            Ok(connection) => {
                app.manage(Held {
                    connection,
                    name: bus_name.to_string(),
                });
                return;
            }
            Err(zbus::Error::NameTaken) => match hand_over(bus_name) {
                Handover::Shown => {
                    tracing::info!("Tally is already open on this data folder: brought it forward");
                    leave(app, 0);
                }
                Handover::Gone if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Handover::Gone => {
                    not_answering(app, "it kept its name on the session bus without answering")
                }
                Handover::Unresponsive(why) => not_answering(app, &why),
            },
            // No session bus (a bare session): Tally runs without the guard.
            Err(e) => {
                tracing::warn!(error = %e, "no single-instance guard: the session bus is not reachable");
                return;
            }
        }
    }
}

/// Asks the Tally holding `bus_name` to bring its window forward.
fn hand_over(bus_name: &str) -> Handover {
    let connection = match zbus::blocking::connection::Builder::session()
        .map(|b| b.method_timeout(ANSWER_WITHIN))
        .and_then(|b| b.build())
    {
        Ok(connection) => connection,
        Err(e) => return Handover::Unresponsive(e.to_string()),
    };
    match connection.call_method(Some(bus_name), OBJECT_PATH, Some(INTERFACE), "Show", &()) {
        Ok(_) => Handover::Shown,
        Err(zbus::Error::MethodError(name, _, _))
            if [
                "org.freedesktop.DBus.Error.ServiceUnknown",
                "org.freedesktop.DBus.Error.NameHasNoOwner",
                "org.freedesktop.DBus.Error.NoReply",
                "org.freedesktop.DBus.Error.Disconnected",
            ]
            .contains(&name.as_str()) =>
        {
            Handover::Gone
        }
        Err(e) => Handover::Unresponsive(e.to_string()),
    }
}

/// Tells the person that another Tally holds this data folder but does not answer (in a
/// dialog, and the log), then exits: a second writer on one database would race the first.
fn not_answering<R: Runtime>(app: &AppHandle<R>, why: &str) -> ! {
    tracing::error!(
        why,
        "Tally is already open on this data folder but does not answer"
    );
    // On the main thread, where Tauri has set GTK up; the event loop does not run yet, so
    // the dialog runs its own (a dialog library's helper thread would wait for ever).
    if gtk::is_initialized_main_thread() {
        use gtk::prelude::*;
        let dialog = gtk::MessageDialog::new(
            None::<&gtk::Window>,
            gtk::DialogFlags::MODAL,
            gtk::MessageType::Error,
            gtk::ButtonsType::Ok,
            "Tally is already open",
        );
        dialog.set_title("Tally is already open");
        dialog.set_secondary_text(Some(
            "Tally is already running, but it is not answering, so this window cannot open. \
             Close the other Tally (or restart your computer), then open Tally again. \
             Nothing you saved is lost.",
        ));
        dialog.run();
        dialog.close();
    }
    leave(app, 1);
}

/// Ends a launch that never opened anything (no window, no database) with `code`. Not by
/// `exit`: its handlers tear down GTK's and zbus's statics while their threads still run,
/// and one end-to-end run saw such a second launch end in SIGSEGV instead of status 0.
#[allow(unsafe_code, reason = "_exit is a C call; see the comment above")]
fn leave<R: Runtime>(app: &AppHandle<R>, code: i32) -> ! {
    app.cleanup_before_exit();
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: `_exit` ends the process at once; nothing this launch made needs closing.
    unsafe { libc::_exit(code) }
}
