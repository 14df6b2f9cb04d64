//! Segments by value (`--segment-by`): rows keyed by their values of one or more columns, each
//! distinct combination of values a [`Segment::Group`] with its own light profile.
//!
//! A value is the column's text as Arrow casts it (`eu`, `42`, `true`, `2026-11-28`); a null is
//! a value of its own. Dictionary columns are looked up once per dictionary, not per row.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, RecordBatch, StringArray, UInt32Array};
use arrow_schema::DataType;

use std::collections::BTreeSet;

use super::window::Groups;
use super::{ProfileSet, Segment};
use crate::error::{one_line, Error, Result};
use crate::profile::DatasetProfile;

/// Rows keyed by the values of columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupBy {
    /// The columns, in the order their values make a segment's key.
    pub columns: Vec<String>,
    /// Key each segment's rows by window too ([`Segment::GroupWindow`], when the plan has
    /// windows): `limit` then bounds the (segment, window) pairs.
    pub by_window: bool,
    /// Most distinct segments one profiler (a row group, a run of batches) may hold: past it,
    /// [`super::Profiler::update`] fails with [`crate::Opt::SegmentBy`], and so does the
    /// file engine when the run's merged segments pass it (memory grows with segments ×
    /// features × bins).
    pub limit: usize,
}

impl GroupBy {
    /// The error of holding more segments (or, keyed per window, more (segment, window) pairs)
    /// than the limit: `held` of them over the files read so far, or more in one batch.
    pub fn too_many(&self, held: Option<usize>) -> Error {
        let (what, option) = if self.by_window {
            ("(segment, window) pairs", crate::Opt::MaxWindows)
        } else {
            ("distinct values", crate::Opt::MaxSegments)
        };
        let columns = self.columns.join(", ");
        let message = match held {
            Some(n) => format!("segment columns {columns}: {n} {what} so far, more than the {} held", self.limit),
            None => format!("segment columns {columns}: more than {} {what}", self.limit),
        };
        crate::error::invalid(option, message)
    }
}

/// The distinct values of one column in a batch: each row's code, and the value of each code
/// (code 0 is null; codes of dictionary entries no row uses may be present).
struct Codes {
    rows: Vec<u32>,
    values: Vec<Option<String>>,
}

impl Codes {
    fn intern(values: &mut Vec<Option<String>>, seen: &mut HashMap<String, u32>, v: &str) -> u32 {
        if let Some(&c) = seen.get(v) {
            return c;
        }
        let c = values.len() as u32;
        values.push(Some(v.to_string()));
        seen.insert(v.to_string(), c);
        c
    }

    /// The column's values as text, one code per row.
    fn of(name: &str, array: Option<&ArrayRef>, len: usize) -> Result<Codes> {
        let Some(array) = array else { return Ok(Codes { rows: vec![0; len], values: vec![None] }) };
        let mut values = vec![None];
        let mut seen = HashMap::new();
        if let Some(d) = array.as_any_dictionary_opt() {
            let text = as_text(name, d.values())?;
            let per_entry: Vec<u32> = (0..text.len())
                .map(|i| if text.is_null(i) { 0 } else { Self::intern(&mut values, &mut seen, text.value(i)) })
                .collect();
            let keys = d.normalized_keys();
            let nulls = array.nulls();
            let rows =
                (0..len)
                    .map(|i| {
                        if nulls.is_some_and(|n| n.is_null(i)) {
                            0
                        } else {
                            per_entry.get(keys[i]).copied().unwrap_or(0)
                        }
                    })
                    .collect();
            return Ok(Codes { rows, values });
        }
        let text = as_text(name, array)?;
        let rows = (0..len)
            .map(|i| if text.is_null(i) { 0 } else { Self::intern(&mut values, &mut seen, text.value(i)) })
            .collect();
        Ok(Codes { rows, values })
    }
}

/// A column's values as Arrow's text.
fn as_text(name: &str, array: &ArrayRef) -> Result<StringArray> {
    let refuse = |why: String| Error::Schema { column: name.to_string(), message: format!("segment column: {why}") };
    if matches!(
        array.data_type(),
        DataType::List(_)
            | DataType::LargeList(_)
            | DataType::FixedSizeList(_, _)
            | DataType::Struct(_)
            | DataType::Map(_, _)
            | DataType::Union(_, _)
    ) {
        return Err(refuse(format!(
            "{} values cannot key segments: expected text, a number, a boolean or a date",
            array.data_type()
        )));
    }
    let cast = arrow_cast::cast(array, &DataType::Utf8).map_err(|e| refuse(one_line(e)))?;
    Ok(cast.as_string::<i32>().clone())
}

