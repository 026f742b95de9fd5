//! `/event_kinds`, `/qualification_kinds` and `/event_kind_categories`:
//! the administrators' catalogues of section 5.5, each a list, a form for
//! new and existing entries, and a delete button. Event kinds carry
//! their links to qualification kinds in the same form.
//!
//! Everybody signed in may read the lists; changes need
//! `hitcore::ability::permit_manage_kinds`. Entries still in use are only
//! marked deleted (the store decides), and disappear from the lists.

use std::collections::BTreeMap;

use chrono::Utc;
use hitcore::ability;
use hitcore::event::kind::{
    CategoryPatch, EventKind, EventKindCategory, EventKindPatch, KindQualification, LinkCategory,
    LinkRole, LinkValidity, QualificationKind, QualificationKindPatch,
};
use hitcore::event::qualification::Removal;
use hitcore::id::{EventKindCategoryId, EventKindId, QualificationKindId};
use hitcore::store::StoreError;
use hitcore::validate::Violations;
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::{Fields, check, redirect, unprocessable};
use crate::context::{self, RequestCtx};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FieldErrors, OptionView};

/// A catalogue form: the raw field values (what was typed, or the
/// entry's), messages, and for event kinds the link table.
#[derive(Serialize)]
struct CatalogueForm {
    id: &'static str,
    title: String,
    action: String,
    cancel_url: String,
    fields: BTreeMap<String, String>,
    errors: FieldErrors,
    categories: Vec<OptionView>,
    links: Vec<LinkRowView>,
    link_columns: Vec<String>,
}

/// One qualification kind's row of the event kind form's link table.
#[derive(Serialize)]
struct LinkRowView {
    kind_id: i64,
    label: String,
    /// One checkbox per (category, role) of [`LINK_COLUMNS`].
    boxes: Vec<LinkBox>,
    grouping: String,
    validity: Vec<OptionView>,
}

#[derive(Serialize)]
struct LinkBox {
    name: String,
    is_checked: bool,
}

#[derive(Serialize)]
struct FormView {
    form: CatalogueForm,
}

/// The columns of the link table, in order.
const LINK_COLUMNS: [(LinkCategory, LinkRole); 6] = [
    (LinkCategory::Qualification, LinkRole::Participant),
    (LinkCategory::Qualification, LinkRole::Leader),
    (LinkCategory::Precondition, LinkRole::Participant),
    (LinkCategory::Precondition, LinkRole::Leader),
    (LinkCategory::Prolongation, LinkRole::Participant),
    (LinkCategory::Prolongation, LinkRole::Leader),
];

fn link_field(kind: QualificationKindId, c: LinkCategory, r: LinkRole) -> String {
    format!("link_{}_{}_{}", kind.0, c.as_str(), r.as_str())
}

fn render_form(
    ctx: &RequestCtx,
    state: &AppState,
    form: CatalogueForm,
    is_invalid: bool,
) -> Result<Response, WebError> {
    let resp = ctx.render(
        state,
        "event_kinds/form.html",
        "event_kinds/_form.html",
        &FormView { form },
    )?;
    Ok(if is_invalid {
        unprocessable(resp)
    } else {
        resp
    })
}

fn blank_form(id: &'static str, title: String, action: String, cancel_url: &str) -> CatalogueForm {
    CatalogueForm {
        id,
        title,
        action,
        cancel_url: cancel_url.to_owned(),
        fields: BTreeMap::new(),
        errors: FieldErrors::default(),
        categories: Vec::new(),
        links: Vec::new(),
        link_columns: Vec::new(),
    }
}

fn raw_fields(fields: &Fields) -> BTreeMap<String, String> {
    fields.0.iter().cloned().collect()
}

/// The form's text fields, every one present (blank when missing), so
/// that the template never reads an undefined value.
fn with_keys(mut fields: BTreeMap<String, String>, names: &[&str]) -> BTreeMap<String, String> {
    for name in names {
        fields.entry((*name).to_owned()).or_default();
    }
    fields
}

