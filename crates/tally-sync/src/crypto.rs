//! The key from the passphrase, and a file sealed with it: compressed, then encrypted and
//! authenticated, with the file's format and path bound in.

use std::io::{Read, Write};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, Generate, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::{Result, SyncError};

/// The vault's name at the storage's root: how the key is derived, and its check.
pub const VAULT_FILE: &str = "tally-sync.json";

/// The format of the files this version writes; it reads this one and every earlier one.
pub const FORMAT: u32 = 1;

const MAGIC: &[u8; 8] = b"TALLYSNC";
const NONCE_LEN: usize = 24;
/// Magic, format (u32, big-endian), nonce.
pub(crate) const HEADER_LEN: usize = MAGIC.len() + 4 + NONCE_LEN;

/// How the key is derived from the passphrase: Argon2id with these costs and salt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyDerivation {
    pub algorithm: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Base64.
    pub salt: String,
}

impl KeyDerivation {
    /// OWASP's first choice for Argon2id (2025): 64 MiB, 3 passes; about a quarter of a
    /// second on a laptop, once per start of sync.
    pub fn new() -> Self {
        let salt: [u8; 16] = Generate::generate();
        Self {
            algorithm: "argon2id".into(),
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
            salt: base64_encode(&salt),
        }
    }

    /// The key for `passphrase`. A vault is a file anyone with the storage can write: its
    /// costs are bounded, so that a hostile one cannot make Tally take gigabytes or hours.
    pub fn derive(&self, passphrase: &SecretString) -> Result<Key> {
        let damaged = |reason: &str| SyncError::Damaged {
            path: VAULT_FILE.into(),
            reason: reason.into(),
        };
        if self.algorithm != "argon2id" {
            return Err(damaged("its key derivation is not Argon2id"));
        }
        if !(8 * 1024..=1024 * 1024).contains(&self.memory_kib)
            || !(1..=16).contains(&self.iterations)
            || !(1..=8).contains(&self.parallelism)
        {
            return Err(damaged("its key derivation's costs are out of range"));
        }
        let salt = base64_decode(&self.salt).ok_or_else(|| damaged("its salt is not base64"))?;
        if !(8..=64).contains(&salt.len()) {
            return Err(damaged("its salt is not 8 to 64 bytes"));
        }
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, Some(32))
            .map_err(|e| damaged(&e.to_string()))?;
        let mut key = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.expose_secret().as_bytes(), &salt, &mut *key)
            .map_err(|e| damaged(&e.to_string()))?;
        Ok(Key(key))
    }
}

