//! The storage opened with the passphrase: its vault, and the computers' files.

use opendal::{ErrorKind, Operator};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::crypto::{FORMAT, Key, KeyDerivation, VAULT_FILE};
use crate::{Location, Result, SyncError, TimeLimits};

/// The largest file of changes read (a sync writes files of a few MB).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// The most one file may hold once decompressed.
pub const MAX_PLAIN_BYTES: usize = 256 * 1024 * 1024;
const MAX_VAULT_BYTES: u64 = 64 * 1024;
const VAULT_CHECK: &[u8] = b"Tally sync: this passphrase opens this storage";
const DEVICES: &str = "devices/";
const SNAPSHOTS: &str = "snapshots/";
const EXTENSION: &str = ".tsync";

/// The vault as written: not secret (the passphrase is not in it), but checked.
#[derive(Debug, Serialize, Deserialize)]
struct Vault {
    tally_sync: u32,
    key_derivation: KeyDerivation,
    /// Base64 of a known text sealed with the key: it opens only with the right passphrase.
    check: String,
}

/// One computer's file of changes: `devices/<device>/<name>.tsync`. A computer names its
/// files by its clock, so that each one it writes sorts after the ones before.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Segment {
    device: String,
    name: String,
}

impl Segment {
    /// Names are a computer's id (hex) and its clock's reading (digits, dots, dashes): a
    /// name from the storage that is anything else is not Tally's, and is left alone.
    pub fn new(device: &str, name: &str) -> Option<Self> {
        let device_ok = (1..=64).contains(&device.len())
            && device
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        let name_ok = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            && !name.starts_with('.');
        (device_ok && name_ok).then(|| Self {
            device: device.into(),
            name: name.into(),
        })
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> String {
        format!("{DEVICES}{}/{}{EXTENSION}", self.device, self.name)
    }
}

/// A snapshot one computer wrote of everything it had: `snapshots/<device>/<name>/`, its
/// parts, then its manifest (written last: a snapshot without one is not finished, and is
/// not listed). A new computer starts from the newest one instead of every change ever.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Snapshot {
    name: String,
    device: String,
}

impl Snapshot {
    /// Named as a computer's files are (see [`Segment::new`]).
    pub fn new(device: &str, name: &str) -> Option<Self> {
        Segment::new(device, name).map(|segment| Self {
            name: segment.name,
            device: segment.device,
        })
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn folder(&self) -> String {
        format!("{SNAPSHOTS}{}/{}/", self.device, self.name)
    }

    pub fn part_path(&self, index: u32) -> String {
        format!("{}part-{index:05}{EXTENSION}", self.folder())
    }

    pub fn manifest_path(&self) -> String {
        format!("{}manifest{EXTENSION}", self.folder())
    }
}

/// The storage, opened: every file written here is sealed with the passphrase's key.
#[derive(Debug)]
pub struct SyncFolder {
    operator: Operator,
    key: Key,
}

impl SyncFolder {
    /// Opens the storage at `location` with `passphrase`. The first computer to use it
    /// writes its vault (`created` is then true); every later one must give the same
    /// passphrase, or is refused.
    pub async fn open(location: &Location, passphrase: &SecretString) -> Result<(Self, bool)> {
        Self::open_with(location, passphrase, TimeLimits::default()).await
    }

    /// [`SyncFolder::open`], each request given up after `limits`.
    pub async fn open_with(
        location: &Location,
        passphrase: &SecretString,
        limits: TimeLimits,
    ) -> Result<(Self, bool)> {
        let operator = location.operator(limits)?;
        let (vault, created) = match read_vault(&operator).await? {
            Some(vault) => (vault, false),
            None => (write_vault(&operator, passphrase).await?, true),
        };
        if vault.tally_sync > FORMAT {
            return Err(SyncError::Newer {
                found: vault.tally_sync,
            });
        }
        let derivation = vault.key_derivation.clone();
        let passphrase = passphrase.clone();
        // Argon2 is slow on purpose: off the async threads.
        let key = tokio::task::spawn_blocking(move || derivation.derive(&passphrase))
            .await
            .map_err(|e| SyncError::Unreachable(format!("the key was not derived: {e}")))??;
        let check = crate::crypto::base64_decode(&vault.check).ok_or(SyncError::Damaged {
            path: VAULT_FILE.into(),
            reason: "its check is not base64".into(),
        })?;
        match key.open(VAULT_FILE, &check, VAULT_CHECK.len()) {
            Ok(text) if text == VAULT_CHECK => {}
            Ok(_) | Err(SyncError::Damaged { .. }) => return Err(SyncError::WrongPassphrase),
            Err(other) => return Err(other),
        }
        Ok((Self { operator, key }, created))
    }

