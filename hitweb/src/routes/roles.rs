//! `/groups/:group_id/roles/...`: giving a person a role, editing its
//! label and dates, and ending or removing it. The person page adds and
//! ends roles inline: the responses are single rows (`roles/_row.html`)
//! that HTMX appends or swaps in place.

use chrono::Utc;
use hitcore::ability::{self, RoleSubject};
use hitcore::group::Group;
use hitcore::org::RoleKind;
use hitcore::person::Person;
use hitcore::role::{NewRole, RemoveOutcome, Role, RolePatch};
use hitcore::store::StoreError;
use hitcore::validate::Violations;
use hitcore::{GroupId, PersonId, RoleId};
use poem::web::{Data, Form, Path, Query};
use poem::{IntoResponse, Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::people::load_person;
use super::{Fields, parse_date, redirect, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FieldErrors, GroupLink, OptionView, RoleRowView};

/// The role form (`roles/_form.html`, id `role-form`): inline on the
/// person page, or on its own page for new and edited roles.
#[derive(Serialize)]
pub struct RoleForm {
    pub dom_id: &'static str,
    pub title: String,
    pub action: String,
    pub is_new: bool,
    pub is_inline: bool,
    pub person_id: i64,
    pub person_name: String,
    pub group: GroupLink,
    pub role_types: Vec<OptionView>,
    pub type_label: String,
    pub label: String,
    pub start_on: String,
    pub end_on: String,
    pub errors: FieldErrors,
    pub cancel_url: String,
}

/// The new-role form for `person` in `g`, offering the role types the
/// viewer may hand out there; `None` when the group is inactive.
pub fn role_form_for_person(
    state: &AppState,
    ctx: &RequestCtx,
    viewer: &Viewer,
    g: &Group,
    person: &Person,
    is_inline: bool,
) -> Option<RoleForm> {
    if !g.is_active() {
        return None;
    }
    // The standard role is preselected, as on the new-person form, so a
    // hurried click does not hand out the first (often permission-giving)
    // type of the list.
    let standard = state
        .org
        .group_type(&g.group_type)
        .and_then(|t| t.standard_role.as_deref());
    let role_types = state
        .org
        .role_types_of(&g.group_type)
        .filter(|r| r.kind != RoleKind::Restricted)
        .filter(|r| ability::may_create_role(&viewer.actor, g, r, &viewer.tree).is_allowed())
        .map(|r| OptionView {
            value: r.key.clone(),
            label: r.labels.get(ctx.lang).to_owned(),
            is_selected: standard == Some(r.key.as_str()),
        })
        .collect();
    Some(RoleForm {
        dom_id: "role-form",
        title: format!("{} – {}", ctx.t("roles.new"), person.display_name()),
        action: format!("/groups/{}/roles", g.id),
        is_new: true,
        is_inline,
        person_id: person.id.0,
        person_name: person.display_name(),
        group: GroupLink::new(&state.org, ctx.lang, g),
        role_types,
        type_label: String::new(),
        label: String::new(),
        start_on: String::new(),
        end_on: String::new(),
        errors: FieldErrors::default(),
        cancel_url: format!("/groups/{}/people/{}", g.id, person.id),
    })
}

#[derive(Serialize)]
struct RoleFormView {
    form: RoleForm,
}

#[derive(Serialize)]
struct RowView {
    row: RoleRowView,
}

#[derive(Deserialize)]
pub struct NewRoleQuery {
    person_id: Option<PersonId>,
}

fn render_form(
    ctx: &RequestCtx,
    state: &AppState,
    form: RoleForm,
    is_invalid: bool,
) -> Result<Response, WebError> {
    let is_inline = form.is_inline;
    let mut resp = ctx.render(
        state,
        "roles/form.html",
        "roles/_form.html",
        &RoleFormView { form },
    )?;
    if is_invalid {
        resp = unprocessable(resp);
        if is_inline && ctx.htmx.is_fragment {
            // The inline form appends rows to the role list; a form with
            // messages replaces the form instead.
            resp.headers_mut().insert(
                "HX-Retarget",
                poem::http::HeaderValue::from_static("#role-form"),
            );
            resp.headers_mut().insert(
                "HX-Reswap",
                poem::http::HeaderValue::from_static("outerHTML"),
            );
        }
    }
    Ok(resp)
}

/// GET /groups/:group_id/roles/new?person_id=: the new-role form (page, or
/// the form fragment).
#[handler]
pub async fn new_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
    Query(q): Query<NewRoleQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = load_person(&state, q.person_id.ok_or(WebError::BadRequest)?).await?;
    let subject = super::people::subject(&state, viewer, &b);
    super::check(ability::person(
        &viewer.actor,
        ability::PersonAction::Show,
        &subject,
    ))?;
    let form = role_form_for_person(&state, ctx, viewer, g, &b.person, false)
        .filter(|f| !f.role_types.is_empty())
        .ok_or(WebError::Forbidden(ability::Refusal::NoPermission))?;
    render_form(ctx, &state, form, false)
}

