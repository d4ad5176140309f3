//! The three kinds of place, and the OpenDAL operator for each.

use std::path::PathBuf;
use std::time::Duration;

use opendal::Operator;
use opendal::layers::{RetryLayer, TimeoutLayer};
use secrecy::{ExposeSecret, SecretString};

use crate::{Result, SyncError};

/// How long the storage may take before a request is given up (and retried, twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeLimits {
    /// For one whole request: a file written or read, a folder listed.
    pub request: Duration,
    /// Without a byte moving, within a request.
    pub silence: Duration,
}

impl Default for TimeLimits {
    fn default() -> Self {
        Self {
            request: Duration::from_secs(60),
            silence: Duration::from_secs(20),
        }
    }
}

/// Where the computers meet.
#[derive(Debug, Clone)]
pub enum Location {
    /// A folder another program syncs (Syncthing, Dropbox, OneDrive, iCloud Drive,
    /// Nextcloud's desktop client).
    Folder { path: PathBuf },
    /// A WebDAV server (Nextcloud, a NAS): the folder's address, and the sign-in.
    WebDav {
        url: String,
        username: Option<String>,
        password: Option<SecretString>,
    },
    /// S3-compatible storage: the service's address, the bucket, and the keys.
    S3 {
        endpoint: String,
        region: String,
        bucket: String,
        access_key_id: String,
        secret_access_key: SecretString,
    },
}

impl Location {
    /// The operator that reaches it: every request with a time limit, retried a little
    /// when the storage is briefly away.
    pub(crate) fn operator(&self, limits: TimeLimits) -> Result<Operator> {
        // The HTTP client WebDAV and S3 go through (OpenDAL's reqwest, with rustls).
        opendal::install_default();
        let built = match self {
            Self::Folder { path } => {
                if !path.is_absolute() {
                    return Err(SyncError::BadLocation(format!(
                        "The sync folder must be a full path (from /), not {}.",
                        path.display()
                    )));
                }
                if !path.is_dir() {
                    return Err(SyncError::BadLocation(format!(
                        "There is no folder at {}. Create it, or choose another.",
                        path.display()
                    )));
                }
                let root = path.to_string_lossy();
                // Written beside, then renamed: another computer never sees half a file
                // of this one's (a sync program still copying one is another matter).
                let partial = path.join(".tally-partial");
                Operator::new(
                    opendal::services::Fs::default()
                        .root(&root)
                        .atomic_write_dir(&partial.to_string_lossy()),
                )
            }
            Self::WebDav {
                url,
                username,
                password,
            } => {
                let url = checked_address(url)?;
                // OpenDAL takes the server and the folder on it apart.
                let origin = url.origin().ascii_serialization();
                let mut service = opendal::services::Webdav::default()
                    .endpoint(&origin)
                    .root(url.path());
                if let Some(username) = username.as_deref().filter(|u| !u.is_empty()) {
                    service = service.username(username);
                }
                if let Some(password) = password {
                    service = service.password(password.expose_secret());
                }
                Operator::new(service)
            }
            Self::S3 {
                endpoint,
                region,
                bucket,
                access_key_id,
                secret_access_key,
            } => {
                let endpoint = checked_address(endpoint)?;
                if bucket.trim().is_empty() {
                    return Err(SyncError::BadLocation(
                        "Give the name of the bucket to keep the sync files in.".into(),
                    ));
                }
                Operator::new(
                    opendal::services::S3::default()
                        .endpoint(endpoint.as_str().trim_end_matches('/'))
                        .region(if region.trim().is_empty() {
                            "us-east-1"
                        } else {
                            region.trim()
                        })
                        .bucket(bucket.trim())
                        .access_key_id(access_key_id.trim())
                        .secret_access_key(secret_access_key.expose_secret())
                        // Only what the person typed: no keys from the environment, files
                        // or a cloud machine's metadata service.
                        .disable_config_load(),
                )
            }
        };
        let operator =
            built.map_err(|e| SyncError::BadLocation(format!("This place cannot be used: {e}")))?;
        Ok(operator
            .layer(
                TimeoutLayer::new()
                    .with_timeout(limits.request)
                    .with_io_timeout(limits.silence),
            )
            .layer(
                RetryLayer::new()
                    .with_max_times(2)
                    .with_min_delay(Duration::from_millis(200))
                    .with_max_delay(Duration::from_secs(2))
                    .with_jitter(),
            ))
    }
}

/// `address` when it is https, or http to this computer: a password or key goes nowhere
/// else in the clear.
fn checked_address(address: &str) -> Result<url::Url> {
    let url = url::Url::parse(address.trim()).map_err(|_| {
        SyncError::BadLocation(format!(
            "\u{201c}{}\u{201d} is not a web address (it starts with https://).",
            address.trim().chars().take(100).collect::<String>()
        ))
    })?;
    let loopback = match url.host() {
        Some(url::Host::Domain(host)) => host.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(SyncError::BadLocation(
            "The address must start with https:// (http:// would send your password \
             unencrypted), unless the server is on this computer."
                .into(),
        )),
        _ => Err(SyncError::BadLocation(
            "The address must start with https://.".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_goes_only_to_https_or_this_computer() {
        let cases = [
            ("https://cloud.example/remote.php/dav/files/me/Tally", true),
            ("http://127.0.0.1:8080/", true),
            ("http://localhost:8080/dav", true),
            ("http://[::1]:9000", true),
            ("http://cloud.example/dav", false),
            ("ftp://cloud.example/", false),
            ("cloud.example/dav", false),
        ];
        for (address, allowed) in cases {
            assert_eq!(checked_address(address).is_ok(), allowed, "{address}");
        }
    }

    #[test]
    fn a_folder_must_exist_and_be_given_in_full() {
        let relative = Location::Folder {
            path: "Sync/Tally".into(),
        };
        let missing = Location::Folder {
            path: "/nonexistent/tally-sync".into(),
        };
        for location in [relative, missing] {
            assert!(matches!(
                location.operator(TimeLimits::default()),
                Err(SyncError::BadLocation(_))
            ));
        }
    }
}
