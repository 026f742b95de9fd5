//! View pieces several pages share: the layout's data ([`PageMeta`]), the
//! error pages, role rows, group links, form field errors and labels from
//! the organisation definition. Each page's own view struct lives in its
//! route module.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use hitcore::Organisation;
use hitcore::ability::{self, RoleAction, RoleSubject};
use hitcore::group::{Group, GroupTree};
use hitcore::person::Person;
use hitcore::role::{Role, RoleState};
use hitcore::validate::Violations;
use poem::http::StatusCode;
use serde::Serialize;

use crate::assets;
use crate::context::{RequestCtx, Viewer};
use crate::error::WebError;
use crate::i18n;
use crate::state::AppState;

/// What the layout needs on every page (`page` in templates).
#[derive(Serialize)]
pub struct PageMeta {
    pub lang: &'static str,
    pub csrf_token: String,
    pub org_name: String,
    pub user: Option<UserMenu>,
    pub flash: Option<FlashView>,
    pub request_id: String,
    /// Appended to asset URLs (`?v=`), so they can be cached forever.
    pub asset_version: &'static str,
    /// The organisation's languages, for the switcher in the layout.
    pub languages: Vec<LanguageChoice>,
}

/// One language the switcher offers, named in that language itself, so
/// that a reader of it finds it whatever the page's language is.
#[derive(Serialize)]
pub struct LanguageChoice {
    pub code: String,
    pub name: String,
    pub is_current: bool,
}

/// The signed-in person in the navigation.
#[derive(Serialize)]
pub struct UserMenu {
    pub id: i64,
    pub name: String,
    pub url: String,
}

/// A flash message, already translated.
#[derive(Serialize)]
pub struct FlashView {
    pub kind: String,
    pub text: String,
}

impl PageMeta {
    pub(crate) fn new(ctx: &RequestCtx, state: &AppState) -> PageMeta {
        PageMeta {
            lang: ctx.lang,
            csrf_token: ctx.csrf_token.clone(),
            org_name: state.org.name.clone(),
            user: ctx.viewer.as_ref().map(|v| UserMenu {
                id: v.person.id.0,
                name: v.person.display_name(),
                url: format!("/people/{}", v.person.id),
            }),
            flash: ctx.flash.as_ref().map(|f| FlashView {
                kind: f.kind.clone(),
                text: i18n::text(ctx.lang, &f.key),
            }),
            request_id: ctx.request_id.clone(),
            asset_version: assets::version(),
            languages: state
                .org
                .languages
                .iter()
                .map(|code| LanguageChoice {
                    code: code.clone(),
                    name: i18n::text(code, &format!("languages.{code}")),
                    is_current: code == ctx.lang,
                })
                .collect(),
        }
    }
}

/// The data of the error pages and the inline error fragment.
#[derive(Serialize)]
pub struct ErrorView {
    pub status: u16,
    pub title_key: &'static str,
    pub message_key: String,
    pub request_id: String,
}

impl ErrorView {
    pub(crate) fn new(ctx: &RequestCtx, err: &WebError, status: StatusCode) -> ErrorView {
        let title_key = match status {
            StatusCode::NOT_FOUND => "errors.not_found",
            StatusCode::FORBIDDEN => "errors.forbidden",
            StatusCode::CONFLICT => "errors.refused",
            StatusCode::PAYLOAD_TOO_LARGE => "errors.too_large",
            StatusCode::SERVICE_UNAVAILABLE => "errors.unavailable",
            s if s.is_server_error() => "errors.internal",
            _ => "errors.bad_request_title",
        };
        ErrorView {
            status: status.as_u16(),
            title_key,
            message_key: err.message_key(),
            request_id: ctx.request_id.clone(),
        }
    }
}