const KIND_FIELDS: [&str; 6] = [
    "label",
    "short_name",
    "minimum_age",
    "kind_category_id",
    "general_information",
    "application_conditions",
];
const QUALIFICATION_KIND_FIELDS: [&str; 5] = [
    "label",
    "description",
    "validity",
    "reactivateable",
    "required_training_days",
];
const CATEGORY_FIELDS: [&str; 2] = ["label", "order"];

/// A whole number field; blank is `None`, anything else a violation.
fn number(fields: &Fields, name: &str, v: &mut Violations) -> Option<u32> {
    let value = fields.get(name)?;
    value.trim().parse::<u32>().map_or_else(
        |_| {
            v.add(name, "errors.invalid");
            None
        },
        Some,
    )
}

fn opt_text(value: Option<&String>) -> String {
    value.cloned().unwrap_or_default()
}

fn removal_flash(removal: Removal) -> &'static str {
    match removal {
        Removal::Deleted => "event_kinds.flash_deleted",
        Removal::SoftDeleted => "event_kinds.flash_soft_deleted",
    }
}

// ------------------------------------------------------------ event kinds

#[derive(Serialize)]
struct KindsIndexView {
    rows: Vec<KindRow>,
    can_manage: bool,
}

#[derive(Serialize)]
struct KindRow {
    label: String,
    short_name: String,
    category: String,
    minimum_age: Option<u32>,
    qualifications: Vec<String>,
    edit_url: String,
    delete_url: String,
}

fn link_summary(ctx: &RequestCtx, l: &KindQualification, kinds: &[QualificationKind]) -> String {
    let label = kinds
        .iter()
        .find(|k| k.id == l.qualification_kind_id)
        .map_or_else(String::new, |k| k.label.clone());
    format!(
        "{label}: {} ({})",
        ctx.t(&format!("event_kinds.category_{}", l.category.as_str())),
        ctx.t(&format!("event_kinds.role_{}", l.role.as_str()))
    )
}

/// GET /event_kinds: the live event kinds with their links (page, or the
/// table fragment).
#[handler]
pub async fn index(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    check(ability::may_index_kinds(&viewer.actor))?;
    let (kinds, qkinds, categories) = state
        .db(|s| {
            Ok((
                s.event_kinds(false)?,
                s.qualification_kinds(true)?,
                s.event_kind_categories()?,
            ))
        })
        .await?;
    let rows = kinds
        .iter()
        .map(|k| KindRow {
            label: k.label.clone(),
            short_name: opt_text(k.short_name.as_ref()),
            category: categories
                .iter()
                .find(|c| Some(c.id) == k.kind_category_id)
                .map_or_else(String::new, |c| c.label.clone()),
            minimum_age: k.minimum_age,
            qualifications: k
                .qualifications
                .iter()
                .map(|l| link_summary(ctx, l, &qkinds))
                .collect(),
            edit_url: format!("/event_kinds/{}/edit", k.id),
            delete_url: format!("/event_kinds/{}/delete", k.id),
        })
        .collect();
    let view = KindsIndexView {
        rows,
        can_manage: ability::may_manage_kinds(&viewer.actor).is_allowed(),
    };
    ctx.render(
        &state,
        "event_kinds/index.html",
        "event_kinds/_table.html",
        &view,
    )
}

fn category_options(categories: &[EventKindCategory], selected: &str) -> Vec<OptionView> {
    let mut options = vec![OptionView {
        value: String::new(),
        label: "–".to_owned(),
        is_selected: selected.is_empty(),
    }];
    options.extend(categories.iter().map(|c| OptionView {
        value: c.id.to_string(),
        label: c.label.clone(),
        is_selected: c.id.to_string() == selected,
    }));
    options
}

fn validity_options(ctx: &RequestCtx, selected: &str) -> Vec<OptionView> {
    LinkValidity::ALL
        .iter()
        .map(|v| OptionView {
            value: v.as_str().to_owned(),
            label: ctx.t(&format!("event_kinds.validity_{}", v.as_str())),
            is_selected: v.as_str() == selected,
        })
        .collect()
}