/// The rows of `batch` grouped by their values of `columns` (each a name and its position in
/// the batch; `None`: the batch lacks it, every row's value is null): segments in key order,
/// rows of a segment in batch order.
///
/// # Errors
/// [`Error::Schema`] for a column whose values cannot be read as text (lists, structs, maps).
pub fn group_values(
    batch: &RecordBatch,
    columns: &[(String, Option<usize>)],
    windows: Option<&[Option<i64>]>,
) -> Result<Groups> {
    let len = batch.num_rows();
    let mut keys: Vec<Vec<Option<String>>> = vec![Vec::new()];
    let mut rows: Vec<u32> = vec![0; len];
    for (name, at) in columns {
        let c = Codes::of(name, at.map(|i| batch.column(i)), len)?;
        // Each (key so far, value) pair becomes a key of its own.
        let mut pairs: HashMap<(u32, u32), u32> = HashMap::new();
        let mut next: Vec<Vec<Option<String>>> = Vec::new();
        for (r, &v) in rows.iter_mut().zip(&c.rows) {
            *r = *pairs.entry((*r, v)).or_insert_with(|| {
                let mut k = keys[*r as usize].clone();
                k.push(c.values[v as usize].clone());
                next.push(k);
                (next.len() - 1) as u32
            });
        }
        keys = next;
    }
    // Keyed per window too: each (values, window) pair becomes a key of its own.
    let mut key_windows: Vec<Option<i64>> = Vec::new();
    if let Some(w) = windows {
        let mut pairs: HashMap<(u32, Option<i64>), u32> = HashMap::new();
        let mut next: Vec<Vec<Option<String>>> = Vec::new();
        for (r, &start) in rows.iter_mut().zip(w) {
            *r = *pairs.entry((*r, start)).or_insert_with(|| {
                next.push(keys[*r as usize].clone());
                key_windows.push(start);
                (next.len() - 1) as u32
            });
        }
        keys = next;
    }
    let mut count = vec![0usize; keys.len()];
    for &r in &rows {
        count[r as usize] += 1;
    }
    let window_of = |k: usize| key_windows.get(k).copied().flatten();
    let mut used: Vec<usize> = (0..keys.len()).filter(|&k| count[k] > 0).collect();
    used.sort_by(|&a, &b| keys[a].cmp(&keys[b]).then(window_of(a).cmp(&window_of(b))));
    let mut start = vec![0usize; keys.len()];
    let mut segments = Vec::with_capacity(used.len());
    let mut at = 0;
    for &k in &used {
        start[k] = at;
        let values = std::mem::take(&mut keys[k]);
        let segment =
            if windows.is_some() { Segment::GroupWindow(values, window_of(k)) } else { Segment::Group(values) };
        segments.push((segment, at..at + count[k]));
        at += count[k];
    }
    if segments.len() <= 1 {
        return Ok(Groups { segments, order: None });
    }
    let mut order = vec![0u32; len];
    for (i, &r) in rows.iter().enumerate() {
        order[start[r as usize]] = i as u32;
        start[r as usize] += 1;
    }
    Ok(Groups { segments, order: Some(UInt32Array::from(order)) })
}

/// Which segments a run keeps apart; the others are folded into [`Segment::Other`].
#[derive(Debug, Clone, Copy)]
pub enum Keep<'a> {
    /// The most rows first (ties in key order), this many.
    Most(usize),
    /// These (the first pass's, for a baseline's second).
    These(&'a [Segment]),
}

/// A run's segments by value, taken out of its profile set.
#[derive(Debug, Clone, Default)]
pub struct Kept {
    /// The segments kept, in key order, and [`Segment::Other`] last when any was folded.
    pub segments: Vec<(Segment, DatasetProfile)>,
    /// Distinct values folded into `other`.
    pub folded_values: usize,
    /// Rows folded into `other`.
    pub folded_rows: u64,
}

/// Takes the segments by value out of `set`, keeping those `keep` says and folding the others
/// into [`Segment::Other`] (merged in key order, so the result does not depend on how the rows
/// were split).
pub fn keep(set: &mut ProfileSet, keep: Keep<'_>) -> Kept {
    let keys: Vec<Segment> = set.segments.keys().filter(|k| matches!(k, Segment::Group(_))).cloned().collect();
    let groups: Vec<(Segment, DatasetProfile)> =
        keys.into_iter().filter_map(|k| set.segments.remove(&k).map(|p| (k, p))).collect();
    let chosen: BTreeSet<&Segment> = match keep {
        Keep::Most(n) => {
            let mut by_rows: Vec<&(Segment, DatasetProfile)> = groups.iter().collect();
            by_rows.sort_by(|a, b| b.1.rows.cmp(&a.1.rows).then(a.0.cmp(&b.0)));
            by_rows.into_iter().take(n).map(|g| &g.0).collect()
        }
        Keep::These(list) => list.iter().collect(),
    };
    let chosen: BTreeSet<Segment> = chosen.into_iter().cloned().collect();
    let mut out = Kept::default();
    let mut other: Option<DatasetProfile> = None;
    for (k, p) in groups {
        if chosen.contains(&k) {
            out.segments.push((k, p));
        } else {
            out.folded_values += 1;
            out.folded_rows += p.rows;
            other.get_or_insert_with(DatasetProfile::default).merge(&p);
        }
    }
    if let Some(p) = other {
        out.segments.push((Segment::Other, p));
    }
    out
}

