//! Serializable wrappers over Apache DataSketches' HLL and frequent-items sketches.
//!
//! Both are stored in driftscope's profile as the sketches' own binary images, hex-encoded, so a
//! profile written to disk merges later exactly as if it had never left memory.

use datasketches::frequencies::{ErrorType, FrequentItemsSketch};
use datasketches::hll::{HllSketch, HllType, HllUnion};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// log2 of the HLL register count: 4096 registers, about 1.6% relative standard error.
pub const HLL_LG_K: u8 = 12;
/// Map size of the frequent-items sketch used past the exact-category cap.
pub const FREQUENT_MAP_SIZE: usize = 4096;

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

/// Decodes a hex string; any other character (non-ASCII included) is an error, never a panic.
fn from_hex(s: &str) -> Result<Vec<u8>, String> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("not a hex digit: {:?}", c as char)),
    };
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return Err("odd-length hex string".into());
    }
    b.chunks_exact(2).map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

/// HyperLogLog distinct-count sketch (DataSketches, HLL_8, lg_k = 12).
#[derive(Debug, Clone)]
pub struct Hll(pub HllSketch);

impl Default for Hll {
    fn default() -> Self {
        Hll(HllSketch::new(HLL_LG_K, HllType::Hll8).expect("valid HLL parameters"))
    }
}

impl PartialEq for Hll {
    fn eq(&self, other: &Self) -> bool {
        canonical(self.0.serialize()) == canonical(other.0.serialize())
    }
}

/// The binary image of a sketch with its coupons in sorted order. In the sparse (list and set)
/// modes DataSketches writes coupons in hash-table order, which depends on insertion history;
/// sorted, the image depends only on the set of coupons, and reading it back gives a sketch whose
/// layout depends only on that set too.
fn canonical(mut bytes: Vec<u8>) -> Vec<u8> {
    const COMPACT: u8 = 8;
    let start = match bytes.first() {
        Some(2) => 8,  // list mode preamble
        Some(3) => 12, // hash-set mode preamble
        _ => return bytes,
    };
    if bytes.len() < start || bytes[5] & COMPACT == 0 || !(bytes.len() - start).is_multiple_of(4) {
        return bytes;
    }
    let mut coupons: Vec<u32> =
        bytes[start..].chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    coupons.sort_unstable();
    for (dst, c) in bytes[start..].chunks_exact_mut(4).zip(coupons) {
        dst.copy_from_slice(&c.to_le_bytes());
    }
    bytes
}

impl Hll {
    /// Adds a string value.
    #[inline]
    pub fn update_str(&mut self, s: &str) {
        self.0.update(s);
    }
    /// Union with another sketch.
    pub fn merge(&mut self, other: &Hll) {
        if other.0.is_empty() {
            return;
        }
        let mut u = HllUnion::new(HLL_LG_K).expect("valid HLL parameters");
        u.update(&self.0);
        u.update(&other.0);
        // Normalized through its canonical image: a sketch read back from a profile or
        // checkpoint has exactly this layout, so later unions give the same bytes whether or not
        // the sketch went through a file (what makes `--resume` byte-identical).
        let merged = u.to_sketch(HllType::Hll8);
        self.0 = HllSketch::deserialize(&canonical(merged.serialize())).unwrap_or(merged);
    }
    /// Estimated number of distinct values.
    pub fn estimate(&self) -> f64 {
        self.0.estimate()
    }
}

impl Serialize for Hll {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(&canonical(self.0.serialize())))
    }
}

impl<'de> Deserialize<'de> for Hll {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = from_hex(&s).map_err(serde::de::Error::custom)?;
        HllSketch::deserialize(&bytes).map(Hll).map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

/// Frequent-items sketch over strings, used once a column has too many distinct values to count
/// exactly. Its counts are estimates with a stated maximum error.
#[derive(Debug, Clone)]
pub struct Frequent(pub FrequentItemsSketch<String>);

impl Default for Frequent {
    fn default() -> Self {
        Frequent(FrequentItemsSketch::new(FREQUENT_MAP_SIZE).expect("valid map size"))
    }
}

impl PartialEq for Frequent {
    fn eq(&self, other: &Self) -> bool {
        self.0.serialize() == other.0.serialize()
    }
}

impl Frequent {
    /// Adds `count` occurrences of a value.
    pub fn update(&mut self, s: &str, count: u64) {
        self.0.update_with_count(s.to_string(), count);
    }
    /// Merges another sketch.
    pub fn merge(&mut self, other: &Frequent) {
        self.0.merge(&other.0);
    }
    /// The most frequent items with estimated counts, most frequent first, ties by value.
    pub fn top(&self, n: usize) -> Vec<(String, u64)> {
        let mut rows: Vec<(String, u64)> = self
            .0
            .frequent_items(ErrorType::NoFalseNegatives)
            .into_iter()
            .map(|r| (r.item().clone(), r.estimate()))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        rows.truncate(n);
        rows
    }
}

impl Serialize for Frequent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(&self.0.serialize()))
    }
}

impl<'de> Deserialize<'de> for Frequent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = from_hex(&s).map_err(serde::de::Error::custom)?;
        FrequentItemsSketch::<String>::deserialize(&bytes)
            .map(Frequent)
            .map_err(|e| serde::de::Error::custom(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_rejects_what_is_not_hex_without_panicking() {
        assert_eq!(from_hex("00ff7A").unwrap(), vec![0, 255, 122]);
        for bad in ["é0", "0é", "zz", "abc", "éé", "0\u{1F600}"] {
            assert!(from_hex(bad).is_err(), "{bad}");
        }
        // Sketch images that are hex but not a sketch are named errors too.
        let mut x = 7u64;
        for len in [0usize, 1, 2, 7, 8, 40, 41, 300] {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (x >> 56) as u8
                })
                .collect();
            let json = format!("\"{}\"", to_hex(&bytes));
            let hll = std::panic::catch_unwind(|| serde_json::from_str::<Hll>(&json).is_err());
            assert!(matches!(hll, Ok(true)), "HLL image of {len} random bytes");
            let fi = std::panic::catch_unwind(|| serde_json::from_str::<Frequent>(&json).is_err());
            assert!(matches!(fi, Ok(true)), "frequent-items image of {len} random bytes");
        }
        assert!(serde_json::from_str::<Hll>("\"é0\"").is_err());
    }

    #[test]
    fn hll_roundtrip_and_estimate() {
        let mut h = Hll::default();
        for i in 0..1000 {
            h.update_str(&i.to_string());
        }
        let json = serde_json::to_string(&h).unwrap();
        let back: Hll = serde_json::from_str(&json).unwrap();
        assert_eq!(h, back);
        assert!((back.estimate() - 1000.0).abs() < 40.0);
    }

    #[test]
    fn hll_merge_union() {
        let (mut a, mut b) = (Hll::default(), Hll::default());
        for i in 0..500 {
            a.update_str(&i.to_string());
            b.update_str(&(i + 250).to_string());
        }
        a.merge(&b);
        assert!((a.estimate() - 750.0).abs() < 30.0);
    }

    #[test]
    fn frequent_roundtrip() {
        let mut f = Frequent::default();
        f.update("a", 5);
        f.update("b", 2);
        let back: Frequent = serde_json::from_str(&serde_json::to_string(&f).unwrap()).unwrap();
        assert_eq!(back.top(1), vec![("a".to_string(), 5)]);
    }
}
