//! Sync between the computers a person uses: turning it on and off, and one sync (send what
//! this computer changed as a new file of its own, then read the files of the others it has
//! not read and merge them). The merge rules are the store's (`tally_store::Change`); the
//! storage, its encryption and its files are `tally-sync`'s. The passphrase and the
//! storage's password live in the keychain; the API key is never in a change.

use std::collections::{HashMap, HashSet};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use tally_store::{ApplySummary, Change, SnapshotPosition};
use tally_sync::{Location, Segment, Snapshot, SyncError, SyncFolder};

use crate::api::{SyncDeviceView, SyncLocationInput, SyncSetupInput, SyncStatus, SyncView};
use crate::keys::keychain;
use crate::notices::Notice;
use crate::settings::{self, StoredSyncResult};
use crate::{CoreError, Engine};

/// The format of a file's changes this version writes; it reads this one and earlier ones.
const CHANGES_FORMAT: u32 = 1;
/// About how much of the changes one file holds (a first sync writes several).
const FILE_TARGET_BYTES: usize = 8 * 1024 * 1024;
/// A computer writes a snapshot of everything it has once it has written this many files
/// since its last one (about a week of use), so that a new computer reads one snapshot and
/// the files after it, not every change ever made.
const SNAPSHOT_AFTER_FILES: usize = 1000;
/// The format of a snapshot's manifest this version writes and reads.
const SNAPSHOT_FORMAT: u32 = 1;
/// The shortest passphrase taken: it is all that stands between the storage and the data.
const MIN_PASSPHRASE_CHARS: usize = 8;

/// What one file of changes holds.
#[derive(Debug, Serialize, Deserialize)]
struct ChangesFile {
    tally_changes: u32,
    /// The computer's name, as it shows in the others' Settings.
    device_name: String,
    changes: Vec<Change>,
}

/// What finishes a snapshot: how many parts it has, and how far its computer had read each
/// computer's files when it was written (a new computer reads on from there).
#[derive(Debug, Serialize, Deserialize)]
struct SnapshotManifest {
    tally_snapshot: u32,
    device_name: String,
    parts: u32,
    read_through: Vec<(String, String)>,
}

/// What one sync did.
#[derive(Debug, Default)]
struct Report {
    sent: u64,
    applied: ApplySummary,
    unread: Vec<String>,
}

impl Report {
    fn words(&self) -> String {
        let a = &self.applied;
        let mut received = Vec::new();
        for (count, one, many) in [
            (a.conversations_added, "conversation", "conversations"),
            (a.messages_added, "message", "messages"),
            (a.ledger_rows_added, "billed request", "billed requests"),
            (a.values_changed, "change", "changes"),
        ] {
            if count > 0 {
                received.push(format!("{count} {}", if count == 1 { one } else { many }));
            }
        }
        let sent = match self.sent {
            0 => "Nothing to send".to_string(),
            1 => "Sent 1 change".to_string(),
            n => format!("Sent {n} changes"),
        };
        let done = if received.is_empty() {
            format!("{sent}; nothing new from the other computers.")
        } else {
            format!("{sent}; received {}.", received.join(", "))
        };
        // Kept, not lost: say so, or a message that has not appeared looks dropped.
        match a.waiting {
            0 => done,
            1 => format!(
                "{done} 1 change waits for an earlier one that has not arrived yet; \
                 it is applied when that arrives."
            ),
            n => format!(
                "{done} {n} changes wait for earlier ones that have not arrived yet; \
                 they are applied when those arrive."
            ),
        }
    }

    fn received(&self) -> u64 {
        let a = &self.applied;
        a.conversations_added + a.messages_added + a.ledger_rows_added + a.values_changed
    }
}

