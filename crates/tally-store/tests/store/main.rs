//! The store against real SQLite files in temporary folders.

mod attachments;
mod backup;
mod conversations;
mod ledger;
mod messages;
mod schema;
mod search;
mod sync;
mod tools;
mod transfer;
mod tree;

use tally_store::Store;

pub fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_in(dir.path()).unwrap();
    (dir, store)
}
