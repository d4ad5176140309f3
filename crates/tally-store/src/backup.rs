//! Backups of the database file and recovery from a damaged one.
//!
//! Backups are whole copies made with SQLite's backup API into `backups/` beside the
//! database, named `tally-<epoch ms>-<reason>.sqlite3` so they sort by time. Each copy is
//! checked with `PRAGMA integrity_check` before it counts, and the newest
//! [`BACKUPS_KEPT`] are kept. A damaged database is moved to `damaged/` and replaced by
//! the newest good backup.

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, MAIN_DB, OpenFlags};

use crate::model::EpochMillis;
use crate::store::DB_FILE_NAME;
use crate::{Result, Store, StoreError, migrations};

/// The folder of backups, inside the data folder.
pub const BACKUP_DIR: &str = "backups";
/// Where damaged database files are moved, inside the data folder.
pub const DAMAGED_DIR: &str = "damaged";
/// How many backups are kept (the oldest go first).
pub const BACKUPS_KEPT: usize = 7;
/// A daily backup is due when the newest backup is older than this.
pub const BACKUP_EVERY_MS: i64 = 24 * 60 * 60 * 1000;
/// Written by a check that found damage while the app ran; the next start repairs.
const NEEDS_REPAIR: &str = "needs-repair";

/// Why a backup was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackupReason {
    /// The daily backup.
    Daily,
    /// Asked for by the user.
    Manual,
    /// Before the database was upgraded to this schema version.
    BeforeUpgrade(i64),
    /// Before a backup was restored over the database.
    BeforeRestore,
}

impl BackupReason {
    fn as_file_part(&self) -> String {
        match self {
            Self::Daily => "daily".into(),
            Self::Manual => "manual".into(),
            Self::BeforeUpgrade(version) => format!("before-v{version}"),
            Self::BeforeRestore => "before-restore".into(),
        }
    }

    fn parse(part: &str) -> Option<Self> {
        Some(match part {
            "daily" => Self::Daily,
            "manual" => Self::Manual,
            "before-restore" => Self::BeforeRestore,
            other => Self::BeforeUpgrade(other.strip_prefix("before-v")?.parse().ok()?),
        })
    }
}

/// One backup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    /// The file's name inside the backup folder (what the UI names it by).
    pub name: String,
    pub path: PathBuf,
    pub created_at: EpochMillis,
    pub reason: BackupReason,
    pub size_bytes: u64,
}

/// What happened when a damaged database was found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Where the damaged file was moved (it is kept, in case it can be rescued).
    pub damaged_copy: PathBuf,
    /// The backup put in its place; `None` when there was no good one (a new database
    /// was started).
    pub restored: Option<BackupInfo>,
    /// Why the file counted as damaged, for the log.
    pub reason: String,
}

/// The backups of the database in `data_dir`, newest first.
pub fn list_backups(data_dir: &Path) -> Result<Vec<BackupInfo>> {
    let dir = data_dir.join(BACKUP_DIR);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(io_error(&dir, source)),
    };
    let mut backups: Vec<BackupInfo> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let (created_at, reason) = parse_name(&name)?;
            Some(BackupInfo {
                size_bytes: entry.metadata().ok()?.len(),
                path: entry.path(),
                name,
                created_at,
                reason,
            })
        })
        .collect();
    backups.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.name.cmp(&a.name)));
    Ok(backups)
}

/// Records that the database in `data_dir` is damaged, so the next
/// [`Store::open_or_recover`] replaces it from the newest good backup.
pub fn mark_needs_repair(data_dir: &Path, found: &str) -> Result<()> {
    let marker = data_dir.join(NEEDS_REPAIR);
    std::fs::write(&marker, found).map_err(|e| io_error(&marker, e))
}

fn parse_name(name: &str) -> Option<(EpochMillis, BackupReason)> {
    let rest = name.strip_prefix("tally-")?.strip_suffix(".sqlite3")?;
    let (time, reason) = rest.split_once('-')?;
    Some((time.parse().ok()?, BackupReason::parse(reason)?))
}

fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::DataDir {
        path: path.display().to_string(),
        source,
    }
}

/// Copies the database open in `conn` into the backup folder of `data_dir`, checks the
/// copy, and keeps the newest [`BACKUPS_KEPT`]. A copy that fails its check means the
/// database itself is damaged: it is deleted and [`StoreError::Damaged`] returned.
pub(crate) fn back_up(
    conn: &Connection,
    data_dir: &Path,
    reason: BackupReason,
    now: EpochMillis,
) -> Result<BackupInfo> {
    let dir = data_dir.join(BACKUP_DIR);
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, e))?;
    // A name is never reused, even for two backups within a millisecond: one may be the
    // backup being restored.
    let mut created_at = now;
    let (name, path) = loop {
        let name = format!("tally-{created_at:013}-{}.sqlite3", reason.as_file_part());
        let path = dir.join(&name);
        if !path.exists() {
            break (name, path);
        }
        created_at += 1;
    };
    let partial = dir.join(format!("{name}.partial"));
    let _ = std::fs::remove_file(&partial);
    {
        let mut copy = Connection::open(&partial)?;
        let backup = Backup::new(conn, &mut copy)?;
        // One step copies a consistent snapshot; in WAL mode writers are not blocked
        // meanwhile, and a write cannot restart the copy halfway.
        match backup.step(-1)? {
            StepResult::Done => {}
            _ => return Err(StoreError::BackupBusy),
        }
        drop(backup);
        if let Err(reason) = integrity(&copy) {
            drop(copy);
            let _ = std::fs::remove_file(&partial);
            return Err(StoreError::Damaged(reason));
        }
    }
    std::fs::rename(&partial, &path).map_err(|e| io_error(&path, e))?;
    prune(data_dir)?;
    let size_bytes = std::fs::metadata(&path)
        .map_err(|e| io_error(&path, e))?
        .len();
    Ok(BackupInfo {
        name,
        path,
        created_at,
        reason,
        size_bytes,
    })
}