impl Engine {
    /// Sync as Settings shows it.
    pub fn sync_view(&self) -> Result<SyncView, CoreError> {
        let store = self.store();
        let on = store.sync_recording()?;
        let location = settings::SYNC_LOCATION.get(&store)?;
        let last = settings::SYNC_LAST.get(&store)?;
        let unread = store.sync_unread_segments()?;
        drop(store);
        let spend = self.spend_summary()?;
        let devices = self.computers_spend(spend.period_start, spend.period_end)?;
        let syncing = self.sync.syncing.load(std::sync::atomic::Ordering::SeqCst);
        let problem = last.as_ref().and_then(|l| l.problem.clone()).or_else(|| {
            (!unread.is_empty()).then(|| unread_words(unread.len(), &unread[0].problem))
        });
        let status = match (on, syncing, last.as_ref().and_then(|l| l.problem.as_ref())) {
            (false, _, _) => SyncStatus::Off,
            (true, true, _) => SyncStatus::Syncing,
            (true, false, Some(_)) => SyncStatus::Error,
            (true, false, None) => SyncStatus::Idle,
        };
        let computers = devices.len() as i64;
        let overshoot = spend
            .budget
            .as_ref()
            .filter(|_| on && computers > 1)
            .map(|budget| {
                let left = (budget.monthly_nanos - spend.spent_nanos).max(0);
                format!(
                    "Each computer holds to the budget as it last synced. If all {computers} \
                     spend while offline, together they can pass the budget by up to {} \
                     (each can spend the {} that was left).",
                    tally_spend::format_usd(left * (computers - 1)),
                    tally_spend::format_usd(left)
                )
            });
        Ok(SyncView {
            status,
            location,
            last_sync_at: last.as_ref().map(|l| l.at),
            last_result: last.as_ref().and_then(|l| l.result.clone()),
            problem,
            devices,
            overshoot,
            received: self.sync.received.load(std::sync::atomic::Ordering::SeqCst),
        })
    }

    /// What each computer that syncs spent in `[from, to)`, this one first (only this one
    /// when sync never ran).
    pub(crate) fn computers_spend(
        &self,
        from: i64,
        to: i64,
    ) -> Result<Vec<SyncDeviceView>, CoreError> {
        let store = self.store();
        let this_device = store.sync_device()?;
        let others: Vec<_> = store
            .sync_devices()?
            .into_iter()
            .filter(|d| d.device != this_device)
            .collect();
        let mut devices = vec![SyncDeviceView {
            name: "This computer".into(),
            this_computer: true,
            last_seen: None,
            spent_nanos: 0,
            requests: 0,
        }];
        devices.extend(others.iter().map(|device| SyncDeviceView {
            name: device.name.clone().unwrap_or_else(|| {
                format!("Computer {}", &device.device[..6.min(device.device.len())])
            }),
            this_computer: false,
            last_seen: device.last_seen,
            spent_nanos: 0,
            requests: 0,
        }));
        for (device, spent, requests) in store.spend_by_device(from, to)? {
            let index = match device {
                None => Some(0),
                Some(id) if id == this_device => Some(0),
                Some(id) => others.iter().position(|d| d.device == id).map(|i| i + 1),
            };
            if let Some(view) = index.and_then(|i| devices.get_mut(i)) {
                view.spent_nanos += spent;
                view.requests += requests;
            }
        }
        Ok(devices)
    }

