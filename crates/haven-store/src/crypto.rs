//! Field encryption and blind indexes. A master key (from the key file or the environment, never in the
//! database) wraps data keys stored in `data_keys`. Each identity field is sealed with XChaCha20-Poly1305
//! under the active field key, bound by associated data to its table, column and record, so a ciphertext
//! cannot be moved to another record or field. Exact look-ups use blind indexes: HMAC-SHA256 under a separate
//! data key over a normalised value, domain-separated per kind of value.
//!
//! The key file also holds the Ed25519 key that signs audit checkpoints; it is not a data key because it must
//! stay outside the database an attacker might edit.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::Sha256;

const FORMAT_V1: u8 = 1;
const KEY_ID_LEN: usize = 16;
const NONCE_LEN: usize = 24;

/// The secrets held outside the database.
#[derive(Clone)]
pub struct KeyFile {
    pub master: [u8; 32],
    pub audit_signing: [u8; 32],
}

impl std::fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyFile(..)")
    }
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

impl KeyFile {
    pub fn generate() -> KeyFile {
        KeyFile { master: random_bytes(), audit_signing: random_bytes() }
    }

    pub fn encode(&self) -> String {
        format!(
            "# Haven key file: keep it secret, keep a copy offline. Without it the data cannot be read.\n\
             master = {}\naudit = {}\n",
            B64.encode(self.master),
            B64.encode(self.audit_signing)
        )
    }

    pub fn decode(text: &str) -> anyhow::Result<KeyFile> {
        let mut master = None;
        let mut audit = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (k, v) = line.split_once('=').context("key file line without '='")?;
            let bytes: [u8; 32] = B64
                .decode(v.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .with_context(|| format!("key file entry {} is not 32 bytes of base64", k.trim()))?;
            match k.trim() {
                "master" => master = Some(bytes),
                "audit" => audit = Some(bytes),
                other => bail!("unknown key file entry {other}"),
            }
        }
        Ok(KeyFile {
            master: master.context("key file has no master key")?,
            audit_signing: audit.context("key file has no audit key")?,
        })
    }

    /// Read the key file; `HAVEN_MASTER_KEY` and `HAVEN_AUDIT_KEY` (base64) take precedence when set.
    pub fn load(path: &Path) -> anyhow::Result<KeyFile> {
        let env_master = std::env::var("HAVEN_MASTER_KEY").ok();
        let env_audit = std::env::var("HAVEN_AUDIT_KEY").ok();
        if let (Some(m), Some(a)) = (&env_master, &env_audit) {
            return KeyFile::decode(&format!("master = {m}\naudit = {a}\n"));
        }
        KeyFile::read_file(path)
    }

    /// Read a key file, ignoring the environment.
    pub fn read_file(path: &Path) -> anyhow::Result<KeyFile> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading the key file {}", path.display()))?;
        KeyFile::decode(&text)
    }

    /// Whether the keys come from the environment rather than a file.
    pub fn from_environment() -> bool {
        std::env::var("HAVEN_MASTER_KEY").is_ok() && std::env::var("HAVEN_AUDIT_KEY").is_ok()
    }

    /// Write the key file readable by its owner only, durably, replacing any file at `path` atomically.
    pub fn write(&self, path: &Path) -> anyhow::Result<()> {
        use std::io::Write;
        let tmp = path.with_extension("tmp");
        let mut f = crate::files::create_private(&tmp, true).with_context(|| format!("creating {}", tmp.display()))?;
        f.write_all(self.encode().as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        sync_dir(path)
    }
}

/// Make a rename in the key file's folder durable.
pub fn sync_dir(path: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Where the key file lives in a data folder, and where a rotation stages the next one.
pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("haven.key")
}
pub fn next_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("haven.key.next")
}

pub type KeyId = [u8; KEY_ID_LEN];

/// Data keys unwrapped in memory.
#[derive(Clone)]
pub struct Keyring {
    field_keys: HashMap<KeyId, XChaCha20Poly1305>,
    active: KeyId,
    blind: Hmac<Sha256>,
}

/// A data key row as stored.
pub struct WrappedKey {
    pub id: KeyId,
    pub purpose: String,
    pub wrapped: Vec<u8>,
}

fn wrap_aad(id: &KeyId, purpose: &str) -> Vec<u8> {
    let mut aad = b"haven-data-key|".to_vec();
    aad.extend_from_slice(id);
    aad.extend_from_slice(purpose.as_bytes());
    aad
}

