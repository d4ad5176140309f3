//! Files Tally writes for the user (exports): never over an existing file or through a
//! link, readable by the user alone, under a name that does not take an earlier one's.

use std::path::{Path, PathBuf};

/// Creates the file at `path` for an export: never an existing file or a link (it fails
/// instead of overwriting or following one), readable by the user alone.
pub(crate) fn create_new_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `folder/stem.ext`, or `stem-2.ext`, `stem-3.ext`… if taken.
pub(crate) fn free_name(folder: &Path, stem: &str, ext: &str) -> PathBuf {
    let mut path = folder.join(format!("{stem}.{ext}"));
    let mut n = 2;
    while path.exists() {
        path = folder.join(format!("{stem}-{n}.{ext}"));
        n += 1;
    }
    path
}
