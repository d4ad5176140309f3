//! Backups and recovery (ARCHITECTURE.md, storage): the daily backup and the Trash's 30 days
//! kept by [`Engine::maintain`], backups listed, made and restored from Settings, and
//! the notice a user gets when a damaged database was replaced at start.

use tally_store::{BackupInfo, BackupReason, Recovery, Store};

use crate::api::{BackupKind, BackupView, RecoveryNotice};
use crate::notices::Notice;
use crate::settings::{self, StoredRecovery};
use crate::{CoreError, Engine};

impl Engine {
    /// Work done in the background while the app runs: the daily backup (each a checked
    /// copy) and emptying the Trash of conversations older than 30 days. Uses its own
    /// connection, so sending is never held up by a backup. Damage found by the check is
    /// told to the user at once and repaired at the next start.
    pub fn maintain(&self) -> Result<Option<BackupView>, CoreError> {
        let checked = Store::open_in(&self.data_dir).and_then(|store| {
            let made = store.back_up_if_due(self.now())?;
            Ok((store, made))
        });
        let made = match checked {
            Ok((_, made)) => made,
            // Damage met anywhere on the way (opening, copying, checking): repaired at the
            // next start, which checks again first.
            Err(e) if e.is_damage() => {
                let found = e.to_string();
                tracing::error!(%found, "the daily check found damage in the database");
                tally_store::mark_needs_repair(&self.data_dir, &found)?;
                self.notify(Notice::StorageProblem(
                    CoreError::Damaged(found).to_string(),
                ));
                return Ok(None);
            }
            Err(e) => return Err(e.into()),
        };
        self.purge_old_trash()?;
        Ok(made.map(|b| self.backup_view(b)))
    }

    /// The backups, newest first.
    pub fn backups_list(&self) -> Result<Vec<BackupView>, CoreError> {
        Ok(tally_store::list_backups(&self.data_dir)?
            .into_iter()
            .map(|b| self.backup_view(b))
            .collect())
    }

    /// Makes a backup now (from Settings), on a connection of its own: copying and
    /// checking a large history takes seconds, and replies keep saving meanwhile.
    pub fn backup_now(&self) -> Result<BackupView, CoreError> {
        let made = Store::open_in(&self.data_dir)?.back_up(BackupReason::Manual, self.now())?;
        Ok(self.backup_view(made))
    }

    /// Replaces everything with the backup `name`, after backing up the current state
    /// (listed as "before a restore", so the restore can be undone). Refused while a
    /// reply, an import or a title is being written; they are refused while it runs.
    pub fn backup_restore(&self, name: &str) -> Result<BackupView, CoreError> {
        let _alone = self.writing_alone()?;
        let restored = {
            let mut store = self.store();
            let restored = store.restore_backup(name, self.now())?;
            store.mark_unfinished_replies_interrupted(self.now())?;
            restored
        };
        // Everything read from the old data is read again.
        self.meter.forget_tokens();
        self.load_prices()?;
        self.spend_changed()?;
        Ok(self.backup_view(restored))
    }

    /// What the user is told about a damaged database replaced at start, until dismissed.
    pub fn recovery_notice(&self) -> Result<Option<RecoveryNotice>, CoreError> {
        Ok(settings::RECOVERY_NOTICE
            .get(&self.store())?
            .map(|r| RecoveryNotice {
                message: r.message,
                damaged_copy: r.damaged_copy,
            }))
    }

    pub fn recovery_dismiss(&self) -> Result<(), CoreError> {
        settings::RECOVERY_NOTICE.remove(&self.store())
    }

    /// Keeps what happened at start for the notice, and logs it.
    pub(crate) fn remember_recovery(&self, recovery: &Recovery) -> Result<(), CoreError> {
        tracing::error!(
            reason = %recovery.reason,
            damaged_copy = %recovery.damaged_copy.display(),
            "the database was damaged and has been replaced"
        );
        let message = match &recovery.restored {
            Some(backup) => format!(
                "Tally's database file was damaged, so Tally restored its backup from {}. \
                 Conversations and spending after that time may be missing.",
                self.local_time(backup.created_at)
            ),
            None => "Tally's database file was damaged and there was no good backup, so Tally \
                     started a new one. Your earlier conversations and spending are not shown."
                .to_string(),
        };
        let stored = StoredRecovery {
            message,
            damaged_copy: recovery.damaged_copy.display().to_string(),
        };
        settings::RECOVERY_NOTICE.set(&self.store(), &stored)
    }

    fn backup_view(&self, backup: BackupInfo) -> BackupView {
        let (kind, version) = match backup.reason {
            BackupReason::Daily => (BackupKind::Daily, None),
            BackupReason::Manual => (BackupKind::Manual, None),
            BackupReason::BeforeUpgrade(v) => (BackupKind::BeforeUpgrade, Some(v)),
            BackupReason::BeforeRestore => (BackupKind::BeforeRestore, None),
        };
        BackupView {
            name: backup.name,
            created_at: backup.created_at,
            kind,
            upgrade_to: version,
            size_bytes: backup.size_bytes,
        }
    }

    /// A local date and time for messages ("November 22, 2026 at 14:03").
    fn local_time(&self, millis: i64) -> String {
        jiff::Timestamp::from_millisecond(millis)
            .map(|t| {
                t.to_zoned(self.time_zone.clone())
                    .strftime("%B %-d, %Y at %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    }
}
