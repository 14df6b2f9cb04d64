//! The time stage: windows judged one by one against a reference ([`timeline`]), change points
//! in the per-window series ([`changepoint`]), and thresholds calibrated from a history of
//! windows ([`calibrate`]). The window itself is a key of the engine
//! ([`crate::engine::window`]).
//!
//! It imports the judge, the engine's profile sets, and the bottom floors.

pub mod calibrate;
pub mod changepoint;
pub mod timeline;
