//! Encodings every floor shares, with no stage of their own: the SplitMix64 generator, FNV-1a
//! and word-at-a-time fingerprints and sealed
//! bytes (checkpoints and the watch state), lenient JSON numbers (SageMaker writes counts as
//! `24.0` and non-finite values as strings), the serde form of non-finite floats, and pretty JSON. It imports
//! nothing of the crate.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// Serializes to pretty JSON with a final newline. serde_json writes a non-finite f64 as
/// `null`; driftscope's models keep such values out (`Option` fields, or the string forms of
/// [`nonfinite`]), so the output is always strict JSON.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut v = serde_json::to_vec_pretty(value).expect("driftscope models always serialize");
    v.push(b'\n');
    v
}

/// SplitMix64's increment (the golden ratio in 64 bits).
pub const SPLITMIX_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: 64 well-mixed bits from `z`.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea & Flood 2014): the next 64 bits of the generator whose state is
/// `state`. Small, fast and fixed-seed: the sketches' coin flips and the generated data only need
/// to be reproducible.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(SPLITMIX_GAMMA);
    mix64(*state)
}

/// FNV-1a, 64 bits: a stable fingerprint (std's hasher is randomized per process).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_more(FNV_START, bytes)
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a continued over more bytes.
fn fnv1a64_more(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const SEAL: &[u8] = b"\n#fnv1a64 ";

/// `body` followed by a line holding its fingerprint, so that a damaged file is recognised.
pub fn seal(mut body: Vec<u8>) -> Vec<u8> {
    let sum = fnv1a64(&body);
    body.extend_from_slice(SEAL);
    body.extend_from_slice(format!("{sum:016x}\n").as_bytes());
    body
}

/// The seal line of [`Sealer`]'s word-at-a-time fingerprint ([`Words`]).
const SEAL_WORDS: &[u8] = b"\n#words64 ";

/// A fingerprint of a byte stream eight bytes at a time: each little-endian word is mixed in by a
/// xor, a multiply by an odd constant and a rotation (each a bijection, so a change of any one
/// word always changes the result), the last word padded with zeros and the length mixed in at
/// the end. About eight times faster than FNV-1a, which takes a byte per multiply: checkpoints of
/// windowed runs are hundreds of megabytes.
struct Words {
    h: u64,
    len: u64,
    tail: [u8; 8],
    held: usize,
}

impl Words {
    fn new() -> Words {
        Words { h: FNV_START, len: 0, tail: [0; 8], held: 0 }
    }

    fn word(&mut self, w: u64) {
        self.h = (self.h ^ w).wrapping_mul(SPLITMIX_GAMMA).rotate_left(29);
    }

    fn update(&mut self, mut bytes: &[u8]) {
        self.len += bytes.len() as u64;
        if self.held > 0 {
            let take = (8 - self.held).min(bytes.len());
            self.tail[self.held..self.held + take].copy_from_slice(&bytes[..take]);
            self.held += take;
            bytes = &bytes[take..];
            if self.held < 8 {
                return;
            }
            self.word(u64::from_le_bytes(self.tail));
            self.held = 0;
        }
        let words = bytes.chunks_exact(8);
        let rest = words.remainder();
        for w in words {
            self.word(u64::from_le_bytes(w.try_into().expect("eight bytes")));
        }
        self.tail[..rest.len()].copy_from_slice(rest);
        self.held = rest.len();
    }

    fn finish(mut self) -> u64 {
        if self.held > 0 {
            let mut last = [0u8; 8];
            last[..self.held].copy_from_slice(&self.tail[..self.held]);
            self.word(u64::from_le_bytes(last));
        }
        mix64(self.h ^ self.len)
    }

    fn of(bytes: &[u8]) -> u64 {
        let mut w = Words::new();
        w.update(bytes);
        w.finish()
    }
}

/// A writer that seals what goes through it, without holding it: the bytes pass on to `inner`
/// as they come, and [`Sealer::finish`] writes the fingerprint line — [`Words`]'s, which
/// [`unseal`] reads as it reads [`seal`]'s FNV-1a line.
pub struct Sealer<W: std::io::Write> {
    inner: W,
    sum: Words,
}

impl<W: std::io::Write> Sealer<W> {
    /// A sealer writing to `inner`.
    pub fn new(inner: W) -> Self {
        Sealer { inner, sum: Words::new() }
    }

    /// Writes the fingerprint line of everything written; returns the inner writer.
    ///
    /// # Errors
    /// When the inner writer fails.
    pub fn finish(mut self) -> std::io::Result<W> {
        self.inner.write_all(SEAL_WORDS)?;
        self.inner.write_all(format!("{:016x}\n", self.sum.finish()).as_bytes())?;
        Ok(self.inner)
    }
}

impl<W: std::io::Write> std::io::Write for Sealer<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sum.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// The body of a sealed file whose fingerprint matches; `None` for a damaged or unsealed one.
pub fn unseal(bytes: &[u8]) -> Option<&[u8]> {
    // The seal line is the file's last: its marker is found in the last few dozen bytes.
    let last = bytes.len().saturating_sub(64);
    let (at, words) = match bytes[last..].windows(SEAL_WORDS.len()).rposition(|w| w == SEAL_WORDS) {
        Some(i) => (last + i, true),
        None => (bytes.windows(SEAL.len()).rposition(|w| w == SEAL)?, false),
    };
    let marker = if words { SEAL_WORDS.len() } else { SEAL.len() };
    let (body, tail) = (&bytes[..at], &bytes[at + marker..]);
    let hex = std::str::from_utf8(tail).ok()?.trim_end_matches('\n');
    let sum = if words { Words::of(body) } else { fnv1a64(body) };
    (hex.len() == 16 && u64::from_str_radix(hex, 16).ok()? == sum).then_some(body)
}

/// Accepts a JSON number, or a string holding one (`"NaN"`, `"Infinity"`, `"1.5"`).
pub fn lenient_f64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64().ok_or_else(|| serde::de::Error::custom("number out of range")),
        Value::String(s) => {
            parse_number_str(&s).ok_or_else(|| serde::de::Error::custom(format!("not a number: {s:?}")))
        }
        other => Err(serde::de::Error::custom(format!("expected a number, found {other}"))),
    }
}

