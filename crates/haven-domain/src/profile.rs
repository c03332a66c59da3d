//! The profile as data: administrative units and agencies parsed from the profile's files. The files are
//! plain comma-separated text without quoting (checked here), so a full CSV reader is not needed.

use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unit {
    /// Statistics-office code, zero-padded: 2 digits for a province, 5 for a commune.
    pub code: String,
    pub name: String,
    /// "province" or "commune".
    pub level: &'static str,
    /// As the statistics office names it: "thành phố trung ương", "tỉnh", "phường", "xã", "đặc khu".
    pub unit_type: String,
    pub parent_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AgencyDef {
    pub code: String,
    pub kind: String,
    pub level: String,
    pub unit_code: String,
    pub name_vi: String,
    pub name_en: String,
    pub functions: Vec<String>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct ProfileError {
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

fn rows(text: &str, columns: usize) -> impl Iterator<Item = Result<(usize, Vec<&str>), ProfileError>> {
    text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()).map(move |(i, l)| {
        let cells: Vec<&str> = l.split(',').map(str::trim).collect();
        if cells.len() != columns || l.contains('"') {
            return Err(ProfileError { line: i + 1, message: format!("expected {columns} unquoted cells") });
        }
        Ok((i + 1, cells))
    })
}

pub fn province_code(code: &str) -> String {
    format!("{:0>2}", code)
}

pub fn commune_code(code: &str) -> String {
    format!("{:0>5}", code)
}

/// Parse `admin-units.csv`, keeping only the provinces whose codes are given (all when empty).
pub fn parse_units(text: &str, provinces: &[&str]) -> Result<Vec<Unit>, ProfileError> {
    let mut out: Vec<Unit> = Vec::new();
    for row in rows(text, 6) {
        let (line, c) = row?;
        let p = province_code(c[0]);
        if !provinces.is_empty() && !provinces.contains(&p.as_str()) {
            continue;
        }
        if c[3].is_empty() || !c[3].bytes().all(|b| b.is_ascii_digit()) {
            return Err(ProfileError { line, message: "commune code is not a number".into() });
        }
        if !out.iter().any(|u| u.code == p) {
            out.push(Unit {
                code: p.clone(),
                name: c[1].into(),
                level: "province",
                unit_type: c[2].into(),
                parent_code: None,
            });
        }
        out.push(Unit {
            code: commune_code(c[3]),
            name: c[4].into(),
            level: "commune",
            unit_type: c[5].into(),
            parent_code: Some(p),
        });
    }
    Ok(out)
}

pub fn parse_agencies(text: &str) -> Result<Vec<AgencyDef>, ProfileError> {
    rows(text, 7)
        .map(|row| {
            let (line, c) = row?;
            if c[0].is_empty() || !c[0].bytes().all(|b| b.is_ascii_lowercase() || b == b'-') {
                return Err(ProfileError { line, message: "agency code must be lowercase letters and '-'".into() });
            }
            let unit_code = if c[2] == "province" { province_code(c[3]) } else { commune_code(c[3]) };
            Ok(AgencyDef {
                code: c[0].into(),
                kind: c[1].into(),
                level: c[2].into(),
                unit_code,
                name_vi: c[4].into(),
                name_en: c[5].into(),
                functions: c[6].split(';').map(str::to_owned).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNITS: &str = "province_code,province_name,province_type,commune_code,commune_name,commune_type\n\
        48,Thành phố Đà Nẵng,thành phố trung ương,20242,Phường Hải Châu,phường\n\
        48,Thành phố Đà Nẵng,thành phố trung ương,20900,Xã Trà My,xã\n\
        1,Thành phố Hà Nội,thành phố trung ương,4,Phường Ba Đình,phường\n";

    #[test]
    fn units_are_zero_padded_and_filtered() {
        let all = parse_units(UNITS, &[]).expect("parse");
        assert_eq!(all.len(), 5);
        assert!(all.iter().any(|u| u.code == "00004" && u.parent_code.as_deref() == Some("01")));
        let dn = parse_units(UNITS, &["48"]).expect("parse");
        assert_eq!(dn.iter().map(|u| u.code.as_str()).collect::<Vec<_>>(), ["48", "20242", "20900"]);
        assert_eq!(dn[2].name, "Xã Trà My");
    }

    #[test]
    fn malformed_rows_name_their_line() {
        let bad = "h\n48,x,y,20242,Phường Hải Châu\n";
        assert_eq!(parse_units(bad, &[]).err().map(|e| e.line), Some(2));
    }

    #[test]
    fn the_shipped_profile_parses() {
        let units = parse_units(include_str!("../../../profiles/vn/admin-units.csv"), &[]).expect("units");
        assert_eq!(units.iter().filter(|u| u.level == "province").count(), 34);
        assert_eq!(units.iter().filter(|u| u.level == "commune").count(), 3321);
        let dn = parse_units(include_str!("../../../profiles/vn/admin-units.csv"), &["48"]).expect("units");
        assert_eq!(dn.len(), 95, "Da Nang and its 94 communes");
        let agencies = parse_agencies(include_str!("../../../profiles/vn/demo/agencies.csv")).expect("agencies");
        for a in &agencies {
            assert!(dn.iter().any(|u| u.code == a.unit_code), "{} sits in the demo province", a.code);
        }
        let kinds: Vec<_> = agencies.iter().map(|a| a.kind.as_str()).collect();
        for k in [
            "police",
            "border_guard",
            "social_support",
            "foreign_affairs",
            "procuracy",
            "court",
            "commune_committee",
            "womens_union",
            "shelter",
        ] {
            assert!(kinds.contains(&k), "demo has a {k}");
        }
    }
}