    /// Turns sync on: the storage is opened with the passphrase (the first computer sets
    /// it; the others must give the same), the place and secrets are kept, and a first sync
    /// sends everything here and takes everything there. Nothing is kept when the storage
    /// or the passphrase is refused; a first sync that fails after that shows as an error.
    pub async fn sync_enable(&self, input: SyncSetupInput) -> Result<SyncView, CoreError> {
        let passphrase = input.passphrase.trim().to_string();
        if passphrase.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(CoreError::InvalidInput(format!(
                "Choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters: it is \
                 what keeps your conversations private on the storage."
            )));
        }
        let passphrase = SecretString::from(passphrase);
        let given_secret = storage_secret_of(&input.location);
        let secret = match given_secret.clone() {
            Some(secret) => Some(secret),
            None => self.keychain_sync_secret().await?,
        };
        let location = to_location(&input.location, secret)?;
        let (folder, _created) =
            SyncFolder::open_with(&location, &passphrase, self.sync_time_limits).await?;
        let passphrase_slot = self.keys.keychain.for_sync_passphrase();
        keychain(move || passphrase_slot.set(&passphrase)).await?;
        if let Some(secret) = given_secret {
            let slot = self.keys.keychain.for_sync_storage();
            keychain(move || slot.set(&secret)).await?;
        }
        {
            let mut store = self.store();
            settings::SYNC_LOCATION.set(&store, &without_secrets(input.location))?;
            settings::SYNC_LAST.remove(&store)?;
            // Perhaps another storage than before: this computer is new to it.
            settings::SYNC_JOINED.remove(&store)?;
            store.sync_start_recording()?;
        }
        *self.sync.folder.lock().await = Some(std::sync::Arc::new(folder));
        self.sync_now().await
    }

    /// Turns sync off: nothing more is sent or read, and the passphrase and the storage's
    /// password leave the keychain. The place is kept, to turn it on again.
    pub async fn sync_disable(&self) -> Result<SyncView, CoreError> {
        let _one = self.sync.running.lock().await;
        self.store().sync_stop_recording()?;
        *self.sync.folder.lock().await = None;
        let passphrase = self.keys.keychain.for_sync_passphrase();
        keychain(move || passphrase.delete()).await?;
        let secret = self.keys.keychain.for_sync_storage();
        keychain(move || secret.delete()).await?;
        settings::SYNC_LAST.remove(&self.store())?;
        let view = self.sync_view()?;
        self.notify(Notice::SyncChanged(view.clone()));
        Ok(view)
    }

    /// Syncs now (a sync under way is waited for, then this one runs). A failure is kept for
    /// the status line and returned; what was sent and merged before it stays.
    pub async fn sync_now(&self) -> Result<SyncView, CoreError> {
        if !self.store().sync_recording()? {
            return Err(CoreError::InvalidInput(
                "Sync is off. Turn it on in Settings → Sync first.".into(),
            ));
        }
        let _one = self.sync.running.lock().await;
        // A restore waits for the sync, and a sync does not write into a restored file.
        let _writing = self.writing()?;
        self.sync
            .syncing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        if let Ok(view) = self.sync_view() {
            self.notify(Notice::SyncChanged(view));
        }
        let outcome = self.sync_once().await;
        self.sync
            .syncing
            .store(false, std::sync::atomic::Ordering::SeqCst);
        let now = self.now();
        let stored = match &outcome {
            Ok(report) => StoredSyncResult {
                at: now,
                result: Some(report.words()),
                problem: None,
            },
            Err(e) => StoredSyncResult {
                at: now,
                result: None,
                problem: Some(e.to_string()),
            },
        };
        self.sync.received.store(
            outcome.as_ref().map_or(0, Report::received),
            std::sync::atomic::Ordering::SeqCst,
        );
        settings::SYNC_LAST.set(&self.store(), &stored)?;
        if outcome.as_ref().is_ok_and(|r| r.received() > 0) {
            // Prices, the budget or other computers' spending may have changed.
            self.load_prices()?;
            let _ = self.spend_changed();
        }
        let view = self.sync_view()?;
        self.notify(Notice::SyncChanged(view.clone()));
        outcome.map(|_| view)
    }

    /// Syncs when sync is on (the shell's timer): a failure is only kept for the status
    /// line, as nobody asked for this one.
    pub async fn sync_if_on(&self) {
        match self.store().sync_recording() {
            Ok(true) => {}
            _ => return,
        }
        if let Err(e) = self.sync_now().await {
            tracing::info!(error = %e, "a background sync failed");
        }
    }

    async fn sync_once(&self) -> Result<Report, CoreError> {
        let folder = self.sync_folder().await?;
        let mut report = Report::default();
        let device = self.store().sync_device()?;
        let device_name = device_name();
        // This computer's changes first: another computer's, read next, may build on them.
        loop {
            let batch = self.store().sync_outbox(FILE_TARGET_BYTES)?;
            if !batch.changes.is_empty() {
                let hlc = self.store().sync_tick()?;
                let name = segment_name(&hlc);
                let segment = Segment::new(&device, &name).ok_or_else(|| {
                    CoreError::Internal(format!("a file name that is not one: {name}"))
                })?;
                let file = ChangesFile {
                    tally_changes: CHANGES_FORMAT,
                    device_name: device_name.clone(),
                    changes: batch.changes,
                };
                let bytes = serde_json::to_vec(&file)
                    .map_err(|e| CoreError::Internal(format!("changes not written: {e}")))?;
                folder.put(&segment, &bytes).await?;
                report.sent += file.changes.len() as u64;
                let store = self.store();
                store.sync_device_read(&device, Some(&device_name), Some(&name), self.now())?;
                store.sync_outbox_sent(batch.through)?;
            } else if batch.through > 0 {
                self.store().sync_outbox_sent(batch.through)?;
            }
            if !batch.more {
                break;
            }
        }
        let listed = folder.list().await?;
        // Only a computer's first sync with this storage starts from a snapshot: a later
        // one reads on from where the last left off.
        let joined = settings::SYNC_JOINED.get(&self.store())?.unwrap_or(false);
        if !joined && let Some(applied) = self.start_from_snapshot(&folder, &mut report).await? {
            report.applied.add(applied);
        }
        self.catch_up_past_removed_files(&folder, &listed, &mut report)
            .await?;
        let (read_through, unread): (HashMap<String, String>, HashSet<(String, String)>) = {
            let store = self.store();
            let read = store
                .sync_devices()?
                .into_iter()
                .filter_map(|d| Some((d.device, d.last_segment?)))
                .collect();
            let mut unread = HashSet::new();
            for u in store.sync_unread_segments()? {
                let there = listed
                    .iter()
                    .any(|s| s.device() == u.device && s.name() == u.segment);
                if there {
                    unread.insert((u.device, u.segment));
                } else {
                    // Removed (by its computer, or by whoever put it there): nothing to
                    // read, and nothing more to report.
                    store.sync_unread(&u.device, &u.segment, None)?;
                }
            }
            (read, unread)
        };
        for segment in &listed {
            let key = (segment.device().to_string(), segment.name().to_string());
            let new = read_through
                .get(segment.device())
                .is_none_or(|through| segment.name() > through.as_str());
            if !new && !unread.contains(&key) {
                continue;
            }
            match self.merge_segment(&folder, segment).await? {
                Ok(applied) => {
                    report.applied.add(applied);
                    self.store()
                        .sync_unread(segment.device(), segment.name(), None)?;
                }
                // A file that does not open now (damaged, still being copied, tampered
                // with, newer) is reported and tried again at every sync; the others go on.
                Err(problem) => {
                    let store = self.store();
                    store.sync_unread(segment.device(), segment.name(), Some(&problem))?;
                    store.sync_device_read(
                        segment.device(),
                        None,
                        Some(segment.name()),
                        self.now(),
                    )?;
                    report.unread.push(problem);
                }
            }
        }
        // A snapshot is due after so many files of this computer's since its last one; the
        // snapshots are only listed once it has written that many at all.
        let own: Vec<&Segment> = listed.iter().filter(|s| s.device() == device).collect();
        if own.len() >= SNAPSHOT_AFTER_FILES {
            let snapshots = folder.list_snapshots().await?;
            let last_own = snapshots
                .iter()
                .rfind(|snapshot| snapshot.device() == device);
            let since = own
                .iter()
                .filter(|s| last_own.is_none_or(|last| s.name() > last.name()))
                .count();
            if since >= SNAPSHOT_AFTER_FILES {
                self.write_snapshot(&folder).await?;
            }
        }
        settings::SYNC_JOINED.set(&self.store(), &true)?;
        Ok(report)
    }

    /// Writes a snapshot of everything this computer has (sync must be on). Tally does it
    /// by itself every so many files; tests and benches call it.
    pub async fn sync_write_snapshot(&self) -> Result<(), CoreError> {
        let _one = self.sync.running.lock().await;
        let folder = self.sync_folder().await?;
        self.write_snapshot(&folder).await
    }

    /// Writes a snapshot, then removes what this computer's snapshot before it covers: its
    /// own files older than that one, and its older snapshots. Two snapshots stay, and the
    /// files since the older: a computer that read this one's files within that span reads
    /// on; one further behind starts again from the newest snapshot
    /// ([`Engine::catch_up_past_removed_files`]).
    async fn write_snapshot(&self, folder: &SyncFolder) -> Result<(), CoreError> {
        let device = self.store().sync_device()?;
        let previous: Vec<Snapshot> = folder
            .list_snapshots()
            .await?
            .into_iter()
            .filter(|snapshot| snapshot.device() == device)
            .collect();
        self.write_snapshot_of(folder, &device).await?;
        let Some(kept) = previous.last() else {
            return Ok(());
        };
        let covered: Vec<Segment> = folder
            .list()
            .await?
            .into_iter()
            .filter(|segment| segment.device() == device && segment.name() < kept.name())
            .collect();
        folder.remove(&covered).await?;
        for older in &previous[..previous.len() - 1] {
            folder.remove_snapshot(older).await?;
        }
        Ok(())
    }

    async fn write_snapshot_of(&self, folder: &SyncFolder, device: &str) -> Result<(), CoreError> {
        let name = segment_name(&self.store().sync_tick()?);
        let snapshot = Snapshot::new(device, &name).ok_or_else(|| {
            CoreError::Internal(format!("a snapshot name that is not one: {name}"))
        })?;
        let device_name = device_name();
        // How far the others were read before the first part: what arrives meanwhile is
        // in the files after these, read again by whoever starts from here (applied once).
        let read_through = self
            .store()
            .sync_devices()?
            .into_iter()
            .filter_map(|d| Some((d.device, d.last_segment?)))
            .collect();
        let mut position = Some(SnapshotPosition::default());
        let mut parts = 0u32;
        while let Some(from) = position {
            let (changes, next) = self.store().sync_snapshot(from, FILE_TARGET_BYTES)?;
            let file = ChangesFile {
                tally_changes: CHANGES_FORMAT,
                device_name: device_name.clone(),
                changes,
            };
            let bytes = serde_json::to_vec(&file)
                .map_err(|e| CoreError::Internal(format!("a snapshot not written: {e}")))?;
            folder.put_snapshot_part(&snapshot, parts, &bytes).await?;
            parts += 1;
            position = next;
        }
        let manifest = SnapshotManifest {
            tally_snapshot: SNAPSHOT_FORMAT,
            device_name,
            parts,
            read_through,
        };
        let bytes = serde_json::to_vec(&manifest)
            .map_err(|e| CoreError::Internal(format!("a snapshot not written: {e}")))?;
        folder.put_snapshot_manifest(&snapshot, &bytes).await?;
        Ok(())
    }

    /// Each computer removes its files that the older of its two snapshots covers (see
    /// [`Engine::write_snapshot`]). When the last of a computer's files read here is gone,
    /// and was older than that snapshot, files never read here may have gone with it: this
    /// one takes that computer's newest snapshot (merging is idempotent: what it already has is
    /// not added twice), and reads on from where the snapshot was written. This computer's
    /// own files count too: after a restore, those since the backup may be gone. The
    /// snapshots are listed only when a computer's last file read here is not listed.
    async fn catch_up_past_removed_files(
        &self,
        folder: &SyncFolder,
        listed: &[Segment],
        report: &mut Report,
    ) -> Result<(), CoreError> {
        let read_through: HashMap<String, String> = self
            .store()
            .sync_devices()?
            .into_iter()
            .filter_map(|d| Some((d.device, d.last_segment?)))
            .collect();
        let computers: std::collections::BTreeSet<&str> =
            listed.iter().map(Segment::device).collect();
        let behind: Vec<&str> = computers
            .into_iter()
            .filter(|other| {
                read_through.get(*other).is_none_or(|last| {
                    !listed
                        .iter()
                        .any(|s| s.device() == *other && s.name() == last.as_str())
                })
            })
            .collect();
        if behind.is_empty() {
            return Ok(());
        }
        let snapshots = folder.list_snapshots().await?;
        for other in behind {
            let theirs: Vec<&Snapshot> = snapshots.iter().filter(|s| s.device() == other).collect();
            let [oldest, .., _] = theirs[..] else {
                // Fewer than two: nothing of theirs was removed.
                continue;
            };
            if read_through
                .get(other)
                .is_some_and(|last| last.as_str() >= oldest.name())
            {
                continue;
            }
            for snapshot in theirs.iter().rev() {
                match self.apply_snapshot(folder, snapshot).await? {
                    Ok(applied) => {
                        report.applied.add(applied);
                        break;
                    }
                    Err(problem) => report.unread.push(problem),
                }
            }
        }
        Ok(())
    }

    /// A computer that has read nobody's files yet starts from the newest snapshot that
    /// opens, and reads on from where it was written. `None` when there is none (every
    /// file is read instead); a snapshot that does not open is reported and passed over.
    async fn start_from_snapshot(
        &self,
        folder: &SyncFolder,
        report: &mut Report,
    ) -> Result<Option<ApplySummary>, CoreError> {
        let snapshots = folder.list_snapshots().await?;
        for snapshot in snapshots.iter().rev() {
            match self.apply_snapshot(folder, snapshot).await? {
                Ok(applied) => return Ok(Some(applied)),
                Err(problem) => report.unread.push(problem),
            }
        }
        Ok(None)
    }

    async fn apply_snapshot(
        &self,
        folder: &SyncFolder,
        snapshot: &Snapshot,
    ) -> Result<Result<ApplySummary, String>, CoreError> {
        let unreadable = |why: String| {
            format!(
                "The snapshot {} could not be read ({why}); every file is read instead.",
                snapshot.manifest_path()
            )
        };
        let bytes = match folder.get_snapshot_manifest(snapshot).await {
            Ok(bytes) => bytes,
            Err(e @ (SyncError::Damaged { .. } | SyncError::Newer { .. })) => {
                return Ok(Err(unreadable(CoreError::from(e).to_string())));
            }
            Err(e) => return Err(e.into()),
        };
        let manifest: SnapshotManifest = match serde_json::from_slice(&bytes) {
            Ok(manifest) => manifest,
            Err(e) => return Ok(Err(unreadable(e.to_string()))),
        };
        if manifest.tally_snapshot > SNAPSHOT_FORMAT {
            return Ok(Err(unreadable("a newer version of Tally wrote it".into())));
        }
        let mut total = ApplySummary::default();
        for index in 0..manifest.parts {
            let bytes = match folder.get_snapshot_part(snapshot, index).await {
                Ok(bytes) => bytes,
                Err(e @ (SyncError::Damaged { .. } | SyncError::Newer { .. })) => {
                    return Ok(Err(unreadable(CoreError::from(e).to_string())));
                }
                Err(e) => return Err(e.into()),
            };
            let file = match serde_json::from_slice::<ChangesFile>(&bytes) {
                Ok(file) if file.tally_changes <= CHANGES_FORMAT => file,
                Ok(_) => return Ok(Err(unreadable("a newer version of Tally wrote it".into()))),
                Err(e) => return Ok(Err(unreadable(e.to_string()))),
            };
            match self.store().sync_apply(snapshot.device(), &file.changes) {
                Ok(applied) => total.add(applied),
                Err(e) if e.is_disk_full() => return Err(e.into()),
                Err(e) => return Ok(Err(unreadable(e.to_string()))),
            }
        }
        let now = self.now();
        let store = self.store();
        store.sync_device_read(
            snapshot.device(),
            Some(&manifest.device_name.chars().take(64).collect::<String>()),
            None,
            now,
        )?;
        for (device, through) in &manifest.read_through {
            if Segment::new(device, through).is_some() {
                store.sync_device_read(device, None, Some(through), now)?;
            }
        }
        Ok(Ok(total))
    }

    /// Reads `segment` and merges it. `Ok(Err)` is a problem with the file, in words; `Err`
    /// is the storage or this computer's disk failing, which ends the sync.
    async fn merge_segment(
        &self,
        folder: &SyncFolder,
        segment: &Segment,
    ) -> Result<Result<ApplySummary, String>, CoreError> {
        let path = segment.path();
        let bytes = match folder.get(segment).await {
            Ok(bytes) => bytes,
            Err(e @ (SyncError::Damaged { .. } | SyncError::Newer { .. })) => {
                return Ok(Err(CoreError::from(e).to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        #[derive(Deserialize)]
        struct Format {
            tally_changes: u32,
        }
        let Ok(format) = serde_json::from_slice::<Format>(&bytes) else {
            return Ok(Err(format!(
                "The sync file {path} holds no changes Tally reads. Nothing was taken from it."
            )));
        };
        if format.tally_changes > CHANGES_FORMAT {
            return Ok(Err(format!(
                "The sync file {path} was written by a newer version of Tally. Update Tally \
                 on this computer to read it."
            )));
        }
        let file: ChangesFile = match serde_json::from_slice(&bytes) {
            Ok(file) => file,
            Err(e) => {
                return Ok(Err(format!(
                    "The sync file {path} holds changes Tally cannot read ({e}). Nothing was \
                     taken from it."
                )));
            }
        };
        let applied = match self.store().sync_apply(segment.device(), &file.changes) {
            Ok(applied) => applied,
            Err(e) if e.is_disk_full() => return Err(e.into()),
            // One transaction: a change refused (out of any real range) leaves nothing of
            // the file merged.
            Err(e) => {
                return Ok(Err(format!(
                    "The changes in the sync file {path} could not be merged ({e}). Nothing \
                     was taken from it."
                )));
            }
        };
        let name: String = file.device_name.chars().take(64).collect();
        self.store().sync_device_read(
            segment.device(),
            Some(&name),
            Some(segment.name()),
            self.now(),
        )?;
        Ok(Ok(applied))
    }

    /// The storage, opened once per run with the place, secret and passphrase kept.
    async fn sync_folder(&self) -> Result<std::sync::Arc<SyncFolder>, CoreError> {
        let mut cached = self.sync.folder.lock().await;
        if let Some(folder) = cached.as_ref() {
            return Ok(folder.clone());
        }
        let input = settings::SYNC_LOCATION.get(&self.store())?.ok_or_else(|| {
            CoreError::InvalidInput(
                "Sync has no place to sync to. Set it in Settings → Sync.".into(),
            )
        })?;
        let slot = self.keys.keychain.for_sync_passphrase();
        let passphrase = keychain(move || slot.get()).await?.ok_or_else(|| {
            CoreError::InvalidInput(
                "Sync's passphrase is no longer in the keychain. Turn sync off and on again in \
                 Settings → Sync."
                    .into(),
            )
        })?;
        let secret = self.keychain_sync_secret().await?;
        let location = to_location(&input, secret)?;
        let (folder, _) =
            SyncFolder::open_with(&location, &passphrase, self.sync_time_limits).await?;
        let folder = std::sync::Arc::new(folder);
        *cached = Some(folder.clone());
        Ok(folder)
    }

    async fn keychain_sync_secret(&self) -> Result<Option<SecretString>, CoreError> {
        let slot = self.keys.keychain.for_sync_storage();
        keychain(move || slot.get()).await
    }
}

fn unread_words(count: usize, first: &str) -> String {
    if count == 1 {
        first.to_string()
    } else {
        format!("{count} sync files could not be read; the first: {first}")
    }
}

/// A file's name from a clock reading (`wall.counter.device`): its time and counter, which
/// sort as the clock does.
fn segment_name(hlc: &str) -> String {
    hlc.splitn(3, '.').take(2).collect::<Vec<_>>().join(".")
}

/// This computer's name for the others' Settings: its host name.
fn device_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|name| name.trim().chars().take(64).collect::<String>())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "A computer".into())
}

