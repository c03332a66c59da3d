use super::*;

fn fields() -> Vec<Field> {
    [("name", Kind::Name), ("dob", Kind::Date), ("sex", Kind::Sex), ("place", Kind::Place)]
        .into_iter()
        .map(|(l, k)| Field { label: l.into(), kind: k })
        .collect()
}

fn table(rows: &[[&str; 4]]) -> Table {
    let ids = (0..rows.len()).map(|i| i.to_string()).collect();
    let raw: Vec<Vec<String>> = (0..4).map(|f| rows.iter().map(|r| r[f].to_owned()).collect()).collect();
    Table::prepare(&fields(), ids, &raw)
}

/// A small population: common and rare names, two people sharing a common name and birth year.
fn lists() -> (Table, Table) {
    let surnames = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"];
    let middles = ["Thị", "Văn", "Đức", "Ngọc", "Minh"];
    let givens = ["Lan", "Hoà", "Nam", "Tuấn", "Hương", "Mai", "Hùng", "Thuý", "Phúc", "Yến", "Quỳnh", "Dũng"];
    let communes = ["Tà Lu", "A Tiêng", "Sông Kôn", "Hội An", "Điện Bàn", "Duy Xuyên"];
    let mut left = Vec::new();
    let mut right = Vec::new();
    let mut rng = Rng(42);
    for i in 0..600 {
        let name = format!("{} {} {}", surnames[rng.below(10)], middles[rng.below(5)], givens[rng.below(12)]);
        let dob = format!("{:02}/{:02}/{}", 1 + rng.below(28), 1 + rng.below(12), 1970 + rng.below(35));
        let sex = if rng.below(2) == 0 { "f" } else { "m" };
        let place = communes[rng.below(6)];
        left.push([name.clone(), dob.clone(), sex.to_owned(), place.to_owned()]);
        if i % 3 == 0 {
            // The same person on a foreign list: given name first, no diacritics, Huỳnh for Hoàng, day
            // and month swapped on some.
            let parts: Vec<&str> = name.split(' ').collect();
            let foreign = crate::normalise::fold(&format!("{} {}", parts[2], parts[0])).replace("hoang", "huynh");
            let d = crate::normalise::parse_date(&dob).expect("date");
            let dob2 = if i % 2 == 0 {
                format!("{}-{:02}-{:02}", d.year, d.month.unwrap_or(1), d.day.unwrap_or(1))
            } else {
                format!("{:02}/{:02}/{}", d.month.unwrap_or(1), d.day.unwrap_or(1), d.year)
            };
            right.push([foreign, dob2, sex.to_owned(), crate::normalise::fold(place)]);
        }
    }
    let to = |rows: &[[String; 4]]| {
        let refs: Vec<[&str; 4]> = rows.iter().map(|r| [&r[0][..], &r[1][..], &r[2][..], &r[3][..]]).collect();
        table(&refs)
    };
    (to(&left), to(&right))
}

#[test]
fn finds_the_same_people_across_spellings_one_to_one() {
    let (left, right) = lists();
    let out = link(&fields(), &left, &right, &Options { threads: 2, ..Options::default() });
    let truth = |p: &Pair| p.left == p.right.to_string().parse::<usize>().unwrap_or(usize::MAX) * 3;
    let correct = out.links.iter().filter(|p| truth(p)).count();
    let precision = correct as f64 / out.links.len().max(1) as f64;
    let recall = correct as f64 / right.len() as f64;
    assert!(precision > 0.95 && recall > 0.9, "precision {precision}, recall {recall}");
    let mut seen = std::collections::HashSet::new();
    assert!(out.links.iter().all(|p| seen.insert(p.left)), "one-to-one");
    assert!(out.candidates < left.len() * right.len() / 4, "blocking compares a fraction of all pairs");
}

#[test]
fn rare_names_weigh_more_than_common_ones() {
    let (left, right) = lists();
    let out = link(&fields(), &left, &right, &Options { threads: 1, ..Options::default() });
    let f = fields();
    let common = prepare(Kind::Name, "Nguyễn Thị Lan");
    let rare = prepare(Kind::Name, "Hồ Ngọc Yến");
    let top = Kind::Name.levels() as u8 - 1;
    let w_common = out.model.field_weight(&f, 0, top, common.as_ref());
    let w_unknown = out.model.field_weight(&f, 0, top, rare.as_ref());
    assert!(w_common.is_finite() && w_unknown.is_finite());
    let mut tf = out.model.tf[0].clone().expect("names have term frequencies");
    tf.insert("lan nguyen thi".into(), 0.2);
    tf.insert("ho ngoc yen".into(), 0.0001);
    let model = Model { tf: vec![Some(tf), None, None, None], ..out.model };
    assert!(model.field_weight(&f, 0, top, rare.as_ref()) > model.field_weight(&f, 0, top, common.as_ref()) + 5.0);
}

#[test]
fn every_link_explains_itself() {
    let (left, right) = lists();
    let out = link(&fields(), &left, &right, &Options::default());
    let p = &out.links[0];
    let ev = explain(&fields(), &out.model, &left, p.left, &right, p.right);
    assert_eq!(ev.len(), 4);
    let line = explain_line(&ev);
    assert!(line.starts_with("name: ") && line.contains("dob: ") && line.contains('+'), "{line}");
    let total: f64 = ev.iter().map(|e| e.weight).sum::<f64>() + out.model.prior();
    assert!((total - p.weight).abs() < 1e-9, "the explanation adds up to the score");
}

#[test]
fn empty_lists_link_nothing() {
    let (left, _) = lists();
    let empty = table(&[]);
    assert!(link(&fields(), &left, &empty, &Options::default()).links.is_empty());
    assert!(link(&fields(), &empty, &left, &Options::default()).links.is_empty());
}