/// The event kind form from raw values (`fields`).
fn kind_form(
    ctx: &RequestCtx,
    kind: Option<&EventKind>,
    fields: BTreeMap<String, String>,
    qkinds: &[QualificationKind],
    categories: &[EventKindCategory],
) -> CatalogueForm {
    let (title, action) = match kind {
        None => (ctx.t("event_kinds.new"), "/event_kinds".to_owned()),
        Some(k) => (ctx.t("event_kinds.edit"), format!("/event_kinds/{}", k.id)),
    };
    let get = |name: &str| fields.get(name).cloned().unwrap_or_default();
    let links = qkinds
        .iter()
        .filter(|k| k.deleted_at.is_none())
        .map(|k| LinkRowView {
            kind_id: k.id.0,
            label: k.label.clone(),
            boxes: LINK_COLUMNS
                .iter()
                .map(|(c, r)| {
                    let name = link_field(k.id, *c, *r);
                    LinkBox {
                        is_checked: fields.contains_key(&name),
                        name,
                    }
                })
                .collect(),
            grouping: get(&format!("grouping_{}", k.id)),
            validity: validity_options(ctx, &{
                let v = get(&format!("validity_{}", k.id));
                if v.is_empty() {
                    LinkValidity::default().as_str().to_owned()
                } else {
                    v
                }
            }),
        })
        .collect();
    let mut form = blank_form("event-kind-form", title, action, "/event_kinds");
    form.categories = category_options(categories, &get("kind_category_id"));
    form.links = links;
    form.link_columns = LINK_COLUMNS
        .iter()
        .map(|(c, r)| {
            format!(
                "{} ({})",
                ctx.t(&format!("event_kinds.category_{}", c.as_str())),
                ctx.t(&format!("event_kinds.role_{}", r.as_str()))
            )
        })
        .collect();
    form.fields = with_keys(fields, &KIND_FIELDS);
    form
}

/// An event kind's values as the form fields.
fn kind_fields(k: &EventKind) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    f.insert("label".to_owned(), k.label.clone());
    f.insert("short_name".to_owned(), opt_text(k.short_name.as_ref()));
    f.insert(
        "general_information".to_owned(),
        opt_text(k.general_information.as_ref()),
    );
    f.insert(
        "application_conditions".to_owned(),
        opt_text(k.application_conditions.as_ref()),
    );
    f.insert(
        "minimum_age".to_owned(),
        k.minimum_age.map(|a| a.to_string()).unwrap_or_default(),
    );
    f.insert(
        "kind_category_id".to_owned(),
        k.kind_category_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
    );
    for l in &k.qualifications {
        f.insert(
            link_field(l.qualification_kind_id, l.category, l.role),
            "1".to_owned(),
        );
        if l.category == LinkCategory::Precondition {
            let id = l.qualification_kind_id;
            if let Some(g) = l.grouping {
                f.insert(format!("grouping_{id}"), g.to_string());
            }
            f.insert(format!("validity_{id}"), l.validity.as_str().to_owned());
        }
    }
    f
}

/// The submitted event kind, validated.
fn kind_patch(fields: &Fields, qkinds: &[QualificationKind]) -> Result<EventKindPatch, Violations> {
    let mut v = Violations::default();
    let minimum_age = number(fields, "minimum_age", &mut v);
    let kind_category_id = match fields.get("kind_category_id") {
        None => None,
        Some(c) => match c.parse::<EventKindCategoryId>() {
            Ok(id) => Some(id),
            Err(_) => {
                v.add("kind_category_id", "errors.invalid");
                None
            }
        },
    };
    let mut qualifications = Vec::new();
    for k in qkinds.iter().filter(|k| k.deleted_at.is_none()) {
        // One message for the whole link table: its inputs have no
        // field of their own in the form's messages.
        let mut grouping_errors = Violations::default();
        let grouping = number(fields, &format!("grouping_{}", k.id), &mut grouping_errors);
        if !grouping_errors.is_empty() && v.for_field("grouping").is_none() {
            v.add("grouping", "errors.invalid");
        }
        let validity = fields
            .get(&format!("validity_{}", k.id))
            .and_then(|s| LinkValidity::parse(&s))
            .unwrap_or_default();
        for (category, role) in LINK_COLUMNS {
            if fields.flag(&link_field(k.id, category, role)) {
                qualifications.push(KindQualification {
                    qualification_kind_id: k.id,
                    category,
                    role,
                    grouping,
                    validity,
                });
            }
        }
    }
    let patch = EventKindPatch {
        label: fields.get("label"),
        short_name: fields.get("short_name"),
        general_information: fields.get("general_information"),
        application_conditions: fields.get("application_conditions"),
        minimum_age,
        kind_category_id,
        qualifications,
    }
    .validated();
    match patch {
        Ok(p) if v.is_empty() => Ok(p),
        Ok(_) => Err(v),
        Err(mut more) => {
            v.0.append(&mut more.0);
            Err(v)
        }
    }
}

