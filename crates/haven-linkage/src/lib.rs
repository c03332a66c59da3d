//! Record linkage for Haven, usable without the server: normalisation of Vietnamese names, dates and document
//! numbers ([`normalise`]), field comparisons with agreement levels ([`compare`]), and linking two lists with
//! blocking, Fellegi-Sunter scoring (m by EM, u from random pairs, term-frequency adjustment), one-to-one
//! assignment and explanations ([`link`]); and one new record against records a store holds ([`probe`]); and
//! the lists `haven match` reads ([`lists`], from any reader). Pure functions: no files, no database.

pub mod compare;
pub mod link;
pub mod lists;
pub mod normalise;
pub mod probe;
pub mod similarity;
