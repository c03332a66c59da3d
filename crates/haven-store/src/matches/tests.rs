use super::*;

#[test]
fn explanations_store_levels_and_weights_never_values() {
    let ev = vec![
        Evidence { label: "name".into(), level: Some(3), meaning: "x", weight: 8.04 },
        Evidence { label: "idnum".into(), level: None, meaning: "y", weight: 0.0 },
    ];
    let s = encode_evidence(&ev);
    assert_eq!(s, "name=3:8.0;idnum=-");
    assert_eq!(
        decode_evidence(&s),
        vec![
            Part { label: "name".into(), level: Some(3), weight: 8.0 },
            Part { label: "idnum".into(), level: None, weight: 0.0 }
        ]
    );
}

#[test]
fn pairs_are_kept_in_one_order() {
    assert_eq!(ordered("b", "a"), ("a", "b"));
    assert_eq!(ordered("a", "b"), ("a", "b"));
}

#[test]
fn records_sharing_rare_keys_come_before_those_sharing_only_common_ones() {
    let row = |k: &str, p: &str| (k.to_owned(), p.to_owned());
    // "common": more records than a key is read for; "a" and "b": a handful each.
    let mut rows: Vec<(String, String)> = (0..=KEY_ROWS).map(|i| row("common", &format!("c{i:04}"))).collect();
    rows.extend([row("a", "x"), row("a", "y"), row("b", "y"), row("a", "me"), row("b", "me")]);
    rows.push(row("common", "x"));
    let ranked = most_shared(&rows, Some("me"), 4);
    // y shares two rare keys, x one rare and one common; then the common key's records, newest first; never
    // the record itself.
    assert_eq!(ranked, vec!["y", "x", "c0250", "c0249"]);
    // A key read in full is not common: every record on it counts as a rare match.
    let few = vec![row("a", "p"), row("b", "q"), row("b", "p")];
    assert_eq!(most_shared(&few, None, 10), vec!["p", "q"]);
}