/// Form field errors, translated: field name -> message.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    /// Translates the violations into the request's language.
    pub fn from_violations(lang: &str, v: &Violations) -> FieldErrors {
        let mut map = BTreeMap::new();
        for violation in &v.0 {
            map.entry(violation.field.clone())
                .or_insert_with(|| i18n::text(lang, &violation.message));
        }
        FieldErrors(map)
    }

    /// Records one message key for a field.
    pub fn add(&mut self, lang: &str, field: &str, key: &str) {
        self.0
            .entry(field.to_owned())
            .or_insert_with(|| i18n::text(lang, key));
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A link to a group.
#[derive(Clone, Serialize)]
pub struct GroupLink {
    pub id: i64,
    pub name: String,
    /// The name with its layer, "Members · Club Alpha", for places that
    /// show a group out of its tree: many layers have a group of the same
    /// name. Just the name for a layer, or without the tree at hand.
    pub full_name: String,
    /// The layer group, when the group is not a layer itself.
    pub layer: Option<LayerLink>,
    pub type_label: String,
    pub url: String,
}

/// The layer a [`GroupLink`] belongs to.
#[derive(Clone, Serialize)]
pub struct LayerLink {
    pub name: String,
    pub url: String,
}

impl GroupLink {
    pub fn new(org: &Organisation, lang: &str, g: &Group) -> GroupLink {
        GroupLink {
            id: g.id.0,
            name: g.display_name().to_owned(),
            full_name: g.display_name().to_owned(),
            layer: None,
            type_label: group_type_label(org, lang, &g.group_type),
            url: format!("/groups/{}", g.id),
        }
    }

    /// As [`GroupLink::new`], with the layer of `g` from `tree`.
    pub fn with_layer(org: &Organisation, lang: &str, g: &Group, tree: &GroupTree) -> GroupLink {
        let mut link = GroupLink::new(org, lang, g);
        if let Some(layer) = tree.layer_of(g.id).filter(|l| l.id != g.id) {
            link.full_name = format!("{} · {}", g.display_name(), layer.display_name());
            link.layer = Some(LayerLink {
                name: layer.display_name().to_owned(),
                url: format!("/groups/{}", layer.id),
            });
        }
        link
    }
}

/// One role as a row (`roles/_row.html`, id `role-row-<id>`).
#[derive(Clone, Serialize)]
pub struct RoleRowView {
    pub id: i64,
    pub dom_id: String,
    pub person_name: String,
    pub person_url: String,
    pub group: GroupLink,
    pub type_label: String,
    pub label: Option<String>,
    pub start_on: Option<String>,
    pub end_on: Option<String>,
    pub state: &'static str,
    pub is_ended: bool,
    /// Whether the viewer may end or remove it (shows the button).
    pub can_destroy: bool,
    pub can_edit: bool,
    pub destroy_url: String,
    pub edit_url: String,
    /// Whether to show the person's name (people lists show it elsewhere).
    pub shows_group: bool,
}

impl RoleRowView {
    /// Builds the row for `role` of `person`; `None` when the role's group
    /// or type is unknown (deleted group, removed type).
    pub fn new(
        state: &AppState,
        viewer: &Viewer,
        lang: &str,
        person: &Person,
        role: &Role,
        shows_group: bool,
    ) -> Option<RoleRowView> {
        let group = viewer.tree.get(role.group_id).filter(|g| !g.is_deleted())?;
        let role_type = state.org.role_type(&role.role_type)?;
        let subject = RoleSubject {
            role,
            group,
            role_type,
        };
        let allowed =
            |action| ability::role(&viewer.actor, action, &subject, &viewer.tree).is_allowed();
        let today = chrono::Utc::now().date_naive();
        let role_state = role.state(today);
        let base = format!("/groups/{}/roles/{}", group.id, role.id);
        Some(RoleRowView {
            id: role.id.0,
            dom_id: format!("role-row-{}", role.id),
            person_name: person.display_name(),
            person_url: format!("/groups/{}/people/{}", group.id, person.id),
            group: GroupLink::with_layer(&state.org, lang, group, &viewer.tree),
            type_label: role_type.labels.get(lang).to_owned(),
            label: role.label.clone(),
            start_on: role.start_on.map(|d| format_date(lang, d)),
            end_on: role.end_on.map(|d| format_date(lang, d)),
            state: match role_state {
                RoleState::Future => "future",
                RoleState::Active => "active",
                RoleState::Ended => "ended",
            },
            is_ended: role_state == RoleState::Ended,
            can_destroy: role_state != RoleState::Ended && allowed(RoleAction::Destroy),
            can_edit: allowed(RoleAction::Update),
            destroy_url: base.clone(),
            edit_url: format!("{base}/edit"),
            shows_group,
        })
    }
}

/// A group type's label in `lang` (the key when the type is unknown).
pub fn group_type_label(org: &Organisation, lang: &str, key: &str) -> String {
    org.group_type(key)
        .map_or_else(|| key.to_owned(), |t| t.labels.get(lang).to_owned())
}

/// A role type's label in `lang` (the key when the type is unknown).
pub fn role_type_label(org: &Organisation, lang: &str, key: &str) -> String {
    org.role_type(key)
        .map_or_else(|| key.to_owned(), |t| t.labels.get(lang).to_owned())
}

/// A date as people of `lang` write it.
pub fn format_date(lang: &str, d: NaiveDate) -> String {
    match lang {
        "de" => d.format("%d.%m.%Y").to_string(),
        _ => d.format("%Y-%m-%d").to_string(),
    }
}

/// A choice in a select box.
#[derive(Clone, Serialize)]
pub struct OptionView {
    pub value: String,
    pub label: String,
    pub is_selected: bool,
}