async fn kind_choices(
    state: &AppState,
) -> Result<(Vec<QualificationKind>, Vec<EventKindCategory>), WebError> {
    state
        .db(|s| Ok((s.qualification_kinds(false)?, s.event_kind_categories()?)))
        .await
}

/// GET /event_kinds/new: the new event kind form (page, or fragment).
#[handler]
pub async fn new_form(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_manage_kinds(&viewer.actor)?;
    let (qkinds, categories) = kind_choices(&state).await?;
    let form = kind_form(ctx, None, BTreeMap::new(), &qkinds, &categories);
    render_form(ctx, &state, form, false)
}

/// GET /event_kinds/:id/edit: the event kind form (page, or fragment).
#[handler]
pub async fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<EventKindId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_manage_kinds(&viewer.actor)?;
    let kind = live_kind(&state, id).await?;
    let (qkinds, categories) = kind_choices(&state).await?;
    let form = kind_form(ctx, Some(&kind), kind_fields(&kind), &qkinds, &categories);
    render_form(ctx, &state, form, false)
}

async fn live_kind(state: &AppState, id: EventKindId) -> Result<EventKind, WebError> {
    state
        .db(move |s| s.event_kind(id))
        .await?
        .filter(|k| k.deleted_at.is_none())
        .ok_or(WebError::NotFound)
}

/// POST /event_kinds and POST /event_kinds/:id: saves an event kind
/// (redirect to the list, or the form with messages).
async fn save_kind(
    ctx: &RequestCtx,
    state: &AppState,
    req: &Request,
    existing: Option<EventKind>,
    fields: Fields,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_manage_kinds(&viewer.actor)?;
    let (qkinds, categories) = kind_choices(state).await?;
    let patch = match kind_patch(&fields, &qkinds) {
        Ok(p) => p,
        Err(v) => {
            let mut form = kind_form(
                ctx,
                existing.as_ref(),
                raw_fields(&fields),
                &qkinds,
                &categories,
            );
            form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, state, form, true);
        }
    };
    let now = Utc::now();
    let id = existing.as_ref().map(|k| k.id);
    state
        .db(move |s| match id {
            None => s.create_event_kind(&permit, &patch, now),
            Some(id) => s.update_event_kind(&permit, id, &patch, now),
        })
        .await?;
    context::set_flash(req.cookie(), state, "notice", "event_kinds.flash_saved");
    Ok(redirect(ctx, "/event_kinds"))
}

/// POST /event_kinds: creates an event kind (redirect, or the form).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    save_kind(ctx, &state, req, None, fields).await
}

/// POST /event_kinds/:id: saves an event kind (redirect, or the form).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<EventKindId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    ctx.viewer()
        .and_then(|v| Ok(ability::permit_manage_kinds(&v.actor)?))?;
    let kind = live_kind(&state, id).await?;
    save_kind(ctx, &state, req, Some(kind), fields).await
}

