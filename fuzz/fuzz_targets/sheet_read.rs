//! Any bytes uploaded as a spreadsheet are read or refused with a reason, never a panic or a hang; a sheet
//! that is read has rows as wide as its header.
#![no_main]

use haven_domain::registers::sheet;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = sheet::read(data, None) {
        assert!(s.rows.iter().all(|r| r.len() == s.headers.len()));
        assert!(s.rows.len() <= sheet::MAX_ROWS);
        assert_eq!(s.lines.len(), s.rows.len());
    }
});
