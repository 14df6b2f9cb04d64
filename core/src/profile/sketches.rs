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
pub struct Hll(Option<HllSketch>);

/// An empty sketch of driftscope's parameters.
fn empty_hll() -> HllSketch {
    HllSketch::new(HLL_LG_K, HllType::Hll8).expect("valid HLL parameters")
}

impl Default for Hll {
    /// An empty sketch, made at its first value (a numeric column's or a window's sketch is
    /// never fed, and its copies cost nothing).
    fn default() -> Self {
        Hll(None)
    }
}

impl PartialEq for Hll {
    fn eq(&self, other: &Self) -> bool {
        self.image() == other.image()
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
        self.0.get_or_insert_with(empty_hll).update(s);
    }
    /// Union with another sketch.
    pub fn merge(&mut self, other: &Hll) {
        let Some(theirs) = other.0.as_ref().filter(|o| !o.is_empty()) else { return };
        let mine = self.0.take().unwrap_or_else(empty_hll);
        let mut u = HllUnion::new(HLL_LG_K).expect("valid HLL parameters");
        u.update(&mine);
        u.update(theirs);
        // Normalized through its canonical image: a sketch read back from a profile or
        // checkpoint has exactly this layout, so later unions give the same bytes whether or not
        // the sketch went through a file (what makes `--resume` byte-identical).
        let merged = u.to_sketch(HllType::Hll8);
        self.0 = Some(HllSketch::deserialize(&canonical(merged.serialize())).unwrap_or(merged));
    }
    /// Estimated number of distinct values.
    pub fn estimate(&self) -> f64 {
        self.0.as_ref().map_or_else(|| empty_hll().estimate(), HllSketch::estimate)
    }
    /// The canonical binary image.
    fn image(&self) -> Vec<u8> {
        canonical(self.0.as_ref().map_or_else(|| empty_hll().serialize(), HllSketch::serialize))
    }
}

impl Serialize for Hll {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(&self.image()))
    }
}

impl<'de> Deserialize<'de> for Hll {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let bytes = from_hex(&s).map_err(serde::de::Error::custom)?;
        HllSketch::deserialize(&bytes).map(|h| Hll(Some(h))).map_err(|e| serde::de::Error::custom(e.to_string()))
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

/// log2 of the register count of [`NumberHll`]: 4,096 registers, about 1.6% relative standard
/// error.
pub const NUMBER_HLL_LG_K: u32 = 12;
const NUMBER_REGISTERS: usize = 1 << NUMBER_HLL_LG_K;
/// Largest register value: one more than the hash bits left after the register index.
const MAX_RANK: u8 = (64 - NUMBER_HLL_LG_K + 1) as u8;

/// HyperLogLog distinct-count sketch of the finite numbers of a column (SageMaker's
/// `approximate_num_distinct_values` of a numeric feature).
///
/// Built for the profiling pass's hot path, where DataSketches' string HLL would cost a
/// MurmurHash3 per value: each value's bits (−0 as 0) go through SplitMix64's output function,
/// whose top 12 bits pick one of 4,096 one-byte registers and whose other bits give the rank
/// (leading zeros + 1) kept as the register's maximum. Merging takes each register's maximum, so
/// any merge order gives the same registers. The estimate is Ertl's improved raw estimator
/// (2017), unbiased from a handful of values to billions without correction tables. The registers
/// exist once a value is seen: a window's light profile, which never sketches, carries none. The
/// sketch counts the values it was fed, so that a profile merged with one made without it (by an
/// older driftscope) can tell that its registers saw only part of the values
/// ([`crate::profile::ColumnProfile::distinct_numbers`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberHll {
    /// Values fed.
    values: u64,
    registers: Option<Box<[u8]>>,
}

