//! Against a real Secret Service: each test re-runs itself inside a private D-Bus session
//! with its own unlocked gnome-keyring and a fresh HOME (see `session`), so it never
//! touches the developer's own keychain and never falls back to a fake.

mod store;
