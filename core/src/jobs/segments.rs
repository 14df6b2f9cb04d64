//! Segments by value in the jobs (`--segment-by`): the plan's key, the check that the columns
//! exist, and a pass's segments folded into the set the judge and the writers take.

use crate::engine::group::{self, Keep};
use crate::engine::{GroupBy, ProfileSet, Segment};
use crate::error::{invalid, Opt, Result};
use crate::judge::segments::{held, SegmentOptions, SegmentProfile, SegmentSet};
use crate::source::scan::Scan;

/// The plan's key for segments, when asked for.
pub(super) fn group_by(opts: Option<&SegmentOptions>) -> Option<GroupBy> {
    opts.map(|o| GroupBy { columns: o.columns.clone(), limit: held(o.max) })
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
        let held = s.files.iter().any(|f| crate::engine::flat_schema(f.schema()).column_with_name(c).is_some());
        if !held && !s.files.is_empty() {
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
/// `other`.
pub(super) fn take(opts: &SegmentOptions, set: &mut ProfileSet, keep: Keep<'_>) -> SegmentSet {
    let kept = group::keep(set, keep);
    SegmentSet {
        by: opts.columns.clone(),
        max_segments: opts.max,
        folded_values: kept.folded_values,
        folded_rows: kept.folded_rows,
        segments: kept
            .segments
            .into_iter()
            .map(|(k, profile)| SegmentProfile {
                segment: group::label(&opts.columns, &k),
                values: match k {
                    Segment::Group(v) => Some(v),
                    _ => None,
                },
                profile,
            })
            .collect(),
    }
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