impl NumberHll {
    /// Adds finite values (the caller keeps NaN and ±∞ out).
    pub fn update_slice(&mut self, values: &[f64]) {
        if values.is_empty() {
            return;
        }
        self.values += values.len() as u64;
        let r = self.registers.get_or_insert_with(|| vec![0; NUMBER_REGISTERS].into_boxed_slice());
        let r: &mut [u8; NUMBER_REGISTERS] = (&mut **r).try_into().expect("NUMBER_REGISTERS registers");
        // Eight values' hashes first, then their registers: the hashes of a block are
        // independent work the core overlaps, where hash, load and store value by value wait on
        // each other (about 15% faster on the profiling pass's columns). The registers are
        // maxima: the same whatever the order.
        let mut blocks = values.chunks_exact(8);
        for block in &mut blocks {
            let slots: [(usize, u8); 8] = std::array::from_fn(|l| number_slot(block[l]));
            for (i, rank) in slots {
                r[i] = r[i].max(rank);
            }
        }
        for &v in blocks.remainder() {
            let (i, rank) = number_slot(v);
            r[i] = r[i].max(rank);
        }
    }

    /// Union with another sketch.
    pub fn merge(&mut self, o: &NumberHll) {
        let Some(b) = &o.registers else { return };
        self.values += o.values;
        match &mut self.registers {
            Some(a) => a.iter_mut().zip(b.iter()).for_each(|(x, &y)| *x = (*x).max(y)),
            None => self.registers = Some(b.clone()),
        }
    }

    /// True before any value.
    pub fn is_empty(&self) -> bool {
        self.registers.is_none()
    }

    /// The number of values fed (duplicates included).
    pub fn values(&self) -> u64 {
        self.values
    }

    /// Estimated number of distinct values (0 before any value).
    pub fn estimate(&self) -> f64 {
        let Some(r) = &self.registers else { return 0.0 };
        let q = MAX_RANK as usize - 1;
        let mut c = vec![0.0f64; q + 2];
        r.iter().for_each(|&v| c[v as usize] += 1.0);
        let m = NUMBER_REGISTERS as f64;
        if c[0] == m {
            return 0.0;
        }
        let mut z = m * ertl_tau(1.0 - c[q + 1] / m);
        for k in (1..=q).rev() {
            z = 0.5 * (z + c[k]);
        }
        z += m * ertl_sigma(c[0] / m);
        m * m / (2.0 * std::f64::consts::LN_2) / z
    }
}

/// σ(x) = x + Σ_{k≥1} x^(2^k) 2^(k−1) of Ertl's estimator (x < 1).
fn ertl_sigma(mut x: f64) -> f64 {
    let (mut y, mut z) = (1.0, x);
    loop {
        x *= x;
        let before = z;
        z += x * y;
        y += y;
        if z == before {
            return z;
        }
    }
}

/// τ(x) = (1 − x − Σ_{k≥1} (1 − x^(2^−k))² 2^−k) / 3 of Ertl's estimator.
fn ertl_tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let (mut y, mut z) = (1.0, 1.0 - x);
    loop {
        x = x.sqrt();
        let before = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if z == before {
            return z / 3.0;
        }
    }
}

/// The register of finite `v` (−0 as 0) and its rank there: the top [`NUMBER_HLL_LG_K`] bits of
/// SplitMix64's output function of its bits pick the register, the leading zeros of the rest
/// (plus one) give the rank.
#[inline(always)]
fn number_slot(v: f64) -> (usize, u8) {
    let h = crate::codec::mix64((v + 0.0).to_bits());
    let i = (h >> (64 - NUMBER_HLL_LG_K)) as usize;
    // A sentinel bit below the rank bits caps the rank at MAX_RANK.
    let rank = ((h << NUMBER_HLL_LG_K) | (1 << (NUMBER_HLL_LG_K - 1))).leading_zeros() as u8 + 1;
    (i, rank)
}

/// The stored form: the values fed and the registers in hex.
#[derive(Serialize, Deserialize)]
struct StoredNumbers {
    values: u64,
    registers: String,
}

impl Serialize for NumberHll {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.registers.as_ref().map(|r| StoredNumbers { values: self.values, registers: to_hex(r) }).serialize(s)
    }
}

