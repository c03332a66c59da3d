use super::*;

#[test]
fn mappings_read_back_and_drop_what_a_sheet_lacks() {
    let m = Mapping::parse("full_name=1;birth_date=2;bogus=3;sex=9;x");
    assert_eq!(m.encode(), "full_name=1;birth_date=2;bogus=3;sex=9");
    let kept = m.for_sheet(Kind::Returnees, 4);
    assert_eq!(kept, Mapping(vec![("full_name".into(), 1), ("birth_date".into(), 2)]));
}

#[test]
fn the_renames_file_reads_and_names_current_units() {
    assert!(RENAMES.len() >= 90, "{}", RENAMES.len());
    let units = include_str!("../../../../profiles/vn/admin-units.csv");
    for (old, _, code) in RENAMES.iter() {
        assert!(units.contains(&format!(",{code},")), "{old} maps to unknown unit {code}");
    }
}

#[test]
fn old_commune_names_resolve_with_their_district_when_two_bore_them() {
    let current = [("20669".to_owned(), "Xã Quế Phước".to_owned()), ("20242".to_owned(), "Phường Hải Châu".to_owned())];
    let communes = Communes::build(&current, &RENAMES);
    assert_eq!(communes.resolve("Xã Phước Ninh"), Err("error.import_commune_ambiguous"));
    assert_eq!(communes.resolve("Xã Phước Ninh, huyện Quế Sơn"), Ok("20669"));
    assert_eq!(communes.resolve("Phường Phước Ninh, quận Hải Châu"), Ok("20242"));
    assert_eq!(communes.resolve("Quế Phước"), Ok("20669"));
    assert_eq!(communes.resolve("20242"), Ok("20242"));
    assert_eq!(communes.resolve("Xã Không Có"), Err("error.import_commune"));
}

#[test]
fn sex_as_lists_write_it() {
    assert_eq!(sex_code("Nữ"), Some("f"));
    assert_eq!(sex_code("NAM"), Some("m"));
    assert_eq!(sex_code(""), Some("u"));
    assert_eq!(sex_code("?"), None);
}

#[test]
fn report_cells_never_run_as_formulas() {
    assert_eq!(neutralise("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
    assert_eq!(neutralise("Họ tên"), "Họ tên");
}