pub fn wrap_key(master: &[u8; 32], id: &KeyId, purpose: &str, key: &[u8; 32]) -> Vec<u8> {
    seal_raw(&XChaCha20Poly1305::new(master.into()), key, &wrap_aad(id, purpose))
}

pub(crate) fn unwrap_key(master: &[u8; 32], w: &WrappedKey) -> anyhow::Result<[u8; 32]> {
    let plain = open_raw(&XChaCha20Poly1305::new(master.into()), &w.wrapped, &wrap_aad(&w.id, &w.purpose))
        .ok_or_else(|| anyhow!("the master key does not open the data keys (wrong key file?)"))?;
    plain.try_into().map_err(|_| anyhow!("data key has the wrong length"))
}

fn seal_raw(cipher: &XChaCha20Poly1305, plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let nonce: [u8; NONCE_LEN] = random_bytes();
    let mut out = nonce.to_vec();
    // Encryption with a fresh nonce and in-memory buffers cannot fail.
    let ct = cipher.encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad }).unwrap_or_default();
    out.extend_from_slice(&ct);
    out
}

fn open_raw(cipher: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = sealed.split_at(NONCE_LEN);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad }).ok()
}

/// The associated data that binds a field ciphertext to its place.
fn field_aad(table: &str, column: &str, record_id: &str) -> Vec<u8> {
    format!("{table}.{column}|{record_id}").into_bytes()
}

/// Kinds of blind index, kept apart so equal strings of different kinds never collide.
#[derive(Clone, Copy, Debug)]
pub enum BlindKind {
    IdNumber,
    Phone,
    Name,
    RecoveryCode,
    Passport,
    /// A record-linkage key (name parts with a birth year, a birth date, ...): see `haven_linkage::probe`.
    MatchKey,
    /// A spreadsheet's SHA-256, so a file imported once is recognised.
    ImportFile,
    /// A spreadsheet's header row, folded: a file without a header row has a person's details there.
    ImportTemplate,
    /// A case's pseudonym in exports for analysis: stable across exports, meaningless without the key.
    Pseudonym,
    /// What a person search looked for, in the audit log: the same search twice gives the same hash, so a
    /// head sees repeated probing, and the log holds no name or number.
    Search,
}

impl Keyring {
    /// Unwrap every stored data key with the master key.
    pub fn unwrap(master: &[u8; 32], keys: &[WrappedKey]) -> anyhow::Result<Keyring> {
        let mut field_keys = HashMap::new();
        let mut active = None;
        let mut blind = None;
        for w in keys {
            let k = unwrap_key(master, w)?;
            match w.purpose.as_str() {
                "field" => {
                    field_keys.insert(w.id, XChaCha20Poly1305::new(&k.into()));
                    // UUIDv7 ids sort by creation: the newest field key is the active one.
                    if active.is_none_or(|a| w.id > a) {
                        active = Some(w.id);
                    }
                }
                "blind" => blind = Some(<Hmac<Sha256> as Mac>::new_from_slice(&k)?),
                other => bail!("unknown data key purpose {other}"),
            }
        }
        Ok(Keyring {
            field_keys,
            active: active.context("no field key in the database")?,
            blind: blind.context("no blind-index key in the database")?,
        })
    }

    pub fn active_key_id(&self) -> KeyId {
        self.active
    }

    /// Seal one field value.
    pub fn seal(&self, table: &str, column: &str, record_id: &str, plain: &str) -> Vec<u8> {
        self.seal_bytes(table, column, record_id, plain.as_bytes())
    }