/// POST /event_kinds/:id/delete: deletes the event kind, or marks it
/// deleted when events use it (redirect to the list).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<EventKindId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_manage_kinds(&viewer.actor)?;
    let now = Utc::now();
    let removal = state
        .db(move |s| s.delete_event_kind(&permit, id, now))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", removal_flash(removal));
    Ok(redirect(ctx, "/event_kinds"))
}

// ---------------------------------------------------- qualification kinds

#[derive(Serialize)]
struct QualificationKindsView {
    rows: Vec<QualificationKindRow>,
    can_manage: bool,
}

#[derive(Serialize)]
struct QualificationKindRow {
    label: String,
    description: String,
    validity: Option<u32>,
    reactivateable: Option<u32>,
    required_training_days: Option<f64>,
    edit_url: String,
    delete_url: String,
}

/// GET /qualification_kinds: the live qualification kinds (page, or the
/// table fragment).
#[handler]
pub async fn qualification_kinds_index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    check(ability::may_index_kinds(&viewer.actor))?;
    let kinds = state.db(|s| s.qualification_kinds(false)).await?;
    let rows = kinds
        .iter()
        .map(|k| QualificationKindRow {
            label: k.label.clone(),
            description: opt_text(k.description.as_ref()),
            validity: k.validity,
            reactivateable: k.reactivateable,
            required_training_days: k.required_training_days,
            edit_url: format!("/qualification_kinds/{}/edit", k.id),
            delete_url: format!("/qualification_kinds/{}/delete", k.id),
        })
        .collect();
    let view = QualificationKindsView {
        rows,
        can_manage: ability::may_manage_kinds(&viewer.actor).is_allowed(),
    };
    ctx.render(
        &state,
        "qualification_kinds/index.html",
        "qualification_kinds/_table.html",
        &view,
    )
}

fn qualification_kind_form(
    ctx: &RequestCtx,
    kind: Option<QualificationKindId>,
    fields: BTreeMap<String, String>,
) -> CatalogueForm {
    let (title, action) = match kind {
        None => (
            ctx.t("qualification_kinds.new"),
            "/qualification_kinds".to_owned(),
        ),
        Some(id) => (
            ctx.t("qualification_kinds.edit"),
            format!("/qualification_kinds/{id}"),
        ),
    };
    let mut form = blank_form(
        "qualification-kind-form",
        title,
        action,
        "/qualification_kinds",
    );
    form.fields = with_keys(fields, &QUALIFICATION_KIND_FIELDS);
    form
}

fn qualification_kind_fields(k: &QualificationKind) -> BTreeMap<String, String> {
    let n = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_default();
    BTreeMap::from([
        ("label".to_owned(), k.label.clone()),
        ("description".to_owned(), opt_text(k.description.as_ref())),
        ("validity".to_owned(), n(k.validity)),
        ("reactivateable".to_owned(), n(k.reactivateable)),
        (
            "required_training_days".to_owned(),
            k.required_training_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
        ),
    ])
}

fn qualification_kind_patch(fields: &Fields) -> Result<QualificationKindPatch, Violations> {
    let mut v = Violations::default();
    let validity = number(fields, "validity", &mut v);
    let reactivateable = number(fields, "reactivateable", &mut v);
    let required_training_days = match fields.get("required_training_days") {
        None => None,
        Some(d) => match d.trim().replace(',', ".").parse::<f64>() {
            Ok(d) => Some(d),
            Err(_) => {
                v.add("required_training_days", "errors.invalid");
                None
            }
        },
    };
    let patch = QualificationKindPatch {
        label: fields.get("label"),
        description: fields.get("description"),
        validity,
        reactivateable,
        required_training_days,
    }
    .validated();
    match patch {
        Ok(p) if v.is_empty() => Ok(p),
        Ok(_) => Err(v),
        Err(mut more) => {
            v.0.append(&mut more.0);
            Err(v)
        }
    }
}

/// GET /qualification_kinds/new: the new qualification kind form.
#[handler]
pub async fn qualification_kinds_new(
    ctx: &RequestCtx,
    state: Data<&AppState>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_manage_kinds(&viewer.actor)?;
    let form = qualification_kind_form(ctx, None, BTreeMap::new());
    render_form(ctx, &state, form, false)
}

