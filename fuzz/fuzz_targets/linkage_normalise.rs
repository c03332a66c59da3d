//! Names, dates, places and document numbers as any list may write them: normalising never panics, folding
//! is idempotent, and a comparison of any two values gives a level the kind has.
#![no_main]

use haven_linkage::compare::{compare, prepare, Kind};
use haven_linkage::normalise::{canonical, fold, name_tokens, parse_date, place_name};
use haven_linkage::probe::index_keys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let folded = fold(data);
    assert_eq!(fold(&folded), folded);
    let c = canonical(data);
    assert_eq!(canonical(&c), c);
    let _ = name_tokens(data);
    let _ = parse_date(data);
    let _ = place_name(data);
    let _ = index_keys(data, Some(data), Some(data));
    let (a, b) = data.split_at(data.char_indices().nth(data.chars().count() / 2).map(|(i, _)| i).unwrap_or(0));
    for kind in [Kind::Name, Kind::Date, Kind::Sex, Kind::Place, Kind::IdNumber, Kind::Text, Kind::Exact] {
        if let (Some(x), Some(y)) = (prepare(kind, a), prepare(kind, b)) {
            if let Some(level) = compare(kind, &x, &y) {
                assert!((level as usize) < kind.levels());
            }
        }
    }
});
