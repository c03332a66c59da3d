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
