//! What every page needs ([`Ctx`]: language, translations, the viewer's navigation, the CSRF token, a
//! confirmation message) and rendering helpers: templates become HTML responses, form errors become a
//! 422 page with an error summary, failures become the error page.

use std::sync::Arc;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use haven_domain::format::{self, Lang};
use haven_domain::time::Millis;
use haven_domain::Action;

use crate::ctx::{self, Viewer};
use crate::error::AppError;
use crate::i18n::I18n;
use crate::AppState;

pub struct NavItem {
    pub href: &'static str,
    pub key: &'static str,
    pub current: bool,
}

pub struct Ctx {
    pub lang: Lang,
    i18n: Arc<I18n>,
    pub user_name: Option<String>,
    pub agency_name: Option<String>,
    pub nav: Vec<NavItem>,
    pub csrf: String,
    pub path: String,
    /// A translation key confirming what was just done (`?done=` after a redirect).
    pub done: Option<String>,
    /// What went wrong with what was just sent, after a redirect (`?problem=` with the key, `&at=` with the
    /// id of the field it is about): shown as the error summary, never as a confirmation.
    pub problem: Option<(String, String)>,
    /// Reports assigned to the viewer that are overdue, and that fall due within five days (overdue ones
    /// excluded): the banner on every page.
    pub deadlines: Option<(i64, i64)>,
}

impl Ctx {
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.i18n.get(self.lang, key)
    }
    /// The translation of a code from a code list: `tk("channel", "hotline")` reads `channel.hotline`. A code
    /// without a translation (a country the profile does not name, sent through the API) shows as itself.
    pub fn tk(&self, list: &str, code: &str) -> String {
        let key = format!("{list}.{code}");
        match self.i18n.get(self.lang, &key) {
            missing if missing == key => code.to_owned(),
            found => found.to_owned(),
        }
    }
    pub fn date_time(&self, at: &Millis) -> String {
        format::date_time(*at)
    }
    /// A stored day as people write it, in templates: [`display`].
    pub fn day(&self, stored: &str) -> String {
        display(stored)
    }
    pub fn num(&self, n: &i64) -> String {
        format::integer(*n, self.lang)
    }
    /// A count as people read it (thousands grouped).
    pub fn count(&self, n: &u64) -> String {
        format::integer(i64::try_from(*n).unwrap_or(i64::MAX), self.lang)
    }
    pub fn other_lang(&self) -> &'static str {
        match self.lang {
            Lang::Vi => "en",
            Lang::En => "vi",
        }
    }
    pub fn lang_code(&self) -> &'static str {
        self.lang.code()
    }
    pub fn agency_label<'a>(&self, vi: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Vi => vi,
            Lang::En => en,
        }
    }
}