/// The key every file is sealed with; wiped when dropped, never printed.
pub(crate) struct Key(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// `plain` compressed and sealed for `path`.
    pub fn seal(&self, path: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut deflate = flate2::write::DeflateEncoder::new(
            Vec::with_capacity(plain.len() / 3),
            flate2::Compression::fast(),
        );
        let compressed = deflate
            .write_all(plain)
            .and_then(|()| deflate.finish())
            .map_err(|e| SyncError::Damaged {
                path: path.into(),
                reason: e.to_string(),
            })?;
        let nonce: XNonce = Generate::generate();
        let mut file = Vec::with_capacity(HEADER_LEN + compressed.len() + 16);
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&FORMAT.to_be_bytes());
        file.extend_from_slice(&nonce);
        let aad = [&file[..HEADER_LEN], path.as_bytes()].concat();
        let sealed = self
            .cipher()
            .encrypt(
                &nonce,
                Payload {
                    msg: &compressed,
                    aad: &aad,
                },
            )
            .map_err(|_| SyncError::Damaged {
                path: path.into(),
                reason: "it could not be encrypted".into(),
            })?;
        file.extend_from_slice(&sealed);
        Ok(file)
    }

    /// What `file`, read from `path`, holds: at most `max_plain` bytes. A file that is not
    /// sealed with this key for this path, whole, is refused.
    pub fn open(&self, path: &str, file: &[u8], max_plain: usize) -> Result<Vec<u8>> {
        let damaged = |reason: &str| SyncError::Damaged {
            path: path.into(),
            reason: reason.into(),
        };
        if file.len() < HEADER_LEN + 16 || &file[..MAGIC.len()] != MAGIC {
            return Err(damaged("it is not a Tally sync file, or it is cut short"));
        }
        let format = u32::from_be_bytes(file[8..12].try_into().expect("4 bytes"));
        if format > FORMAT {
            return Err(SyncError::Newer { found: format });
        }
        let nonce = XNonce::try_from(&file[12..HEADER_LEN]).expect("24 bytes");
        let aad = [&file[..HEADER_LEN], path.as_bytes()].concat();
        let compressed = self
            .cipher()
            .decrypt(
                &nonce,
                Payload {
                    msg: &file[HEADER_LEN..],
                    aad: &aad,
                },
            )
            .map_err(|_| damaged("it is damaged, cut short or was changed by someone else"))?;
        let mut plain = Vec::new();
        flate2::read::DeflateDecoder::new(&compressed[..])
            .take(max_plain as u64 + 1)
            .read_to_end(&mut plain)
            .map_err(|_| damaged("its content does not decompress"))?;
        if plain.len() > max_plain {
            return Err(damaged("it holds more than Tally reads from one file"));
        }
        Ok(plain)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(passphrase: &str, derivation: &KeyDerivation) -> Key {
        derivation.derive(&SecretString::from(passphrase)).unwrap()
    }

    #[test]
    fn a_sealed_file_opens_only_with_its_key_at_its_path_and_whole() {
        let derivation = KeyDerivation::new();
        let right = key("correct horse", &derivation);
        let wrong = key("correct horse!", &derivation);
        let plain = b"the changes of one sync ".repeat(100);
        let file = right.seal("devices/a/1.tsync", &plain).unwrap();

        assert_eq!(
            right.open("devices/a/1.tsync", &file, 1 << 20).unwrap(),
            plain
        );
        assert!(file.len() < plain.len(), "compressed before it was sealed");
        let refusals = [
            (
                "another key",
                wrong.open("devices/a/1.tsync", &file, 1 << 20),
            ),
            (
                "another path",
                right.open("devices/b/1.tsync", &file, 1 << 20),
            ),
            (
                "cut short",
                right.open("devices/a/1.tsync", &file[..file.len() - 1], 1 << 20),
            ),
            ("empty", right.open("devices/a/1.tsync", &[], 1 << 20)),
            (
                "larger than the bound",
                right.open("devices/a/1.tsync", &file, 100),
            ),
        ];
        for (case, result) in refusals {
            assert!(
                matches!(result, Err(SyncError::Damaged { .. })),
                "{case}: {result:?}"
            );
        }
        let mut flipped = file.clone();
        let last = flipped.len() - 20;
        flipped[last] ^= 1;
        assert!(right.open("devices/a/1.tsync", &flipped, 1 << 20).is_err());
    }

    #[test]
    fn a_file_of_a_newer_format_is_refused_as_newer() {
        let derivation = KeyDerivation::new();
        let key = key("pass", &derivation);
        let mut file = key.seal("x", b"hello").unwrap();
        file[8..12].copy_from_slice(&(FORMAT + 1).to_be_bytes());
        assert!(matches!(
            key.open("x", &file, 100),
            Err(SyncError::Newer { found }) if found == FORMAT + 1
        ));
    }

    #[test]
    fn a_vault_asking_for_unbounded_work_is_refused_before_any_is_done() {
        let costly = [
            KeyDerivation {
                memory_kib: 64 * 1024 * 1024,
                ..KeyDerivation::new()
            },
            KeyDerivation {
                iterations: 1_000_000,
                ..KeyDerivation::new()
            },
            KeyDerivation {
                algorithm: "md5".into(),
                ..KeyDerivation::new()
            },
            KeyDerivation {
                salt: "not base64!".into(),
                ..KeyDerivation::new()
            },
        ];
        for derivation in costly {
            let result = derivation.derive(&SecretString::from("pass"));
            assert!(
                matches!(result, Err(SyncError::Damaged { .. })),
                "{derivation:?}"
            );
        }
    }
}