    /// Seal bytes (an attached photo or document) the same way as a field.
    pub fn seal_bytes(&self, table: &str, column: &str, record_id: &str, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + KEY_ID_LEN + NONCE_LEN + plain.len() + 16);
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.active);
        let cipher = &self.field_keys[&self.active];
        out.extend_from_slice(&seal_raw(cipher, plain, &field_aad(table, column, record_id)));
        out
    }

    /// Open one field value; an error means tampering, a wrong key or a value moved from elsewhere.
    pub fn open(&self, table: &str, column: &str, record_id: &str, sealed: &[u8]) -> anyhow::Result<String> {
        Ok(String::from_utf8(self.open_bytes(table, column, record_id, sealed)?)?)
    }

    /// Open sealed bytes.
    pub fn open_bytes(&self, table: &str, column: &str, record_id: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        if sealed.len() < 1 + KEY_ID_LEN || sealed[0] != FORMAT_V1 {
            bail!("{table}.{column}: unknown ciphertext format");
        }
        let id: KeyId = sealed[1..1 + KEY_ID_LEN].try_into()?;
        let cipher = self.field_keys.get(&id).with_context(|| format!("{table}.{column}: data key not found"))?;
        open_raw(cipher, &sealed[1 + KEY_ID_LEN..], &field_aad(table, column, record_id))
            .with_context(|| format!("{table}.{column} of {record_id} does not authenticate"))
    }

    pub fn seal_opt(&self, table: &str, column: &str, id: &str, plain: Option<&str>) -> Option<Vec<u8>> {
        plain.map(|p| self.seal(table, column, id, p))
    }

    pub fn open_opt(
        &self,
        table: &str,
        column: &str,
        id: &str,
        sealed: Option<&[u8]>,
    ) -> anyhow::Result<Option<String>> {
        sealed.map(|s| self.open(table, column, id, s)).transpose()
    }

    /// The blind index of an already-normalised value: 128 bits of HMAC, hex.
    pub fn blind(&self, kind: BlindKind, normalised: &str) -> String {
        let mut mac = self.blind.clone();
        mac.update(format!("{kind:?}|").as_bytes());
        mac.update(normalised.as_bytes());
        let tag = mac.finalize().into_bytes();
        tag[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A copy of this keyring with one more field key, made active (used by key rotation).
    pub fn with_new_field_key(&self, id: KeyId, key: &[u8; 32]) -> Keyring {
        let mut next = self.clone();
        next.field_keys.insert(id, XChaCha20Poly1305::new(key.into()));
        next.active = id;
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> (KeyFile, Keyring, Vec<WrappedKey>) {
        let kf = KeyFile::generate();
        let fid: KeyId = random_bytes();
        let bid: KeyId = random_bytes();
        let fk: [u8; 32] = random_bytes();
        let bk: [u8; 32] = random_bytes();
        let keys = vec![
            WrappedKey { id: fid, purpose: "field".into(), wrapped: wrap_key(&kf.master, &fid, "field", &fk) },
            WrappedKey { id: bid, purpose: "blind".into(), wrapped: wrap_key(&kf.master, &bid, "blind", &bk) },
        ];
        let r = Keyring::unwrap(&kf.master, &keys).expect("unwrap");
        (kf, r, keys)
    }

    #[test]
    fn seal_open_round_trip_with_diacritics() {
        let (_, r, _) = ring();
        let c = r.seal("persons", "full_name", "p1", "Nguyễn Thị Hoà");
        assert!(!c.windows(6).any(|w| w == "Nguyễn".as_bytes()));
        assert_eq!(r.open("persons", "full_name", "p1", &c).expect("open"), "Nguyễn Thị Hoà");
    }

    #[test]
    fn ciphertext_is_bound_to_its_record_and_column() {
        let (_, r, _) = ring();
        let c = r.seal("persons", "full_name", "p1", "Trần Văn An");
        assert!(r.open("persons", "full_name", "p2", &c).is_err());
        assert!(r.open("persons", "address", "p1", &c).is_err());
        let mut t = c.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(r.open("persons", "full_name", "p1", &t).is_err());
    }

    #[test]
    fn wrong_master_key_is_refused() {
        let (_, _, keys) = ring();
        let other = KeyFile::generate();
        assert!(Keyring::unwrap(&other.master, &keys).is_err());
    }

    #[test]
    fn blind_index_is_deterministic_and_kind_separated() {
        let (_, r, _) = ring();
        let a = r.blind(BlindKind::IdNumber, "079203001234");
        assert_eq!(a, r.blind(BlindKind::IdNumber, "079203001234"));
        assert_ne!(a, r.blind(BlindKind::Phone, "079203001234"));
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn key_file_round_trip_and_no_secret_in_debug() {
        let kf = KeyFile::generate();
        let back = KeyFile::decode(&kf.encode()).expect("decode");
        assert_eq!(back.master, kf.master);
        assert_eq!(back.audit_signing, kf.audit_signing);
        assert_eq!(format!("{kf:?}"), "KeyFile(..)");
        assert!(KeyFile::decode("master = abc").is_err());
    }
}
