//! Translations: every visible string comes from the profile's `i18n/<lang>.txt` files (`key = value` per
//! line). A plain map is enough: the strings have no plural or gender rules that would call for Fluent.
//! A key missing from a language is a test failure, and shows as the key itself rather than a crash.

use std::collections::HashMap;

use haven_domain::format::Lang;

pub struct I18n {
    vi: HashMap<String, String>,
    en: HashMap<String, String>,
}

fn parse(text: &str) -> HashMap<String, String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

impl I18n {
    pub fn embedded() -> I18n {
        I18n {
            vi: parse(include_str!("../../../profiles/vn/i18n/vi.txt")),
            en: parse(include_str!("../../../profiles/vn/i18n/en.txt")),
        }
    }

    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let map = match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        };
        map.get(key).map(String::as_str).unwrap_or(key)
    }

    pub fn keys(&self, lang: Lang) -> Vec<&str> {
        let map = match lang {
            Lang::Vi => &self.vi,
            Lang::En => &self.en,
        };
        let mut k: Vec<&str> = map.keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys_and_no_empty_value() {
        let i = I18n::embedded();
        assert_eq!(i.keys(Lang::Vi), i.keys(Lang::En));
        for k in i.keys(Lang::Vi) {
            assert!(!i.get(Lang::Vi, k).is_empty() && !i.get(Lang::En, k).is_empty(), "{k}");
        }
    }

    #[test]
    fn every_key_used_in_code_and_templates_exists() {
        let i = I18n::embedded();
        let mut sources = String::new();
        for dir in ["src", "src/pages", "templates"] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
            for e in std::fs::read_dir(path).expect("read dir").flatten() {
                if e.path().is_file() {
                    sources.push_str(&std::fs::read_to_string(e.path()).expect("read"));
                }
            }
        }
        let mut missing = Vec::new();
        for (n, _) in sources.match_indices("t(\"") {
            let rest = &sources[n + 3..];
            let key = &rest[..rest.find('"').unwrap_or(0)];
            if key.contains('.') && i.get(Lang::Vi, key) == key {
                missing.push(key.to_owned());
            }
        }
        missing.sort();
        missing.dedup();
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }
}