/// Characters a segment's value keeps in a folder name: all but those Hive escapes in its
/// partition values (control characters, `"#%'*/:=?\{[]^`) and those no Windows file name may
/// hold (`<>|`), which are written `%XX`.
fn plain(c: char) -> bool {
    !(c.is_control() || "\"#%'*/:=?\\{[]^<>|".contains(c))
}

/// Hive's folder name for a null partition value.
pub const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// A value as a Hive partition folder writes it: unusual characters as `%XX` (UTF-8 bytes), a
/// null as [`NULL_VALUE`], a value that would be a folder of its own (`.`, `..`, empty) escaped.
pub fn escape(v: Option<&str>) -> String {
    let Some(v) = v else { return NULL_VALUE.to_string() };
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        if plain(c) && !(s.is_empty() && c == '.') {
            s.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                s.push_str(&format!("%{b:02X}"));
            }
        }
    }
    if s.is_empty() {
        s.push_str("%00");
    }
    s
}

/// The label of a segment of `columns`, which is also its folder under `segments/`:
/// `region=eu`, `region=eu/channel=web`, `other`.
pub fn label(columns: &[String], segment: &Segment) -> String {
    match segment {
        Segment::Group(values) => columns
            .iter()
            .zip(values)
            .map(|(c, v)| format!("{}={}", escape(Some(c)), escape(v.as_deref())))
            .collect::<Vec<_>>()
            .join("/"),
        Segment::Other => "other".into(),
        Segment::GroupWindow(values, _) => label(columns, &Segment::Group(values.clone())),
        Segment::Whole => "whole".into(),
        Segment::Window(s) => format!("window {s}"),
        Segment::Untimed => "untimed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{DictionaryArray, Int64Array};
    use std::sync::Arc;

    #[test]
    fn rows_group_by_the_values_of_several_columns() {
        let region: ArrayRef = Arc::new(
            vec![Some("eu"), Some("us"), None, Some("eu"), Some("us"), Some("eu")]
                .into_iter()
                .collect::<DictionaryArray<arrow_array::types::Int32Type>>(),
        );
        let tier: ArrayRef = Arc::new(Int64Array::from(vec![Some(1), Some(1), Some(2), Some(2), Some(1), Some(1)]));
        let batch = RecordBatch::try_from_iter([("region", region), ("tier", tier)]).unwrap();
        let cols = [("region".to_string(), Some(0)), ("tier".to_string(), Some(1))];
        let g = group_values(&batch, &cols, None).unwrap();
        let s = |r: Option<&str>, t: &str| Segment::Group(vec![r.map(str::to_string), Some(t.to_string())]);
        assert_eq!(
            g.segments,
            vec![
                (s(None, "2"), 0..1),
                (s(Some("eu"), "1"), 1..3),
                (s(Some("eu"), "2"), 3..4),
                (s(Some("us"), "1"), 4..6)
            ]
        );
        assert_eq!(g.order.unwrap().values().to_vec(), vec![2, 0, 5, 3, 1, 4]);
        // Keyed per window too: (values, window) pairs, untimed rows first within a segment.
        let w = [Some(7), Some(7), None, Some(3), None, Some(3)];
        let g = group_values(&batch, &cols[..1], Some(&w)).unwrap();
        let r = |v: Option<&str>, t: Option<i64>| Segment::GroupWindow(vec![v.map(str::to_string)], t);
        assert_eq!(
            g.segments,
            vec![
                (r(None, None), 0..1),
                (r(Some("eu"), Some(3)), 1..3),
                (r(Some("eu"), Some(7)), 3..4),
                (r(Some("us"), None), 4..5),
                (r(Some("us"), Some(7)), 5..6)
            ]
        );
        assert_eq!(g.order.unwrap().values().to_vec(), vec![2, 3, 5, 0, 4, 1]);
        // A batch without the column: all its rows hold a null.
        let g = group_values(&batch, &[("gone".to_string(), None)], None).unwrap();
        assert_eq!(g.segments, vec![(Segment::Group(vec![None]), 0..6)]);
        assert!(g.order.is_none());
        let cols = ["region".to_string(), "tier".to_string()];
        assert_eq!(label(&cols, &s(None, "2")), "region=__HIVE_DEFAULT_PARTITION__/tier=2");
        assert_eq!(escape(Some("a/b=c%")), "a%2Fb%3Dc%25");
        assert_eq!(escape(Some("..")), "%2E.");
        assert_eq!(escape(Some("")), "%00");
        assert_eq!(escape(Some("São Paulo")), "São Paulo");
    }

    #[test]
    fn nested_values_are_refused_naming_the_column() {
        let list: ArrayRef =
            Arc::new(arrow_array::ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(vec![Some(
                vec![Some(1)],
            )]));
        let batch = RecordBatch::try_from_iter([("tags", list)]).unwrap();
        let e = group_values(&batch, &[("tags".to_string(), Some(0))], None).unwrap_err().to_string();
        assert!(e.contains("tags") && e.contains("segment column"), "{e}");
    }
}