    /// Writes `plain` as `segment`, sealed.
    pub async fn put(&self, segment: &Segment, plain: &[u8]) -> Result<()> {
        self.put_at(&segment.path(), plain).await
    }

    /// Writes part `index` of `snapshot`.
    pub async fn put_snapshot_part(
        &self,
        snapshot: &Snapshot,
        index: u32,
        plain: &[u8],
    ) -> Result<()> {
        self.put_at(&snapshot.part_path(index), plain).await
    }

    /// Writes `snapshot`'s manifest, which finishes it: write it after every part.
    pub async fn put_snapshot_manifest(&self, snapshot: &Snapshot, plain: &[u8]) -> Result<()> {
        self.put_at(&snapshot.manifest_path(), plain).await
    }

    /// Removes `segments`: a computer's own files, once a snapshot of its covers them.
    pub async fn remove(&self, segments: &[Segment]) -> Result<()> {
        if segments.is_empty() {
            return Ok(());
        }
        self.operator
            .delete_iter(segments.iter().map(Segment::path))
            .await
            .map_err(|e| storage_error(&e))
    }

    /// Removes `snapshot`: its manifest first, so that nobody takes what is left of it for
    /// a whole one, then its parts and its folder.
    pub async fn remove_snapshot(&self, snapshot: &Snapshot) -> Result<()> {
        self.operator
            .delete(&snapshot.manifest_path())
            .await
            .map_err(|e| storage_error(&e))?;
        self.operator
            .delete_with(&snapshot.folder())
            .recursive(true)
            .await
            .map_err(|e| storage_error(&e))
    }

    /// Part `index` of `snapshot` (refused as [`SyncFolder::get`] refuses a file).
    pub async fn get_snapshot_part(&self, snapshot: &Snapshot, index: u32) -> Result<Vec<u8>> {
        self.get_at(snapshot.part_path(index)).await
    }

    pub async fn get_snapshot_manifest(&self, snapshot: &Snapshot) -> Result<Vec<u8>> {
        self.get_at(snapshot.manifest_path()).await
    }

