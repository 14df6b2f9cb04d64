//! Segments by value in the jobs (`--segment-by`): the plan's key, the check that the columns
//! exist, and a pass's segments folded into the set the judge and the writers take.

use std::collections::BTreeMap;

use crate::engine::group::{self, Keep};
use crate::engine::{GroupBy, ProfileSet, Segment};
use crate::error::{invalid, Opt, Result};
use crate::judge::segments::{held, SegmentOptions, SegmentProfile, SegmentSet};
use crate::profile::DatasetProfile;
use crate::source::scan::Scan;

/// The plan's key for segments, when asked for: per window too when the run has windows and
/// asks for it, the (segment, window) pairs then bounded by the most windows a run may hold.
pub(super) fn group_by(opts: &super::JobOptions) -> Option<GroupBy> {
    let o = opts.segments.as_ref()?;
    let windows = opts.windows.as_ref().filter(|_| o.per_window);
    Some(GroupBy {
        columns: o.columns.clone(),
        by_window: windows.is_some(),
        limit: windows.map_or(held(o.max), |w| w.limit),
    })
}

/// Refuses segment columns that no input holds, no column, a repeated column, or keeping no
/// segment.
pub(super) fn check_columns(opts: &SegmentOptions, s: &Scan) -> Result<()> {
    if opts.columns.is_empty() {
        return Err(invalid(Opt::SegmentBy, "no column named"));
    }
    if opts.max == 0 {
        return Err(invalid(Opt::MaxSegments, "must keep at least 1 segment"));
    }
    for (i, c) in opts.columns.iter().enumerate() {
        if opts.columns[..i].contains(c) {
            return Err(invalid(Opt::SegmentBy, format!("'{c}' is named twice")));
        }
        if !super::holds_column(s, c) && !s.files.is_empty() {
            let names: Vec<&str> = s.columns.iter().map(|c| c.name.as_str()).take(12).collect();
            return Err(invalid(
                Opt::SegmentBy,
                format!(
                    "no input has a column '{c}' (columns: {}{})",
                    names.join(", "),
                    if s.columns.len() > 12 { ", …" } else { "" }
                ),
            ));
        }
    }
    Ok(())
}

/// The segments of a pass, taken out of `set`: those `keep` says, the others folded into
/// `other`. Segments keyed per window ([`Segment::GroupWindow`]) are merged into each segment's
/// profile (windows in order), and the kept segments' timed windows kept beside.
pub(super) fn take(opts: &SegmentOptions, set: &mut ProfileSet, keep: Keep<'_>) -> SegmentSet {
    let per_window = per_window(set);
    let kept = group::keep(set, keep);
    let segments: Vec<SegmentProfile> = kept
        .segments
        .into_iter()
        .map(|(k, profile)| SegmentProfile {
            segment: group::label(&opts.columns, &k),
            values: match k {
                Segment::Group(v) => Some(v),
                _ => None,
            },
            profile,
            multivariate: None,
        })
        .collect();
    let mut windows = Vec::new();
    for (values, list) in per_window {
        let Some(i) = segments.iter().position(|s| s.values.as_ref() == Some(&values)) else { continue };
        windows.extend(list.into_iter().filter_map(|(w, p)| w.map(|start| (i, start, p))));
    }
    SegmentSet {
        by: opts.columns.clone(),
        max_segments: opts.max,
        folded_values: kept.folded_values,
        folded_rows: kept.folded_rows,
        segments,
        windows,
    }
}

/// The per-window profiles of each segment, taken out of `set`, and each segment's profile
/// (the merge of its windows, in order) put in their place.
#[allow(clippy::type_complexity, reason = "a map of each segment's windows, used once")]
fn per_window(set: &mut ProfileSet) -> BTreeMap<Vec<Option<String>>, Vec<(Option<i64>, DatasetProfile)>> {
    let keys: Vec<Segment> = set.segments.keys().filter(|k| matches!(k, Segment::GroupWindow(..))).cloned().collect();
    let mut out: BTreeMap<Vec<Option<String>>, Vec<(Option<i64>, DatasetProfile)>> = BTreeMap::new();
    for k in keys {
        let Some(p) = set.segments.remove(&k) else { continue };
        if let Segment::GroupWindow(values, window) = k {
            out.entry(values).or_default().push((window, p));
        }
    }
    for (values, list) in &out {
        let mut whole = DatasetProfile::default();
        for (_, p) in list {
            whole.merge(p);
        }
        set.segments.insert(Segment::Group(values.clone()), whole);
    }
    out
}

/// The engine's keys of the segments of `set` other than `other` (to keep the same ones in a
/// second pass).
pub(super) fn keys(set: &SegmentSet) -> Vec<Segment> {
    set.segments.iter().filter_map(|s| s.values.clone().map(Segment::Group)).collect()
}

/// The baseline's segments a monitoring run compares its own with (`None` without segments or
/// under the whole reference), checked before any input is read: the segment columns exist, and the baseline
/// has segments by the same columns.
///
/// # Errors
/// [`crate::Error::Invalid`] naming the mistake; [`crate::Error::Baseline`] for an unreadable
/// `segments.json`.
pub(super) fn baseline_segments(
    opts: Option<&SegmentOptions>,
    base: Option<&crate::judge::baseline::Baseline>,
    dir: Option<&std::path::Path>,
    s: &Scan,
) -> Result<Option<SegmentSet>> {
    use crate::judge::segments::{check_reference, SegmentReference};
    let Some(opts) = opts else { return Ok(None) };
    check_columns(opts, s)?;
    if opts.reference == SegmentReference::Whole {
        return Ok(None);
    }
    let (Some(base), Some(dir)) = (base, dir) else {
        return Err(invalid(
            Opt::SegmentReference,
            "no baseline to take segments from: compare each segment with the whole reference (segment reference: whole)",
        ));
    };
    let set = SegmentSet::load(dir, base.profile.as_ref())?;
    check_reference(base, set.as_ref(), &opts.columns, opts.reference)?;
    Ok(set)
}
