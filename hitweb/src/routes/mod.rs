//! The route handlers, one module per URL segment. Each handler extracts,
//! authorizes through `hitcore::ability`, calls the store and renders; the
//! helpers here keep those steps short.

pub mod application_market;
pub mod dev_mails;
pub mod event_kinds;
pub mod events;
pub mod groups;
pub mod health;
pub mod home;
pub mod jobs;
pub mod language;
pub mod mailing_lists;
pub mod participant_exports;
pub mod participations;
pub mod passwords;
pub mod people;
pub mod pictures;
pub mod qualifications;
pub mod roles;
pub mod search;
pub mod users;

use chrono::NaiveDate;
use hitcore::GroupId;
use hitcore::group::Group;
use poem::http::{StatusCode, header};
use poem::{IntoResponse, Response};

use crate::context::{RequestCtx, Viewer};
use crate::error::WebError;

/// The submitted fields of a url-encoded form, in order.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, as sent (possibly empty).
    pub fn raw(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `name`; `None` when missing or blank. Not trimmed: the
    /// domain's `validated` functions trim.
    pub fn get(&self, name: &str) -> Option<String> {
        self.raw(name)
            .filter(|v| !v.trim().is_empty())
            .map(str::to_owned)
    }

    /// Every value of `name`, as sent (repeated fields, checkboxes).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether a checkbox was ticked.
    pub fn flag(&self, name: &str) -> bool {
        self.raw(name)
            .is_some_and(|v| matches!(v, "1" | "true" | "on" | "yes"))
    }
}

/// Parses an HTML date input (`YYYY-MM-DD`); blank is `Ok(None)`.
///
/// # Errors
/// The parse error for anything else.
pub fn parse_date(value: Option<&str>) -> Result<Option<NaiveDate>, chrono::ParseError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => NaiveDate::parse_from_str(v, "%Y-%m-%d").map(Some),
    }
}

/// Redirects after a successful change: `303 See Other` for plain
/// requests, `HX-Redirect` for HTMX ones (which would otherwise swap the
/// next page into the target).
pub fn redirect(ctx: &RequestCtx, url: &str) -> Response {
    if ctx.htmx.is_request {
        Response::builder()
            .status(StatusCode::OK)
            .header("HX-Redirect", url)
            .finish()
    } else {
        see_other(url)
    }
}

/// A plain `303 See Other`.
pub fn see_other(url: &str) -> Response {
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, url)
        .finish()
}

/// A re-rendered form after invalid input: 422, which `layout.html` tells
/// htmx to swap like a success.
pub fn unprocessable(resp: Response) -> Response {
    let mut resp = resp.into_response();
    resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    resp
}

/// The non-deleted group with this id, or a 404. A deleted group is a 404
/// too: its existence is not to be shown.
pub fn visible_group(viewer: &Viewer, id: GroupId) -> Result<&Group, WebError> {
    viewer
        .tree
        .get(id)
        .filter(|g| !g.is_deleted())
        .ok_or(WebError::NotFound)
}

/// The groups of `event` as the ability engine sees them: those of the
/// viewer's tree that are not deleted (a deleted group holds no events
/// and gives no position over them).
pub fn event_groups<'a>(viewer: &'a Viewer, event: &hitcore::event::Event) -> Vec<&'a Group> {
    event
        .group_ids
        .iter()
        .filter_map(|id| viewer.tree.get(*id))
        .filter(|g| !g.is_deleted())
        .collect()
}

/// Turns a refused decision into a 403.
///
/// # Errors
/// [`WebError::Forbidden`] with the refusal.
pub fn check(decision: hitcore::ability::Decision) -> Result<(), WebError> {
    match decision {
        hitcore::ability::Decision::Allowed(_) => Ok(()),
        hitcore::ability::Decision::Refused(r) => Err(WebError::Forbidden(r)),
    }
}