/// POST /groups/:group_id/roles: gives a person a role (the new row for
/// the inline form, else a redirect to the person; the form again with
/// messages when invalid).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(group_id): Path<GroupId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let person_id: PersonId = fields
        .get("person_id")
        .and_then(|p| p.trim().parse().ok())
        .ok_or(WebError::BadRequest)?;
    let b = load_person(&state, person_id).await?;
    let is_inline = fields.flag("inline");
    let mut form = role_form_for_person(&state, ctx, viewer, g, &b.person, is_inline)
        .ok_or(WebError::Rule("rules.group_inactive".to_owned()))?;
    let role_key = fields.get("role_type").unwrap_or_default();
    for o in &mut form.role_types {
        o.is_selected = o.value == role_key;
    }
    form.label = fields.raw("label").unwrap_or_default().to_owned();
    form.start_on = fields.raw("start_on").unwrap_or_default().to_owned();
    form.end_on = fields.raw("end_on").unwrap_or_default().to_owned();

    let Some(role_type) = state.org.role_type(&role_key) else {
        form.errors
            .add(ctx.lang, "role_type", "errors.role_type_not_allowed");
        return render_form(ctx, &state, form, true);
    };
    let subject = super::people::subject(&state, viewer, &b);
    let permit = ability::permit_create_role(&viewer.actor, g, role_type, &subject, &viewer.tree)?;
    let mut v = Violations::default();
    let (start_on, end_on) = dates(&fields, &mut v);
    let role = NewRole {
        person_id,
        group_id: g.id,
        role_type: role_type.key.clone(),
        label: fields.get("label"),
        start_on,
        end_on,
    }
    .validated(&state.org, g, Utc::now().date_naive());
    let role = match role {
        Ok(r) if v.is_empty() => r,
        other => {
            if let Err(mut more) = other {
                v.0.append(&mut more.0);
            }
            form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, &state, form, true);
        }
    };
    let now = Utc::now();
    let created = state
        .db(move |s| s.create_role(&permit, &role, now))
        .await?;
    if is_inline && ctx.htmx.is_fragment {
        let row = RoleRowView::new(&state, viewer, ctx.lang, &b.person, &created, true)
            .ok_or(WebError::NotFound)?;
        return ctx.render_template(&state, "roles/_row.html", &RowView { row });
    }
    context::set_flash(req.cookie(), &state, "notice", "flash.role_created");
    Ok(redirect(
        ctx,
        &format!("/groups/{}/people/{}", g.id, person_id),
    ))
}

fn dates(
    fields: &Fields,
    v: &mut Violations,
) -> (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>) {
    let mut read = |name: &str| {
        parse_date(fields.raw(name)).unwrap_or_else(|_| {
            v.add(name, "errors.invalid_date");
            None
        })
    };
    (read("start_on"), read("end_on"))
}

/// The role with this id in this group, with its person: 404 otherwise.
async fn load_role(
    state: &AppState,
    group_id: GroupId,
    id: RoleId,
) -> Result<(Role, super::people::PersonBundle), WebError> {
    let role = state
        .db(move |s| s.role(id)?.ok_or(StoreError::NotFound))
        .await?;
    if role.group_id != group_id {
        return Err(WebError::NotFound);
    }
    let b = load_person(state, role.person_id).await?;
    Ok((role, b))
}