/// GET /qualification_kinds/:id/edit: the qualification kind form.
#[handler]
pub async fn qualification_kinds_edit(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<QualificationKindId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_manage_kinds(&viewer.actor)?;
    let kind = live_qualification_kind(&state, id).await?;
    let form = qualification_kind_form(ctx, Some(id), qualification_kind_fields(&kind));
    render_form(ctx, &state, form, false)
}

async fn live_qualification_kind(
    state: &AppState,
    id: QualificationKindId,
) -> Result<QualificationKind, WebError> {
    state
        .db(move |s| s.qualification_kind(id))
        .await?
        .filter(|k| k.deleted_at.is_none())
        .ok_or(WebError::NotFound)
}

async fn save_qualification_kind(
    ctx: &RequestCtx,
    state: &AppState,
    req: &Request,
    id: Option<QualificationKindId>,
    fields: Fields,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_manage_kinds(&viewer.actor)?;
    let invalid = |errors: FieldErrors| {
        let mut form = qualification_kind_form(ctx, id, raw_fields(&fields));
        form.errors = errors;
        render_form(ctx, state, form, true)
    };
    let patch = match qualification_kind_patch(&fields) {
        Ok(p) => p,
        Err(v) => return invalid(FieldErrors::from_violations(ctx.lang, &v)),
    };
    let now = Utc::now();
    let saved = state
        .db_raw(move |s| match id {
            None => s.create_qualification_kind(&permit, &patch, now),
            Some(id) => s.update_qualification_kind(&permit, id, &patch, now),
        })
        .await?;
    match saved {
        Ok(_) => {
            context::set_flash(req.cookie(), state, "notice", "event_kinds.flash_saved");
            Ok(redirect(ctx, "/qualification_kinds"))
        }
        Err(StoreError::Conflict { .. }) => {
            let mut errors = FieldErrors::default();
            errors.add(ctx.lang, "label", "errors.taken");
            invalid(errors)
        }
        Err(e) => Err(e.into()),
    }
}

/// POST /qualification_kinds: creates a qualification kind (redirect, or
/// the form with messages).
#[handler]
pub async fn qualification_kinds_create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    save_qualification_kind(ctx, &state, req, None, fields).await
}

/// POST /qualification_kinds/:id: saves a qualification kind (redirect,
/// or the form with messages).
#[handler]
pub async fn qualification_kinds_update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<QualificationKindId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    ctx.viewer()
        .and_then(|v| Ok(ability::permit_manage_kinds(&v.actor)?))?;
    live_qualification_kind(&state, id).await?;
    save_qualification_kind(ctx, &state, req, Some(id), fields).await
}

/// POST /qualification_kinds/:id/delete: deletes the kind, or marks it
/// deleted when in use (redirect to the list).
#[handler]
pub async fn qualification_kinds_destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<QualificationKindId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_manage_kinds(&viewer.actor)?;
    let now = Utc::now();
    let removal = state
        .db(move |s| s.delete_qualification_kind(&permit, id, now))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", removal_flash(removal));
    Ok(redirect(ctx, "/qualification_kinds"))
}

// -------------------------------------------------------------- categories

#[derive(Serialize)]
struct CategoriesView {
    rows: Vec<CategoryRow>,
    can_manage: bool,
}

#[derive(Serialize)]
struct CategoryRow {
    label: String,
    order: i32,
    edit_url: String,
    delete_url: String,
}

/// GET /event_kind_categories: the categories (page, or the table
/// fragment).
#[handler]
pub async fn categories_index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    check(ability::may_index_kinds(&viewer.actor))?;
    let categories = state.db(|s| s.event_kind_categories()).await?;
    let view = CategoriesView {
        rows: categories
            .iter()
            .map(|c| CategoryRow {
                label: c.label.clone(),
                order: c.order,
                edit_url: format!("/event_kind_categories/{}/edit", c.id),
                delete_url: format!("/event_kind_categories/{}/delete", c.id),
            })
            .collect(),
        can_manage: ability::may_manage_kinds(&viewer.actor).is_allowed(),
    };
    ctx.render(
        &state,
        "event_kinds/categories.html",
        "event_kinds/_categories_table.html",
        &view,
    )
}