    /// The finished snapshots (those with a manifest), oldest first.
    pub async fn list_snapshots(&self) -> Result<Vec<Snapshot>> {
        let mut found = Vec::new();
        for device in self.subfolders(SNAPSHOTS).await? {
            for name in self.subfolders(&format!("{SNAPSHOTS}{device}/")).await? {
                let Some(snapshot) = Snapshot::new(&device, &name) else {
                    continue;
                };
                match self.operator.exists(&snapshot.manifest_path()).await {
                    Ok(true) => found.push(snapshot),
                    Ok(false) => {}
                    Err(e) => return Err(storage_error(&e)),
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// The names of the folders in `folder` (none when it is not there).
    async fn subfolders(&self, folder: &str) -> Result<Vec<String>> {
        let entries = match self.operator.list(folder).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(storage_error(&e)),
        };
        Ok(entries
            .iter()
            .filter_map(|entry| entry.path().strip_prefix(folder)?.strip_suffix('/'))
            .filter(|name| !name.is_empty() && !name.contains('/'))
            .map(str::to_string)
            .collect())
    }

    async fn put_at(&self, path: &str, plain: &[u8]) -> Result<()> {
        let file = self.key.seal(path, plain)?;
        self.operator
            .write(path, file)
            .await
            .map_err(|e| storage_error(&e))?;
        Ok(())
    }

    /// Every computer's files, each computer's in the order it wrote them. Names that are
    /// not Tally's (a sync program's partial copies, its conflict copies) are left out.
    pub async fn list(&self) -> Result<Vec<Segment>> {
        let mut found = Vec::new();
        for device in self.subfolders(DEVICES).await? {
            if Segment::new(&device, "0").is_none() {
                continue;
            }
            let files = match self.operator.list(&format!("{DEVICES}{device}/")).await {
                Ok(files) => files,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(storage_error(&e)),
            };
            for file in files {
                let name = file
                    .path()
                    .rsplit('/')
                    .next()
                    .and_then(|name| name.strip_suffix(EXTENSION));
                if let Some(segment) = name.and_then(|name| Segment::new(&device, name)) {
                    found.push(segment);
                }
            }
        }
        found.sort();
        Ok(found)
    }

    /// What `segment` holds. One larger than Tally writes, damaged, cut short or changed by
    /// anyone without the passphrase is refused, and nothing of it is returned.
    pub async fn get(&self, segment: &Segment) -> Result<Vec<u8>> {
        self.get_at(segment.path()).await
    }

    async fn get_at(&self, path: String) -> Result<Vec<u8>> {
        let file = read_bounded(&self.operator, &path, MAX_FILE_BYTES)
            .await?
            .ok_or_else(|| SyncError::Damaged {
                path: path.clone(),
                reason: "it is no longer there".into(),
            })?;
        self.key.open(&path, &file, MAX_PLAIN_BYTES)
    }
}

async fn read_vault(operator: &Operator) -> Result<Option<Vault>> {
    let Some(bytes) = read_bounded(operator, VAULT_FILE, MAX_VAULT_BYTES).await? else {
        return Ok(None);
    };
    let damaged = |reason: String| SyncError::Damaged {
        path: VAULT_FILE.into(),
        reason,
    };
    // A later format may add fields; its number is read first, so that it is refused as
    // newer rather than as damaged.
    #[derive(Deserialize)]
    struct Format {
        tally_sync: u32,
    }
    let format: Format = serde_json::from_slice(&bytes)
        .map_err(|e| damaged(format!("it is not a Tally sync vault ({e})")))?;
    if format.tally_sync > FORMAT {
        return Err(SyncError::Newer {
            found: format.tally_sync,
        });
    }
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| damaged(format!("it is not a Tally sync vault ({e})")))
}

/// The file at `path` (`None` when there is none), refused when it is larger than `max`:
/// the size the storage states is checked first, and no more than it is read.
async fn read_bounded(operator: &Operator, path: &str, max: u64) -> Result<Option<Vec<u8>>> {
    let size = match operator.stat(path).await {
        Ok(meta) => meta.content_length(),
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(storage_error(&e)),
    };
    if size > max {
        return Err(SyncError::Damaged {
            path: path.into(),
            reason: format!(
                "it is {} bytes, more than the {max} such a file can be",
                size
            ),
        });
    }
    if size == 0 {
        return Ok(Some(Vec::new()));
    }
    match operator.read_with(path).range(0..size).await {
        Ok(bytes) => Ok(Some(bytes.to_vec())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(storage_error(&e)),
    }
}

async fn write_vault(operator: &Operator, passphrase: &SecretString) -> Result<Vault> {
    let derivation = KeyDerivation::new();
    let key = {
        let derivation = derivation.clone();
        let passphrase = passphrase.clone();
        tokio::task::spawn_blocking(move || derivation.derive(&passphrase))
            .await
            .map_err(|e| SyncError::Unreachable(format!("the key was not derived: {e}")))??
    };
    let vault = Vault {
        tally_sync: FORMAT,
        key_derivation: derivation,
        check: crate::crypto::base64_encode(&key.seal(VAULT_FILE, VAULT_CHECK)?),
    };
    let bytes = serde_json::to_vec_pretty(&vault).expect("a vault serialises");
    // Two computers starting at once: the first vault written is the one both use.
    let exclusive = operator.info().capability().write_with_if_not_exists;
    let written = if exclusive {
        operator
            .write_with(VAULT_FILE, bytes)
            .if_not_exists(true)
            .await
    } else {
        operator.write(VAULT_FILE, bytes).await
    };
    match written {
        Ok(_) => Ok(vault),
        Err(e)
            if matches!(
                e.kind(),
                ErrorKind::ConditionNotMatch | ErrorKind::AlreadyExists
            ) =>
        {
            read_vault(operator).await?.ok_or_else(|| storage_error(&e))
        }
        Err(e) => Err(storage_error(&e)),
    }
}

/// What a storage failure means for the person.
fn storage_error(error: &opendal::Error) -> SyncError {
    let text = error.to_string();
    let lower = text.to_lowercase();
    let short: String = text.chars().take(300).collect();
    if lower.contains("no space left")
        || lower.contains("insufficient storage")
        || lower.contains("quota")
        || lower.contains("storage full")
    {
        return SyncError::Full;
    }
    // OpenDAL's timeout layer: a whole request, or a silence within one, took too long.
    if matches!(
        error.message(),
        "operation timeout reached" | "io operation timeout reached"
    ) {
        return SyncError::TooSlow;
    }
    // Some services report a refused sign-in only as the HTTP status in the error's text.
    let refused = lower.contains("status: 401") || lower.contains("status: 403");
    match error.kind() {
        ErrorKind::PermissionDenied => SyncError::Denied(short),
        _ if refused => SyncError::Denied(short),
        _ => SyncError::Unreachable(short),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_tally_writes_are_files_of_changes() {
        let cases = [
            ("0123abcd", "000001780000000.0000000001", true),
            ("0123abcd", ".syncthing.000001780000000.tmp", false),
            ("0123abcd", "000001780000000 (conflicted copy)", false),
            ("0123ABCD", "1", false),
            ("../etc", "1", false),
            ("", "1", false),
            ("0123abcd", "", false),
        ];
        for (device, name, valid) in cases {
            assert_eq!(
                Segment::new(device, name).is_some(),
                valid,
                "{device}/{name}"
            );
        }
    }
}