fn edit_form_of(
    state: &AppState,
    ctx: &RequestCtx,
    g: &Group,
    role: &Role,
    person: &Person,
) -> RoleForm {
    RoleForm {
        dom_id: "role-form",
        title: format!("{} – {}", ctx.t("roles.edit"), person.display_name()),
        action: format!("/groups/{}/roles/{}", g.id, role.id),
        is_new: false,
        is_inline: false,
        person_id: person.id.0,
        person_name: person.display_name(),
        group: GroupLink::new(&state.org, ctx.lang, g),
        role_types: Vec::new(),
        type_label: crate::views::role_type_label(&state.org, ctx.lang, &role.role_type),
        label: role.label.clone().unwrap_or_default(),
        start_on: role.start_on.map(|d| d.to_string()).unwrap_or_default(),
        end_on: role.end_on.map(|d| d.to_string()).unwrap_or_default(),
        errors: FieldErrors::default(),
        cancel_url: format!("/groups/{}/people/{}", g.id, person.id),
    }
}

/// The ability engine's view of a role.
fn role_subject<'a>(
    state: &'a AppState,
    g: &'a Group,
    role: &'a Role,
) -> Result<RoleSubject<'a>, WebError> {
    Ok(RoleSubject {
        role,
        group: g,
        role_type: state
            .org
            .role_type(&role.role_type)
            .ok_or(WebError::NotFound)?,
    })
}

/// GET /groups/:group_id/roles/:id/edit: the edit form (page, or the form
/// fragment).
#[handler]
pub async fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, RoleId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let (role, b) = load_role(&state, group_id, id).await?;
    let subject = role_subject(&state, g, &role)?;
    ability::permit_update_role(&viewer.actor, &subject, &viewer.tree)?;
    render_form(
        ctx,
        &state,
        edit_form_of(&state, ctx, g, &role, &b.person),
        false,
    )
}

/// POST or PATCH /groups/:group_id/roles/:id: saves label and dates
/// (redirect to the person, or the form with messages).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, RoleId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let (role, b) = load_role(&state, group_id, id).await?;
    let subject = role_subject(&state, g, &role)?;
    let permit = ability::permit_update_role(&viewer.actor, &subject, &viewer.tree)?;
    let mut v = Violations::default();
    let (start_on, end_on) = dates(&fields, &mut v);
    let patch = RolePatch {
        label: fields.get("label"),
        start_on,
        end_on,
    }
    .validated();
    let patch = match patch {
        Ok(p) if v.is_empty() => p,
        other => {
            if let Err(mut more) = other {
                v.0.append(&mut more.0);
            }
            let mut form = edit_form_of(&state, ctx, g, &role, &b.person);
            form.label = fields.raw("label").unwrap_or_default().to_owned();
            form.start_on = fields.raw("start_on").unwrap_or_default().to_owned();
            form.end_on = fields.raw("end_on").unwrap_or_default().to_owned();
            form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, &state, form, true);
        }
    };
    let now = Utc::now();
    state
        .db(move |s| s.update_role(&permit, &patch, now))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", "flash.role_updated");
    Ok(redirect(
        ctx,
        &format!("/groups/{}/people/{}", g.id, b.person.id),
    ))
}

/// DELETE /groups/:group_id/roles/:id and POST `.../delete`: ends an older
/// role or deletes a young one (the updated row, an empty body when it was
/// deleted, or a redirect for plain forms).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, RoleId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let (role, b) = load_role(&state, group_id, id).await?;
    let subject = role_subject(&state, g, &role)?;
    let permit = ability::permit_destroy_role(&viewer.actor, &subject, &viewer.tree)?;
    let now = Utc::now();
    let outcome = state
        .db(move |s| {
            let outcome = s.remove_role(&permit, now)?;
            let role = match outcome {
                RemoveOutcome::Delete => None,
                _ => s.role(id)?,
            };
            Ok((outcome, role))
        })
        .await?;
    if !ctx.htmx.is_fragment {
        let key = match outcome.0 {
            RemoveOutcome::Delete => "flash.role_deleted",
            _ => "flash.role_ended",
        };
        context::set_flash(req.cookie(), &state, "notice", key);
        return Ok(redirect(
            ctx,
            &format!("/groups/{}/people/{}", g.id, b.person.id),
        ));
    }
    match outcome.1 {
        None => Ok(poem::web::Html(String::new()).into_response()),
        Some(ended) => {
            let row = RoleRowView::new(&state, viewer, ctx.lang, &b.person, &ended, true)
                .ok_or(WebError::NotFound)?;
            ctx.render_template(&state, "roles/_row.html", &RowView { row })
        }
    }
}
