//! `haven match`'s list reader on any bytes, with and without a header it knows: never a panic, and what it
//! accepts has one non-empty id per row, no id twice, and values within bounds.
#![no_main]

use std::collections::HashSet;

use haven_linkage::lists::{read, MAX_VALUE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fields = vec![vec!["name".to_owned()], vec!["dob".to_owned(), "name".to_owned()]];
    let mut headed = b"id,name,dob\n".to_vec();
    headed.extend_from_slice(data);
    for input in [data, headed.as_slice()] {
        if let Ok(list) = read(input, "fuzz.csv", "id", &fields) {
            assert!(list.columns.iter().all(|c| c.len() == list.ids.len()));
            assert!(list.ids.iter().all(|i| !i.is_empty()));
            assert_eq!(list.ids.iter().collect::<HashSet<_>>().len(), list.ids.len());
            assert!(list.columns[0].iter().all(|v| v.chars().count() <= MAX_VALUE));
        }
    }
});