/// `Ok` when `PRAGMA integrity_check` finds nothing wrong, else what it found.
pub(crate) fn integrity(conn: &Connection) -> std::result::Result<(), String> {
    let found: rusqlite::Result<Vec<String>> = conn
        .prepare("PRAGMA integrity_check(5)")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    match found {
        Ok(lines) if lines == ["ok"] => Ok(()),
        Ok(lines) => Err(lines.join("; ")),
        Err(e) => Err(e.to_string()),
    }
}

fn prune(data_dir: &Path) -> Result<()> {
    for old in list_backups(data_dir)?.into_iter().skip(BACKUPS_KEPT) {
        std::fs::remove_file(&old.path).map_err(|e| io_error(&old.path, e))?;
    }
    Ok(())
}

impl Store {
    /// Backs up the database now.
    pub fn back_up(&self, reason: BackupReason, now: EpochMillis) -> Result<BackupInfo> {
        back_up(&self.conn, &self.data_dir()?, reason, now)
    }

    /// Backs up the database if the newest backup is a day old or there is none.
    pub fn back_up_if_due(&self, now: EpochMillis) -> Result<Option<BackupInfo>> {
        let data_dir = self.data_dir()?;
        let newest = list_backups(&data_dir)?.into_iter().next();
        if newest.is_some_and(|b| now - b.created_at < BACKUP_EVERY_MS && b.created_at <= now) {
            return Ok(None);
        }
        match back_up(&self.conn, &data_dir, BackupReason::Daily, now) {
            Err(StoreError::Damaged(reason)) => {
                mark_needs_repair(&data_dir, &reason)?;
                Err(StoreError::Damaged(reason))
            }
            other => other.map(Some),
        }
    }

    /// Puts the backup `name` in place of the database, after backing up the current
    /// state (so the restore can itself be undone), and upgrades it to the latest schema.
    pub fn restore_backup(&mut self, name: &str, now: EpochMillis) -> Result<BackupInfo> {
        let data_dir = self.data_dir()?;
        let backup = list_backups(&data_dir)?
            .into_iter()
            .find(|b| b.name == name)
            .ok_or_else(|| StoreError::NoBackup(name.to_string()))?;
        check_file(&backup.path).map_err(|found| StoreError::BackupDamaged {
            name: name.to_string(),
            found,
        })?;
        self.back_up(BackupReason::BeforeRestore, now)?;
        self.conn.restore(
            MAIN_DB,
            &backup.path,
            None::<fn(rusqlite::backup::Progress)>,
        )?;
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
    /// (it cannot be opened or read, or a check while the app ran found damage), moves it
    /// to `damaged/` and restores the newest good backup, or starts a new database when
    /// there is none. Other failures (a full disk, no permission) are returned.
    pub fn open_or_recover(data_dir: &Path, now: EpochMillis) -> Result<(Self, Option<Recovery>)> {
        let marker = data_dir.join(NEEDS_REPAIR);
        let damage = match std::fs::read_to_string(&marker) {
            Ok(found) => Some(format!("a check found damage: {found}")),
            Err(_) => match Self::open_in(data_dir) {
                Ok(store) => return Ok((store, None)),
                Err(e) if e.is_damage() => Some(e.to_string()),
                Err(e) => return Err(e),
            },
        };
        let reason = damage.unwrap_or_default();
        let damaged_dir = data_dir.join(DAMAGED_DIR);
        std::fs::create_dir_all(&damaged_dir).map_err(|e| io_error(&damaged_dir, e))?;
        let damaged_copy = damaged_dir.join(format!("tally-{now:013}.sqlite3"));
        let db = data_dir.join(DB_FILE_NAME);
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
                reason,
            }),
        ))
    }
}

/// Whether the database file at `path` opens and passes `integrity_check`.
fn check_file(path: &Path) -> std::result::Result<(), String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    integrity(&conn)
}

impl StoreError {
    /// Whether this error means the database file itself is damaged.
    pub fn is_damage(&self) -> bool {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        let sqlite = match self {
            Self::Sqlite(e) => e,
            Self::Migration(rusqlite_migration::Error::RusqliteError { err, .. }) => err,
            Self::Damaged(_) => return true,
            _ => return false,
        };
        matches!(
            sqlite.sqlite_error_code(),
            Some(DatabaseCorrupt | NotADatabase)
        )
    }
}