impl<'de> Deserialize<'de> for NumberHll {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Some(st) = Option::<StoredNumbers>::deserialize(d)? else { return Ok(NumberHll::default()) };
        let bytes = from_hex(&st.registers).map_err(serde::de::Error::custom)?;
        if bytes.len() != NUMBER_REGISTERS || bytes.iter().any(|&b| b > MAX_RANK) {
            return Err(serde::de::Error::custom(format!(
                "number sketch: expected {NUMBER_REGISTERS} registers of at most {MAX_RANK}"
            )));
        }
        Ok(NumberHll { values: st.values, registers: Some(bytes.into_boxed_slice()) })
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

    /// Exact distinct counts of numbers, from a handful to a million: the estimate is within
    /// three standard errors (1.04/√4096 ≈ 1.6%), exact for a few values; duplicates, −0 and
    /// the order of updates and merges change nothing.
    #[test]
    fn number_hll_estimates_distinct_numbers() {
        let mut state = 42u64;
        for distinct in [1usize, 2, 5, 29, 100, 1_000, 10_000, 100_000, 1_000_000] {
            let values: Vec<f64> = (0..distinct)
                .map(|i| (i as f64) * 0.37 + (crate::codec::splitmix64(&mut state) % 1000) as f64 * 1e6)
                .collect();
            let exact = {
                let mut v = values.clone();
                v.sort_by(f64::total_cmp);
                v.dedup();
                v.len() as f64
            };
            let mut once = NumberHll::default();
            once.update_slice(&values);
            // The registers by the definition, value by value: each register the largest rank
            // of the values hashed to it (leading zeros of the bits below the index, plus one,
            // at most MAX_RANK).
            let mut by_value = vec![0u8; NUMBER_REGISTERS];
            for &v in &values {
                let h = crate::codec::mix64((v + 0.0).to_bits());
                let rank = ((h << NUMBER_HLL_LG_K).leading_zeros() + 1).min(MAX_RANK as u32) as u8;
                let r = &mut by_value[(h >> (64 - NUMBER_HLL_LG_K)) as usize];
                *r = (*r).max(rank);
            }
            assert_eq!(once.registers.as_deref(), Some(&by_value[..]), "{distinct} values");
            let e = once.estimate();
            let allowed = if exact <= 100.0 { 1.0 } else { 3.0 * 1.04 / 64.0 * exact };
            assert!((e - exact).abs() <= allowed, "{distinct}: {e} vs {exact}");
            // Three times over, in parts merged either way, read back from JSON: the same
            // registers, every value counted.
            let (a, b) = values.split_at(values.len() / 3);
            let (mut x, mut y) = (NumberHll::default(), NumberHll::default());
            x.update_slice(b);
            x.update_slice(a);
            y.update_slice(a);
            y.update_slice(b);
            y.update_slice(&values);
            let mut z = NumberHll::default();
            z.merge(&y);
            z.merge(&x);
            assert_eq!(z.registers, once.registers);
            assert_eq!(z.values(), 3 * values.len() as u64);
            let back: NumberHll = serde_json::from_str(&serde_json::to_string(&z).unwrap()).unwrap();
            assert_eq!(back, z);
        }
        let (mut zero, mut negative) = (NumberHll::default(), NumberHll::default());
        zero.update_slice(&[0.0]);
        negative.update_slice(&[-0.0]);
        assert_eq!(zero, negative);
        assert_eq!(NumberHll::default().estimate(), 0.0);
        assert!(serde_json::to_string(&NumberHll::default()).unwrap() == "null");
        for bad in [
            r#"{"values":1,"registers":"00"}"#.to_string(),
            format!(r#"{{"values":1,"registers":"{}"}}"#, "ff".repeat(4096)),
            r#""00""#.to_string(),
        ] {
            assert!(serde_json::from_str::<NumberHll>(&bad).is_err(), "{bad}");
        }
    }
}
