//! A CSV read in every encoding a user may choose: never a panic; VNI text converts back and forth.
#![no_main]

use haven_domain::registers::sheet::{self, Encoding};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for e in Encoding::ALL {
        let _ = sheet::decode(data, Some(e));
    }
    let _ = sheet::detect(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let vni = sheet::vni_to_unicode(text);
        let _ = sheet::unicode_to_vni(&vni);
        let _ = sheet::guess_mapping(&[text.to_owned()], &["full_name"]);
    }
});
