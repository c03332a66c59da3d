//! The people registers the plan asks communes and border agencies to keep: residents long absent from their
//! commune, reviewed in rounds ([`absentees`]), and citizens handed back by foreign countries, screened with
//! the profile's interview form and classified ([`screening`]). Matching their people against each other and
//! against known victims is `haven-linkage`'s work; this module holds the rules of the registers themselves.

pub mod absentees;
pub mod screening;
pub mod sheet;

pub use crate::FieldError;
