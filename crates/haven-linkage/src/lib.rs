//! Record linkage for Haven, usable without the server: normalisation of Vietnamese names (this module),
//! with comparisons, blocking and Fellegi-Sunter scoring to follow. Pure functions, no I/O.

pub mod normalise;
