//! Backups of the database file and recovery from a damaged one.
//!
//! Backups are whole copies made with SQLite's backup API into `backups/` beside the
//! database, named `tally-<epoch ms>-<reason>.sqlite3` so they sort by time. Each copy is
//! checked with `PRAGMA integrity_check` before it counts. The newest [`BACKUPS_KEPT`] are
//! kept, and besides them the newest [`UNDO_KEPT`] made before a restore. A damaged
//! database is moved to `damaged/` and replaced by the newest good backup; only SQLite's
//! own word (corrupt, not a database) or `integrity_check`'s findings count as damage.

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use crate::model::EpochMillis;
use crate::{Result, StoreError};

/// The folder of backups, inside the data folder.
pub const BACKUP_DIR: &str = "backups";
/// Where damaged database files are moved, inside the data folder.
pub const DAMAGED_DIR: &str = "damaged";
/// How many backups are kept (the oldest go first), not counting those made before a
/// restore.
pub const BACKUPS_KEPT: usize = 7;
/// How many backups made before a restore (the undo of a restore) are kept besides.
pub const UNDO_KEPT: usize = 3;
/// A daily backup is due when the newest backup is older than this.
pub const BACKUP_EVERY_MS: i64 = 24 * 60 * 60 * 1000;
/// Written by a check that found damage while the app ran; the next start repairs.
pub(crate) const NEEDS_REPAIR: &str = "needs-repair";

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

pub(crate) fn io_error(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::DataDir {
        path: path.display().to_string(),
        source,
    }
}

/// Copies the database open in `conn` into the backup folder of `data_dir`, checks the
/// copy, and keeps the newest [`BACKUPS_KEPT`] (never pruning `keep`, the backup being
/// restored). A copy that fails its check counts as damage only when the live database
/// fails the same check: then [`StoreError::Damaged`] is returned. A copy spoilt on the way
/// (a bad disk sector, say) with a sound database is [`StoreError::BackupUnverified`], and
/// a failure to check at all (disk full, busy, out of memory) is that failure, never
/// damage.
pub(crate) fn back_up(
    conn: &Connection,
    data_dir: &Path,
    reason: BackupReason,
    now: EpochMillis,
    keep: Option<&str>,
) -> Result<BackupInfo> {
    let dir = data_dir.join(BACKUP_DIR);
    create_private_dir(&dir)?;
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
    let copied = copy_checked(conn, &partial);
    if let Err(e) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(match e {
            // The copy is bad: is the database itself?
            StoreError::Damaged(found) => match check(conn) {
                Err(StoreError::Damaged(live)) => StoreError::Damaged(live),
                Err(other) => other,
                Ok(()) => StoreError::BackupUnverified(found),
            },
            other => other,
        });
    }
    std::fs::rename(&partial, &path).map_err(|e| io_error(&path, e))?;
    prune(data_dir, keep)?;
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

/// Copies `conn` into a new file at `to`, readable by the user alone, and checks the copy.
fn copy_checked(conn: &Connection, to: &Path) -> Result<()> {
    let mut copy = Connection::open(to)?;
    make_private(to)?;
    // Reading a damaged page of the database fails the copy with SQLite's own word for it.
    let backup = Backup::new(conn, &mut copy).map_err(damage_or_failure)?;
    // One step copies a consistent snapshot; in WAL mode writers are not blocked
    // meanwhile, and a write cannot restart the copy halfway.
    match backup.step(-1).map_err(damage_or_failure)? {
        StepResult::Done => {}
        _ => return Err(StoreError::BackupBusy),
    }
    drop(backup);
    check(&copy)
}

/// `PRAGMA integrity_check` on `conn`: `Ok` when it finds nothing wrong,
/// [`StoreError::Damaged`] with what it found when it reports problems or SQLite calls the
/// file corrupt or not a database, and any other failure (disk full, busy, I/O, out of
/// memory) as itself: a passing hiccup is not damage.
pub(crate) fn check(conn: &Connection) -> Result<()> {
    let found: rusqlite::Result<Vec<String>> = conn
        .prepare("PRAGMA integrity_check(5)")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect());
    match found {
        Ok(lines) if lines == ["ok"] => Ok(()),
        Ok(lines) => Err(StoreError::Damaged(lines.join("; "))),
        Err(e) => Err(damage_or_failure(e)),
    }
}

/// SQLite's own word that a file is corrupt or not a database is damage; anything else is
/// a failure to read it.
fn damage_or_failure(e: rusqlite::Error) -> StoreError {
    let error = StoreError::Sqlite(e);
    if error.is_damage() {
        StoreError::Damaged(error.to_string())
    } else {
        error
    }
}

/// Keeps the newest [`BACKUPS_KEPT`] backups and, apart from them, the newest
/// [`UNDO_KEPT`] made before a restore (so trying several restores in turn never prunes
/// the backups being tried), and always `keep`.
fn prune(data_dir: &Path, keep: Option<&str>) -> Result<()> {
    let (undo, regular): (Vec<BackupInfo>, Vec<BackupInfo>) = list_backups(data_dir)?
        .into_iter()
        .partition(|b| b.reason == BackupReason::BeforeRestore);
    for (backups, kept) in [(regular, BACKUPS_KEPT), (undo, UNDO_KEPT)] {
        let protected = backups.iter().any(|b| Some(b.name.as_str()) == keep);
        let old = backups
            .into_iter()
            .filter(|b| Some(b.name.as_str()) != keep)
            .skip(kept - usize::from(protected));
        for old in old {
            std::fs::remove_file(&old.path).map_err(|e| io_error(&old.path, e))?;
        }
    }
    Ok(())
}

/// Creates `dir` (and its parents) if missing, and makes it the user's alone (0700).
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    set_mode(dir, 0o700)
}

/// Makes the file at `path` readable and writable by the user alone (0600).
pub(crate) fn make_private(path: &Path) -> Result<()> {
    set_mode(path, 0o600)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| io_error(path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    // Elsewhere the user's profile folder already keeps other users out.
    Ok(())
}

/// Opens the Tally database file at `path` read-only, never creating it, and checks it:
/// a missing or empty file, a file that is not a Tally database, or one that fails
/// `integrity_check` is refused ([`StoreError::Damaged`] for the last two).
pub(crate) fn open_backup(path: &Path) -> Result<Connection> {
    let len = std::fs::metadata(path)
        .map_err(|e| io_error(path, e))?
        .len();
    if len == 0 {
        return Err(StoreError::Damaged("the file is empty".into()));
    }
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(damage_or_failure)?;
    check(&conn)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(damage_or_failure)?;
    if version <= 0 {
        return Err(StoreError::Damaged(
            "the file is not a Tally database".into(),
        ));
    }
    Ok(conn)
}

/// Whether the database file at `path` opens and passes its checks (see [`open_backup`]).
pub(crate) fn check_file(path: &Path) -> Result<()> {
    open_backup(path).map(drop)
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
