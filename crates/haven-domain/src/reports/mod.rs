//! Reports: denunciations, crime reports and recommendations for prosecution, and the legal clock that
//! governs how fast they must be settled.

pub mod clock;
pub mod indicators;
pub mod intake;