fn nav_for(v: &Viewer, path: &str) -> Vec<NavItem> {
    use haven_domain::work::Area::{self, *};
    use Action::*;
    let areas = haven_domain::work::areas(&v.agency.functions);
    // An item shows to those whose roles permit its action and, for the work of agencies, whose agency
    // works in one of its areas (an empty list: any agency). Aggregate pages follow the role alone.
    let items: [(&'static str, &'static str, Action, &[Area]); 21] = [
        ("/reports", "nav.reports", ViewRecords, &[Reports]),
        ("/cases", "nav.cases", ViewRecords, &[Cases]),
        ("/victims", "nav.victims", ViewRecords, &[Victims]),
        ("/referrals", "nav.referrals", ViewRecords, &[Victims, Referrals]),
        ("/handovers", "nav.handovers", ViewRecords, &[Returnees]),
        ("/absentees", "nav.absentees", ViewRecords, &[Absentees]),
        ("/matches", "nav.matches", ViewRecords, &[Matches]),
        ("/cooperation", "nav.cooperation", ViewRecords, &[Cooperation]),
        ("/persons", "nav.persons", ViewRecords, &[]),
        ("/indicators", "nav.indicators", ViewAggregates, &[]),
        ("/plans", "nav.plans", ViewAggregates, &[]),
        ("/plans", "nav.plans", CreateRecords, &[Plan]),
        ("/prevention", "nav.prevention", ViewAggregates, &[]),
        ("/prevention", "nav.prevention", CreateRecords, &[Prevention]),
        ("/training", "nav.training", ViewAggregates, &[]),
        ("/training", "nav.training", CreateRecords, &[Prevention]),
        ("/exports", "nav.exports", ViewAggregates, &[]),
        ("/statistics", "nav.statistics", PublishStatistics, &[]),
        ("/supervision", "nav.supervision", SuperviseAgency, &[]),
        ("/audit", "nav.audit", ViewAudit, &[]),
        ("/admin/users", "nav.users", ManageUsers, &[]),
    ];
    let admin: [(&'static str, &'static str, Action, &[Area]); 2] = [
        ("/admin/agencies", "nav.agencies", ManageAgencies, &[]),
        ("/admin/security", "nav.security", ManageSecurity, &[]),
    ];
    let mut nav = vec![NavItem { href: "/", key: "nav.home", current: path == "/" }];
    for (href, key, action, within) in items.into_iter().chain(admin) {
        let shown = v.can(action) && (within.is_empty() || within.iter().any(|a| areas.contains(a)));
        if shown && !nav.iter().any(|n| n.href == href) {
            nav.push(NavItem { href, key, current: path.starts_with(href) });
        }
    }
    nav
}

