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

    /// Every file under `dir`, recursively.
    fn read_all(dir: &std::path::Path, into: &mut String) {
        for e in std::fs::read_dir(dir).expect("read dir").flatten() {
            let path = e.path();
            if path.is_dir() {
                read_all(&path, into);
            } else {
                into.push_str(&std::fs::read_to_string(&path).expect("read"));
            }
        }
    }

    /// The keys the pages, the API and the use cases name: `t("...")` in templates and pages, and every
    /// `"error.*"` key a use case or a page gives a field.
    #[test]
    fn every_key_used_in_code_and_templates_exists() {
        let i = I18n::embedded();
        let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut sources = String::new();
        for dir in ["haven-app/src", "haven-web/src", "haven-web/templates"] {
            read_all(&crates.join(dir), &mut sources);
        }
        let mut missing = Vec::new();
        let mut seen = 0;
        for pattern in ["t(\"", "\"error."] {
            for (n, _) in sources.match_indices(pattern) {
                let start = if pattern.starts_with('"') { n + 1 } else { n + pattern.len() };
                let rest = &sources[start..];
                let key = &rest[..rest.find('"').unwrap_or(0)];
                let plain = key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._".contains(&b));
                if !plain || !key.contains('.') || key.ends_with('.') || key.ends_with(".html") {
                    continue;
                }
                seen += 1;
                if i.get(Lang::Vi, key) == key {
                    missing.push(key.to_owned());
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(seen > 300, "the scan found only {seen} keys: are the paths right?");
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }
}
