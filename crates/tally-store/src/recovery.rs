//! The [`Store`]'s backups and recovery, as the app uses them: a backup now or when one
//! is due, a restore, and opening a database that may be damaged. How a backup is made,
//! checked, named and pruned is `backup.rs`'s; this module puts it to work on a store.

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};

use crate::backup::{
    BACKUP_DIR, BACKUP_EVERY_MS, BackupInfo, BackupReason, DAMAGED_DIR, NEEDS_REPAIR, Recovery,
    back_up, check_file, create_private_dir, io_error, list_backups, mark_needs_repair,
    open_backup,
};
use crate::model::EpochMillis;
use crate::store::DB_FILE_NAME;
use crate::{Result, Store, StoreError, migrations};

impl Store {
    /// Backs up the database now.
    pub fn back_up(&self, reason: BackupReason, now: EpochMillis) -> Result<BackupInfo> {
        back_up(&self.conn, &self.data_dir()?, reason, now, None)
    }

    /// Backs up the database if the newest backup is a day old or there is none. Damage
    /// (the copy and the live database both failing their check) is recorded so that the
    /// next start repairs it; nothing else is.
    pub fn back_up_if_due(&self, now: EpochMillis) -> Result<Option<BackupInfo>> {
        let data_dir = self.data_dir()?;
        let newest = list_backups(&data_dir)?.into_iter().next();
        if newest.is_some_and(|b| now - b.created_at < BACKUP_EVERY_MS && b.created_at <= now) {
            return Ok(None);
        }
        match back_up(&self.conn, &data_dir, BackupReason::Daily, now, None) {
            Err(StoreError::Damaged(reason)) => {
                mark_needs_repair(&data_dir, &reason)?;
                Err(StoreError::Damaged(reason))
            }
            other => other.map(Some),
        }
    }

    /// Puts the backup `name` in place of the database, after backing up the current state
    /// (so the restore can itself be undone), and upgrades it to the latest schema.
    ///
    /// The backup is opened read-only (never created) and checked before anything changes:
    /// a missing, empty, foreign or damaged file is refused and the database left as it
    /// was. It stays open while the current state is backed up, and that backup never
    /// prunes it, so the file restored is the file checked.
    pub fn restore_backup(&mut self, name: &str, now: EpochMillis) -> Result<BackupInfo> {
        let data_dir = self.data_dir()?;
        let backup = list_backups(&data_dir)?
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| StoreError::NoBackup(name.to_string()))?;
        let source = open_backup(&backup.path).map_err(|e| match e {
            StoreError::DataDir { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                StoreError::NoBackup(name.to_string())
            }
            StoreError::Damaged(found) => StoreError::BackupDamaged {
                name: name.to_string(),
                found,
            },
            other => other,
        })?;
        back_up(
            &self.conn,
            &data_dir,
            BackupReason::BeforeRestore,
            now,
            Some(name),
        )?;
        {
            let copy = Backup::new(&source, &mut self.conn)?;
            match copy.step(-1)? {
                StepResult::Done => {}
                _ => return Err(StoreError::BackupBusy),
            }
        }
        migrations().to_latest(&mut self.conn)?;
        Ok(backup)
    }

    fn data_dir(&self) -> Result<PathBuf> {
        let path = self.conn.path().unwrap_or_default();
        Path::new(path)
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| StoreError::NoBackup("an in-memory database".into()))
    }

    /// Opens the database in `data_dir` like [`Store::open_in`]; when the file is damaged
    /// (it cannot be opened or read, or a check while the app ran found damage that a
    /// second check now confirms), moves it to `damaged/` and restores the newest good
    /// backup, or starts a new database when there is none. Other failures (a full disk,
    /// no permission) are returned and nothing is replaced.
    pub fn open_or_recover(data_dir: &Path, now: EpochMillis) -> Result<(Self, Option<Recovery>)> {
        remove_unfinished_backups(data_dir);
        let marker = data_dir.join(NEEDS_REPAIR);
        let db = data_dir.join(DB_FILE_NAME);
        let damage = match std::fs::read_to_string(&marker) {
            // The live file is checked again: a wrong alarm must not replace a sound
            // database with yesterday's backup.
            Ok(found) => match open_backup(&db).map(drop) {
                Err(StoreError::Damaged(now_found)) => {
                    Some(format!("a check found damage: {found}; again: {now_found}"))
                }
                Err(other) => return Err(other),
                // A false alarm (the check itself failed on the way): the database stays.
                Ok(()) => {
                    let _ = std::fs::remove_file(&marker);
                    None
                }
            },
            Err(_) => None,
        };
        let damage = match damage {
            Some(damage) => damage,
            None => match Self::open_in(data_dir) {
                Ok(store) => return Ok((store, None)),
                Err(e) if e.is_damage() => e.to_string(),
                Err(e) => return Err(e),
            },
        };
        let damaged_dir = data_dir.join(DAMAGED_DIR);
        create_private_dir(&damaged_dir)?;
        let damaged_copy = damaged_dir.join(format!("tally-{now:013}.sqlite3"));
        for suffix in ["", "-wal", "-shm"] {
            let from = PathBuf::from(format!("{}{suffix}", db.display()));
            let to = PathBuf::from(format!("{}{suffix}", damaged_copy.display()));
            match std::fs::rename(&from, &to) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error(&from, e)),
            }
        }
        let restored = list_backups(data_dir)?
            .into_iter()
            .find(|b| check_file(&b.path).is_ok());
        if let Some(backup) = &restored {
            std::fs::copy(&backup.path, &db).map_err(|e| io_error(&db, e))?;
        }
        let _ = std::fs::remove_file(&marker);
        let store = Self::open_in(data_dir)?;
        Ok((
            store,
            Some(Recovery {
                damaged_copy,
                restored,
                reason: damage,
            }),
        ))
    }
}

/// Removes the copies a backup left half-made when the app was killed during it (nothing
/// else runs yet at start). A failure leaves them for the next start.
fn remove_unfinished_backups(data_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(data_dir.join(BACKUP_DIR)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().ends_with(".partial") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
