use std::process::Command;

use tally_keychain::{ApiKeyStore, ExposeSecret, KeyFormat, KeychainError, normalize_key};

use tally_keychain::test_support::{Setup, in_child};

const KEY: &str = "sk-proj-TestKeyForTallyOnly0000000000abcd";

fn secret_tool_lookup(store: &ApiKeyStore) -> String {
    // keyring's Secret Service backend files the entry under these attributes.
    let out = Command::new("secret-tool")
        .args([
            "lookup",
            "service",
            store.service(),
            "username",
            store.account(),
        ])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn stores_reads_replaces_and_deletes_the_key() {
    if !in_child(
        "store::stores_reads_replaces_and_deletes_the_key",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    let store = ApiKeyStore::new("Tally-test");
    assert!(!store.status().unwrap().stored);
    assert!(store.get().unwrap().is_none());

    let key = normalize_key(&format!("  {KEY}\n"), KeyFormat::OpenAi).unwrap();
    store.set(&key).unwrap();
    let status = store.status().unwrap();
    assert!(status.stored);
    assert_eq!(status.last_four.as_deref(), Some("abcd"));
    assert_eq!(store.get().unwrap().unwrap().expose_secret(), KEY);
    // Other programs see it in the real keychain.
    assert_eq!(secret_tool_lookup(&store), KEY);

    let replacement =
        normalize_key("sk-proj-SecondKeyForTally000000000wxyz", KeyFormat::OpenAi).unwrap();
    store.set(&replacement).unwrap();
    assert_eq!(store.status().unwrap().last_four.as_deref(), Some("wxyz"));

    store.delete().unwrap();
    assert!(!store.status().unwrap().stored);
    assert_eq!(secret_tool_lookup(&store), "");
    // Deleting again is fine.
    store.delete().unwrap();
}

fn assert_unavailable(result: Result<impl std::fmt::Debug, KeychainError>) {
    match result {
        Err(KeychainError::Unavailable { reason }) => {
            assert!(reason.contains("OPENAI_API_KEY"), "{reason}");
            assert!(!reason.contains("sk-"), "{reason}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn no_session_bus_is_explained() {
    if !in_child("store::no_session_bus_is_explained", Setup::NoBus) {
        return;
    }
    let store = ApiKeyStore::new("Tally-test");
    assert_unavailable(store.status());
    assert_unavailable(store.set(&normalize_key(KEY, KeyFormat::OpenAi).unwrap()));
}

#[test]
fn bus_without_secret_service_is_explained() {
    if !in_child(
        "store::bus_without_secret_service_is_explained",
        Setup::BusWithoutKeyring,
    ) {
        return;
    }
    let store = ApiKeyStore::new("Tally-test");
    assert_unavailable(store.status());
    assert_unavailable(store.set(&normalize_key(KEY, KeyFormat::OpenAi).unwrap()));
}

#[test]
fn a_locked_keychain_is_explained() {
    if !in_child(
        "store::a_locked_keychain_is_explained",
        Setup::UnlockedKeyring,
    ) {
        return;
    }
    let store = ApiKeyStore::new("Tally-test").with_timeout(std::time::Duration::from_secs(2));
    store
        .set(&normalize_key(KEY, KeyFormat::OpenAi).unwrap())
        .unwrap();
    // The Secret Service's own Lock call (secret-tool's `lock` waits on a prompt here).
    let locked = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .status()
        .unwrap();
    assert!(locked.success());
    match store.get() {
        Err(KeychainError::Unavailable { reason }) => {
            assert!(
                reason.contains("locked") && reason.contains("OPENAI_API_KEY"),
                "{reason}"
            );
            assert!(!reason.contains(KEY));
        }
        other => panic!("expected a locked keychain, got {other:?}"),
    }
}