fn storage_secret_of(input: &SyncLocationInput) -> Option<SecretString> {
    match input {
        SyncLocationInput::Folder { .. } => None,
        SyncLocationInput::WebDav { password, .. } => password.clone(),
        SyncLocationInput::S3 {
            secret_access_key, ..
        } => secret_access_key.clone(),
    }
    .filter(|s| !s.is_empty())
    .map(SecretString::from)
}

fn without_secrets(input: SyncLocationInput) -> SyncLocationInput {
    match input {
        SyncLocationInput::WebDav { url, username, .. } => SyncLocationInput::WebDav {
            url,
            username,
            password: None,
        },
        SyncLocationInput::S3 {
            endpoint,
            region,
            bucket,
            access_key_id,
            ..
        } => SyncLocationInput::S3 {
            endpoint,
            region,
            bucket,
            access_key_id,
            secret_access_key: None,
        },
        folder => folder,
    }
}

fn to_location(
    input: &SyncLocationInput,
    secret: Option<SecretString>,
) -> Result<Location, CoreError> {
    Ok(match input {
        SyncLocationInput::Folder { path } => {
            let path = path.trim();
            if path.is_empty() {
                return Err(CoreError::InvalidInput(
                    "Choose the folder to sync through.".into(),
                ));
            }
            Location::Folder { path: path.into() }
        }
        SyncLocationInput::WebDav { url, username, .. } => Location::WebDav {
            url: url.trim().to_string(),
            username: Some(username.trim().to_string()).filter(|u| !u.is_empty()),
            password: secret,
        },
        SyncLocationInput::S3 {
            endpoint,
            region,
            bucket,
            access_key_id,
            ..
        } => Location::S3 {
            endpoint: endpoint.trim().to_string(),
            region: region.trim().to_string(),
            bucket: bucket.trim().to_string(),
            access_key_id: access_key_id.trim().to_string(),
            secret_access_key: secret.ok_or_else(|| {
                CoreError::InvalidInput("Give the storage's secret access key.".into())
            })?,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sync_is_told_in_words_with_what_waits() {
        let summary = |messages_added, values_changed, waiting| ApplySummary {
            messages_added,
            values_changed,
            waiting,
            ..ApplySummary::default()
        };
        for (sent, applied, words) in [
            (
                0,
                summary(0, 0, 0),
                "Nothing to send; nothing new from the other computers.",
            ),
            (
                1,
                summary(2, 1, 0),
                "Sent 1 change; received 2 messages, 1 change.",
            ),
            (
                4,
                summary(1, 0, 1),
                "Sent 4 changes; received 1 message. 1 change waits for an earlier one that \
                 has not arrived yet; it is applied when that arrives.",
            ),
            (
                0,
                summary(0, 0, 3),
                "Nothing to send; nothing new from the other computers. 3 changes wait for \
                 earlier ones that have not arrived yet; they are applied when those arrive.",
            ),
        ] {
            let report = Report {
                sent,
                applied,
                unread: Vec::new(),
            };
            assert_eq!(report.words(), words);
        }
    }

    #[test]
    fn a_file_name_is_the_clock_reading_without_the_computer() {
        assert_eq!(
            segment_name("000001780000000.0000000003.0123abcd"),
            "000001780000000.0000000003"
        );
        assert!(
            Segment::new(
                "0123abcd",
                &segment_name("000001780000000.0000000003.0123abcd")
            )
            .is_some()
        );
    }
}
