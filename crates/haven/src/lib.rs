//! The `haven` program as a library, so the integration tests and benchmarks drive the same code as the
//! command line: [`cli`] parses and runs commands, [`demo`] builds the demo province.

pub mod bench;
pub mod bench_names;
pub mod cli;
pub mod demo;
pub mod demo_cooperation;
pub mod demo_plan;
pub mod demo_registers;
pub mod demo_reports;
pub mod demo_victims;
pub mod importing;
pub mod linkage_data;
pub mod matching;
