//! Object ids: 32-byte BLAKE3 digests, `Copy`, printed as lowercase hex.

use std::fmt;
use std::str::FromStr;

/// A BLAKE3 digest naming an object. For a prompt version it is the plain BLAKE3 of the file's
/// bytes, so `b3sum FILE` prints the same hex.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId([u8; 32]);

/// How many hex characters human output shows.
pub const SHORT_LEN: usize = 12;
/// The shortest prefix a user may type.
pub const MIN_PREFIX_LEN: usize = 4;

impl ObjectId {
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        ObjectId(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The id of a prompt version: BLAKE3 over the exact bytes, no header.
    pub fn of_blob(bytes: &[u8]) -> Self {
        ObjectId(*blake3::hash(bytes).as_bytes())
    }

    /// The id of a structured object: BLAKE3 over a domain-separating header followed by the
    /// canonical encoding. The header holds a NUL byte, which no stored prompt file may contain,
    /// so a structured id can never equal the id of some prompt file's bytes.
    pub fn of_structured(header: &[u8], encoding: &[u8]) -> Self {
        let mut h = blake3::Hasher::new();
        h.update(header);
        h.update(encoding);
        ObjectId(*h.finalize().as_bytes())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// The 12-character prefix used in human output.
    pub fn short(&self) -> String {
        let mut s = self.to_hex();
        s.truncate(SHORT_LEN);
        s
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(ObjectId(arr))
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObjectId({})", self.short())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseIdError {
    #[error("`{0}` is not a full object id (64 lowercase hex characters)")]
    NotFull(String),
    #[error("`{0}` is not an id prefix: use 4 to 64 hex characters")]
    BadPrefix(String),
}

impl FromStr for ObjectId {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() != 64 {
            return Err(ParseIdError::NotFull(s.to_string()));
        }
        let mut out = [0u8; 32];
        hex::decode_to_slice(s.to_ascii_lowercase(), &mut out).map_err(|_| ParseIdError::NotFull(s.to_string()))?;
        Ok(ObjectId(out))
    }
}

impl serde::Serialize for ObjectId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> serde::Deserialize<'de> for ObjectId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A hex prefix of at least [`MIN_PREFIX_LEN`] characters, lowercased.
#[derive(Clone, PartialEq, Eq, Debug, Hash)]
pub struct IdPrefix(String);

impl IdPrefix {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn matches(&self, id: &ObjectId) -> bool {
        id.to_hex().starts_with(&self.0)
    }

    /// The bytes covered by whole hex pairs of the prefix, for range scans in a sorted store.
    pub fn byte_prefix(&self) -> Vec<u8> {
        let even = self.0.len() - self.0.len() % 2;
        hex::decode(&self.0[..even]).unwrap_or_default()
    }

    /// The full id when the prefix has all 64 characters.
    pub fn as_full(&self) -> Option<ObjectId> {
        self.0.parse().ok()
    }
}

impl FromStr for IdPrefix {
    type Err = ParseIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (MIN_PREFIX_LEN..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            return Err(ParseIdError::BadPrefix(s.to_string()));
        }
        Ok(IdPrefix(s.to_ascii_lowercase()))
    }
}

impl fmt::Display for IdPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_id_is_plain_blake3() {
        // b3sum of "abc" (the BLAKE3 test vector).
        assert_eq!(
            ObjectId::of_blob(b"abc").to_hex(),
            "6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85"
        );
    }

    #[test]
    fn prefix_rules() {
        assert!("abc".parse::<IdPrefix>().is_err());
        assert!("abcg".parse::<IdPrefix>().is_err());
        let p: IdPrefix = "6437B".parse().expect("prefix");
        assert!(p.matches(&ObjectId::of_blob(b"abc")));
        assert_eq!(p.byte_prefix(), vec![0x64, 0x37]);
    }

    #[test]
    fn hex_round_trip() {
        let id = ObjectId::of_blob(b"x");
        assert_eq!(id.to_hex().parse::<ObjectId>().expect("parse"), id);
        assert_eq!(id.short().len(), SHORT_LEN);
    }
}
