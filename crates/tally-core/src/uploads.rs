//! Files being sent for import, piece by piece (the web view reads them in pieces): each
//! upload's reading state by id, until its run takes it. An upload nobody added to for a
//! while was abandoned (the window closed, say) and is freed when the next one begins.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::api::{ImportSource, ImportSummary};
use crate::array_splitter::ArraySplitter;

/// An upload nobody has added to for this long was abandoned.
const ABANDONED_AFTER: Duration = Duration::from_secs(15 * 60);

/// The uploads under way (see the module's doc).
#[derive(Default)]
pub(crate) struct Uploads {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next: u64,
    /// Each upload, and when a piece of it last arrived.
    jobs: HashMap<u64, (ImportJob, Instant)>,
}

impl Uploads {
    /// Starts an upload; returns its id. Abandoned ones are freed (a Tally file may hold
    /// 512 MB).
    pub(crate) fn begin(&self) -> u64 {
        self.begin_at(Instant::now())
    }

    fn begin_at(&self, now: Instant) -> u64 {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state
            .jobs
            .retain(|_, (_, touched)| now.saturating_duration_since(*touched) < ABANDONED_AFTER);
        state.next += 1;
        let id = state.next;
        state.jobs.insert(id, (ImportJob::new(), now));
        id
    }

    /// Takes upload `id` out to add a piece to it or to run it; `None` if Tally no
    /// longer knows it (cancelled, abandoned, already run).
    pub(crate) fn take(&self, id: u64) -> Option<ImportJob> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.jobs.remove(&id).map(|(job, _)| job)
    }

    /// Puts upload `id` back after a piece was added to it.
    pub(crate) fn put_back(&self, id: u64, job: ImportJob) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.jobs.insert(id, (job, Instant::now()));
    }
}

/// One import under way. ChatGPT's file (a JSON array, often hundreds of MB) is imported
/// conversation by conversation as its pieces arrive, so only one conversation is held at
/// a time; a Tally export (an object) is read whole at the end; ChatGPT's export as its
/// `.zip` is kept in a file until it is whole (a zip is read from its end).
pub(crate) struct ImportJob {
    pub splitter: ArraySplitter,
    /// A Tally export, as received so far.
    pub whole: Option<String>,
    /// ChatGPT's `.zip`, as received so far.
    pub archive: Option<ArchiveUpload>,
    pub summary: ImportSummary,
    /// The uids this file has held so far (a file may repeat a conversation).
    pub seen: HashSet<String>,
}

impl ImportJob {
    pub(crate) fn new() -> Self {
        Self {
            splitter: ArraySplitter::default(),
            whole: None,
            archive: None,
            summary: ImportSummary {
                source: ImportSource::Chatgpt,
                imported: 0,
                already_there: 0,
                messages: 0,
                skipped_parts: 0,
                pictures: 0,
                unreadable: 0,
            },
            seen: HashSet::new(),
        }
    }
}

/// A `.zip` being received: a file in the data folder's `imports` folder, removed when the
/// upload ends (imported, failed or abandoned) and, after a crash, when Tally opens again.
pub(crate) struct ArchiveUpload {
    pub file: tempfile::NamedTempFile,
    pub bytes: u64,
}

/// The folder uploads are kept in while they arrive, under the data folder.
pub(crate) fn imports_folder(data_dir: &std::path::Path) -> std::path::PathBuf {
    data_dir.join("imports")
}

/// Removes the uploads a crash left in the imports folder.
pub(crate) fn clear_imports_folder(data_dir: &std::path::Path) {
    let folder = imports_folder(data_dir);
    match std::fs::remove_dir_all(&folder) {
        Ok(()) => tracing::info!("removed what an unfinished import left"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::warn!(error = %e, folder = %folder.display(), "could not remove what an unfinished import left")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upload left unfinished is freed when the next one begins; a recent one stays.
    #[test]
    fn abandoned_uploads_are_freed() {
        let uploads = Uploads::default();
        let start = Instant::now();
        let abandoned = uploads.begin_at(start);
        let recent = uploads.begin_at(start + ABANDONED_AFTER / 2);
        let next = uploads.begin_at(start + ABANDONED_AFTER + Duration::from_secs(1));
        assert!(uploads.take(abandoned).is_none());
        assert!(uploads.take(recent).is_some());
        assert!(uploads.take(next).is_some());
        assert!(uploads.take(next).is_none(), "taken once");
    }
}
