//! Files Tally writes for the user (exports): never over an existing file or through a
//! link, readable by the user alone, under a name that does not take an earlier one's.

use std::error::Error;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::CoreError;

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

/// A file Tally could not write at `path`, in words, with what the system said; a full
/// disk is [`CoreError::DiskFull`], whatever the writer wrapped it in.
pub(crate) fn write_failed(path: &Path, why: &(dyn Error + 'static)) -> CoreError {
    if disk_full(why) {
        return CoreError::DiskFull;
    }
    CoreError::File(format!(
        "Tally could not write the file {}: {why}. Check that the folder exists and that you may write in it.",
        path.display()
    ))
}

/// Whether `error`, or an error it wraps, is the disk being full.
fn disk_full(error: &(dyn Error + 'static)) -> bool {
    let full = |kind: Option<ErrorKind>| kind == Some(ErrorKind::StorageFull);
    let mut next = Some(error);
    while let Some(error) = next {
        let csv_io = error
            .downcast_ref::<csv::Error>()
            .and_then(|e| match e.kind() {
                csv::ErrorKind::Io(io) => Some(io.kind()),
                _ => None,
            });
        if full(
            error
                .downcast_ref::<std::io::Error>()
                .map(std::io::Error::kind),
        ) || full(
            error
                .downcast_ref::<serde_json::Error>()
                .and_then(serde_json::Error::io_error_kind),
        ) || full(csv_io)
        {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorCode;

    #[test]
    fn a_full_disk_is_told_as_such_whatever_wrote_the_file() {
        let full = || std::io::Error::from(ErrorKind::StorageFull);
        let denied = || std::io::Error::from(ErrorKind::PermissionDenied);
        let path = Path::new("/exports/usage.csv");
        let cases: [(Box<dyn Error>, ErrorCode); 6] = [
            (Box::new(full()), ErrorCode::DiskFull),
            (Box::new(csv::Error::from(full())), ErrorCode::DiskFull),
            (Box::new(serde_json::Error::io(full())), ErrorCode::DiskFull),
            (Box::new(denied()), ErrorCode::FileFailed),
            (Box::new(csv::Error::from(denied())), ErrorCode::FileFailed),
            (
                Box::new(serde_json::Error::io(denied())),
                ErrorCode::FileFailed,
            ),
        ];
        for (error, code) in cases {
            let shown = format!("{error:?}");
            let failed = write_failed(path, error.as_ref());
            assert_eq!(failed.code(), code, "{shown}");
            if code == ErrorCode::FileFailed {
                assert!(
                    failed.to_string().contains("/exports/usage.csv"),
                    "{failed}"
                );
            }
        }
    }
}