/// Optional variant of [`lenient_f64`]; `null` is `None`.
pub fn lenient_opt_f64<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<f64>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        Value::String(s) => {
            parse_number_str(&s).map(Some).ok_or_else(|| serde::de::Error::custom(format!("not a number: {s:?}")))
        }
        other => Err(serde::de::Error::custom(format!("expected a number, found {other}"))),
    }
}

fn parse_number_str(s: &str) -> Option<f64> {
    match s.trim() {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "+Infinity" | "inf" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        t => t.parse().ok(),
    }
}

/// Serde for f64 fields that may legitimately be non-finite (a sum of values near `f64::MAX`
/// overflows): finite values as JSON numbers, others as the strings `"NaN"`, `"Infinity"`,
/// `"-Infinity"`, so the profile stays valid, lossless JSON.
pub mod nonfinite {
    use serde::{Deserializer, Serializer};

    /// Serializes one f64.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }

    /// Deserializes one f64 from a number or one of those strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        super::lenient_f64(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sealer's fingerprint does not depend on how the bytes come: in uneven pieces (as a
    /// serializer writes) or at once; `unseal` takes its files and `seal`'s.
    #[test]
    fn a_sealer_seals_in_any_pieces() {
        use std::io::Write;
        let body: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let sealed = |pieces: usize| {
            let mut sealer = Sealer::new(Vec::new());
            for piece in body.chunks(pieces) {
                sealer.write_all(piece).unwrap();
            }
            sealer.finish().unwrap()
        };
        let once = sealed(body.len());
        for pieces in [1, 3, 7, 8, 13, 4096] {
            assert_eq!(sealed(pieces), once, "pieces of {pieces}");
        }
        assert_eq!(unseal(&once), Some(&body[..]));
        assert_eq!(unseal(&seal(body.clone())), Some(&body[..]));
        assert_ne!(Words::of(b"ab"), Words::of(b"ab\0"), "trailing zeros count");
    }

    /// Any one byte changed in a sealed file, body or seal line, in either seal, is found.
    #[test]
    fn every_changed_byte_is_found() {
        use std::io::Write;
        let body = b"{\"rows\":20000,\"done\":[\"a\",\"b\"]}".to_vec();
        let mut sealer = Sealer::new(Vec::new());
        sealer.write_all(&body).unwrap();
        for sealed in [sealer.finish().unwrap(), seal(body.clone())] {
            assert_eq!(unseal(&sealed), Some(&body[..]));
            for i in 0..sealed.len() {
                let mut bad = sealed.clone();
                bad[i] ^= 0x04;
                assert_eq!(unseal(&bad), None, "byte {i} changed");
            }
        }
    }

    #[test]
    fn sealed_bytes_detect_any_change() {
        let sealed = seal(b"{\"rows\":20000}".to_vec());
        assert_eq!(unseal(&sealed), Some(&b"{\"rows\":20000}"[..]));
        let mut bad = sealed.clone();
        bad[9] = b'3';
        assert_eq!(unseal(&bad), None);
        assert_eq!(unseal(b"{\"rows\":20000}"), None, "an unsealed file is not taken");
        assert_eq!(unseal(&sealed[..sealed.len() - 2]), None);
    }
}
