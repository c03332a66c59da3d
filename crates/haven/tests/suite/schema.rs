//! The OpenAPI document as a test oracle: every answer the suite gets from the API is checked against the
//! document's schema for its operation and status, so the document cannot drift from what the API sends.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The document, as JSON.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(haven_web::api::document()).expect("the document is JSON"))
}

/// The documented path template a request path matches (`/api/v1/reports/abc?list=due` matches
/// `/reports/{id}`), preferring literal segments over parameters.
pub fn template_of(path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    let segs: Vec<&str> = path.split('/').collect();
    let paths = document()["paths"].as_object()?;
    let mut best: Option<(usize, &String)> = None;
    for template in paths.keys() {
        let t: Vec<&str> = template.split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let mut literals = 0;
        let fits = t.iter().zip(&segs).all(|(a, b)| {
            if a.starts_with('{') {
                true
            } else {
                literals += 1;
                a == b
            }
        });
        if fits && best.is_none_or(|(n, _)| literals > n) {
            best = Some((literals, template));
        }
    }
    best.map(|(_, t)| t.clone())
}

type Validators = HashMap<(String, String, u16), Option<jsonschema::Validator>>;

/// Check an API answer against the document. Answers of routes outside the document (an unknown path is a
/// 404 the fallback gives) are only checked to be the common error shape.
pub fn check_answer(method: &str, path: &str, status: u16, body: &Value) {
    let Some(template) = template_of(path) else {
        assert!(status == 404 || body["error"].is_string(), "{method} {path}: {status} outside the document: {body}");
        return;
    };
    static CACHE: OnceLock<Mutex<Validators>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    let key = (method.to_owned(), template.clone(), status);
    let mut cache = cache.lock().expect("cache");
    let validator = cache.entry(key).or_insert_with(|| {
        let doc = document();
        let op = &doc["paths"][&template][method];
        assert!(op.is_object(), "{method} {template} is not in the document");
        let response = &op["responses"][status.to_string()];
        assert!(
            response.is_object(),
            "{method} {template} answered {status}, which the document does not list: {body}"
        );
        let response = match response["$ref"].as_str() {
            Some(r) => &doc["components"]["responses"][r.rsplit('/').next().unwrap_or_default()],
            None => response,
        };
        let schema = response["content"]["application/json"]["schema"].clone();
        if schema.is_null() {
            return None;
        }
        // The schema's references point into the document's components: validate against a root that
        // carries them.
        let mut root = serde_json::json!({ "components": doc["components"] });
        if let (Some(r), Some(s)) = (root.as_object_mut(), schema.as_object()) {
            r.extend(s.clone());
        }
        match jsonschema::validator_for(&root) {
            Ok(v) => Some(v),
            Err(e) => panic!("{method} {template} {status}: the schema does not compile: {e}"),
        }
    });
    if let Some(v) = validator {
        let errors: Vec<String> = v.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
        assert!(errors.is_empty(), "{method} {path} ({status}) does not match its schema: {errors:?}\\n{body}");
    }
}