impl Ctx {
    pub fn build(state: &AppState, viewer: Option<&Viewer>, parts: &Parts) -> Ctx {
        let lang = ctx::request_lang(viewer, &parts.headers);
        let path = parts.uri.path().to_owned();
        let query: Vec<(String, String)> =
            parts.uri.query().and_then(|q| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        // Only keys that exist are shown: a link cannot put arbitrary text on a page.
        let known = |k: String| Some(k).filter(|k| state.i18n.get(lang, k) != k.as_str());
        let done = param("done").and_then(|v| known(format!("done.{v}")));
        let field = param("at").filter(|a| !a.is_empty() && a.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        let problem = param("problem").and_then(|v| known(format!("problem.{v}"))).zip(field.map(str::to_owned));
        Ctx {
            lang,
            i18n: state.i18n.clone(),
            user_name: viewer.map(|v| v.user.display_name.clone()),
            agency_name: viewer.map(|v| match lang {
                Lang::Vi => v.agency.name_vi.clone(),
                Lang::En => v.agency.name_en.clone(),
            }),
            nav: viewer.map(|v| nav_for(v, &path)).unwrap_or_default(),
            csrf: ctx::expected_csrf(viewer, &parts.headers).unwrap_or_default(),
            path,
            done,
            problem,
            deadlines: None,
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let viewer = match parts.extensions.get::<Viewer>() {
            Some(v) => Some(v.clone()),
            None => ctx::resolve_viewer(state, parts).await?,
        };
        let mut c = Ctx::build(state, viewer.as_ref(), parts);
        if let Some(v) = viewer.as_ref().filter(|v| v.can(Action::EditRecords) && !v.must_enrol) {
            let today = state.today();
            let until = today + time::Duration::days(haven_app::reports::DUE_SOON_DAYS);
            let (overdue, all) = state.store.assigned_deadlines(&v.user.id, today, until).await?;
            c.deadlines = Some((overdue, all - overdue)).filter(|_| all > 0);
        }
        Ok(c)
    }
}

/// A stored day (`yyyy-mm-dd`) as people write it (`dd/mm/yyyy`); empty when it is not a day.
pub fn display(stored: &str) -> String {
    format::parse_date(stored).map(format::date).unwrap_or_default()
}

pub fn display_opt(stored: &Option<String>) -> String {
    stored.as_deref().map(display).unwrap_or_default()
}

/// Render a template as an HTML response with a status.
pub fn render<T: Template>(status: StatusCode, t: &T) -> Response {
    match t.render() {
        Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], Html(html)).into_response(),
        Err(e) => AppError::Internal(anyhow::anyhow!("template: {e}")).into_response(),
    }
}

pub fn ok<T: Template>(t: &T) -> Response {
    render(StatusCode::OK, t)
}

/// The values and errors of a submitted form, for re-rendering it.
#[derive(Default)]
pub struct FormState {
    pub values: Vec<(String, String)>,
    /// (field, translation key)
    pub errors: Vec<(String, String)>,
}

impl FormState {
    pub fn from_pairs(pairs: &[(String, String)]) -> FormState {
        FormState {
            values: pairs.iter().filter(|(k, _)| k != "csrf" && !k.contains("password")).cloned().collect(),
            errors: Vec::new(),
        }
    }
    /// The submitted form again, with the errors a use case found in it.
    pub fn with_errors(pairs: &[(String, String)], errors: haven_app::FieldErrors) -> FormState {
        FormState { errors, ..FormState::from_pairs(pairs) }
    }
    pub fn value(&self, field: &str) -> &str {
        self.values.iter().find(|(k, _)| k == field).map(|(_, v)| v.as_str()).unwrap_or("")
    }
    pub fn error(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|(k, _)| k == field).map(|(_, v)| v.as_str())
    }
    pub fn add(&mut self, field: &str, key: &str) {
        self.errors.push((field.to_owned(), key.to_owned()));
    }
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
    pub fn selected(&self, field: &str, value: &str) -> bool {
        self.values.iter().any(|(k, v)| k == field && v == value)
    }
    /// ` aria-describedby="..."` for a field's control: its error message (`<field>-error`) when it has one,
    /// so that a screen reader announces it with the field. Empty when there is nothing to tie.
    pub fn describe(&self, field: &str) -> String {
        self.described(field, None)
    }
    /// As [`FormState::describe`], for a field with a hint (`<field>-hint`), which is always tied.
    pub fn describe_hinted(&self, field: &str) -> String {
        self.described(field, Some(format!("{field}-hint")))
    }
    fn described(&self, field: &str, hint: Option<String>) -> String {
        // Field names are ours (templates name them), never user input: nothing here needs escaping.
        let ids: Vec<String> = hint.into_iter().chain(self.error(field).map(|_| format!("{field}-error"))).collect();
        if ids.is_empty() {
            String::new()
        } else {
            format!(" aria-describedby=\"{}\"", ids.join(" "))
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    c: Ctx,
    status: u16,
    key: &'a str,
    request_id: &'a str,
}

pub fn error_page(state: &AppState, lang: Lang, status: StatusCode, key: &str, request_id: &str) -> Response {
    let c = Ctx {
        lang,
        i18n: state.i18n.clone(),
        user_name: None,
        agency_name: None,
        nav: Vec::new(),
        csrf: String::new(),
        path: String::new(),
        done: None,
        problem: None,
        deadlines: None,
    };
    render(status, &ErrorPage { c, status: status.as_u16(), key, request_id })
}

/// A file to download, named for the user's disk. RFC 6266 with RFC 5987 encoding: names keep their
/// diacritics; the plain form is an ASCII fallback. Never cached, never sniffed.
pub fn download(file_name: &str, content_type: &str, bytes: Vec<u8>) -> Response {
    let ascii: String = file_name.chars().map(|ch| if ch.is_ascii_graphic() || ch == ' ' { ch } else { '_' }).collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b".-_".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

/// A local path to go back to after a form: only paths on this site. Browsers drop tabs and newlines from
/// URLs, so "/\t/host" would become "//host": anything but printable ASCII is refused outright.
pub fn safe_back(back: &str) -> &str {
    let printable = back.bytes().all(|b| (0x21..0x7f).contains(&b));
    let second = back.as_bytes().get(1).copied();
    if printable && back.starts_with('/') && second != Some(b'/') && second != Some(b'\\') && !back.contains('\\') {
        back
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn only_local_paths_come_back() {
        assert_eq!(safe_back("/persons?view=shared"), "/persons?view=shared");
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/%09/x\n",
            "https://evil.example",
            "",
            "/a b",
            "/\u{0}",
        ] {
            assert_eq!(safe_back(bad), "/", "{bad:?}");
        }
    }
}