fn category_form(
    ctx: &RequestCtx,
    id: Option<EventKindCategoryId>,
    fields: BTreeMap<String, String>,
) -> CatalogueForm {
    let (title, action) = match id {
        None => (
            ctx.t("event_kind_categories.new"),
            "/event_kind_categories".to_owned(),
        ),
        Some(id) => (
            ctx.t("event_kind_categories.edit"),
            format!("/event_kind_categories/{id}"),
        ),
    };
    let mut form = blank_form(
        "event-kind-category-form",
        title,
        action,
        "/event_kind_categories",
    );
    form.fields = with_keys(fields, &CATEGORY_FIELDS);
    form
}

async fn find_category(
    state: &AppState,
    id: EventKindCategoryId,
) -> Result<EventKindCategory, WebError> {
    state
        .db(|s| s.event_kind_categories())
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(WebError::NotFound)
}

/// GET /event_kind_categories/new: the new category form.
#[handler]
pub async fn categories_new(
    ctx: &RequestCtx,
    state: Data<&AppState>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_manage_kinds(&viewer.actor)?;
    let form = category_form(ctx, None, BTreeMap::new());
    render_form(ctx, &state, form, false)
}

/// GET /event_kind_categories/:id/edit: the category form.
#[handler]
pub async fn categories_edit(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<EventKindCategoryId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    ability::permit_manage_kinds(&viewer.actor)?;
    let c = find_category(&state, id).await?;
    let fields = BTreeMap::from([
        ("label".to_owned(), c.label),
        ("order".to_owned(), c.order.to_string()),
    ]);
    render_form(ctx, &state, category_form(ctx, Some(id), fields), false)
}

async fn save_category(
    ctx: &RequestCtx,
    state: &AppState,
    req: &Request,
    id: Option<EventKindCategoryId>,
    fields: Fields,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_manage_kinds(&viewer.actor)?;
    let mut v = Violations::default();
    let order = match fields.get("order") {
        None => 0,
        Some(o) => o.trim().parse::<i32>().unwrap_or_else(|_| {
            v.add("order", "errors.invalid");
            0
        }),
    };
    let patch = CategoryPatch {
        label: fields.get("label"),
        order,
    }
    .validated();
    let patch = match patch {
        Ok(p) if v.is_empty() => p,
        other => {
            if let Err(mut more) = other {
                v.0.append(&mut more.0);
            }
            let mut form = category_form(ctx, id, raw_fields(&fields));
            form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, state, form, true);
        }
    };
    state
        .db(move |s| match id {
            None => s.create_event_kind_category(&permit, &patch),
            Some(id) => s.update_event_kind_category(&permit, id, &patch),
        })
        .await?;
    context::set_flash(req.cookie(), state, "notice", "event_kinds.flash_saved");
    Ok(redirect(ctx, "/event_kind_categories"))
}

/// POST /event_kind_categories: creates a category (redirect, or form).
#[handler]
pub async fn categories_create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    save_category(ctx, &state, req, None, fields).await
}

/// POST /event_kind_categories/:id: saves a category (redirect, or form).
#[handler]
pub async fn categories_update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<EventKindCategoryId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    ctx.viewer()
        .and_then(|v| Ok(ability::permit_manage_kinds(&v.actor)?))?;
    find_category(&state, id).await?;
    save_category(ctx, &state, req, Some(id), fields).await
}

/// POST /event_kind_categories/:id/delete: deletes the category; its
/// kinds stay, without one (redirect to the list).
#[handler]
pub async fn categories_destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<EventKindCategoryId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let permit = ability::permit_manage_kinds(&viewer.actor)?;
    state
        .db(move |s| s.delete_event_kind_category(&permit, id))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", "event_kinds.flash_deleted");
    Ok(redirect(ctx, "/event_kind_categories"))
}
