//! `/groups/...`: a group's page with its subgroups and the navigable
//! tree, creating and editing groups, soft delete and archive.

use chrono::Utc;
use hitcore::GroupId;
use hitcore::ability::{self, GroupAction};
use hitcore::group::{self, Address, Group, GroupPatch, GroupTree};
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::{Fields, check, redirect, see_other, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FieldErrors, GroupLink, group_type_label};

#[derive(Serialize)]
struct GroupDetails {
    id: i64,
    name: String,
    short_name: Option<String>,
    type_label: String,
    layer: GroupLink,
    email: Option<String>,
    description: Option<String>,
    address_lines: Vec<String>,
    is_archived: bool,
}

#[derive(Serialize)]
struct ChildLink {
    label: String,
    url: String,
}

#[derive(Serialize)]
struct GroupShowView {
    group: GroupDetails,
    breadcrumbs: Vec<GroupLink>,
    subgroups: Vec<GroupLink>,
    tree: TreeView,
    people_url: Option<String>,
    can_edit: bool,
    edit_url: String,
    can_move: bool,
    move_url: String,
    can_delete: bool,
    delete_url: String,
    can_archive: bool,
    archive_url: String,
    new_children: Vec<ChildLink>,
    can_add_person: bool,
    new_person_url: String,
}

/// The navigable group tree (`groups/_tree.html`).
#[derive(Serialize)]
pub struct TreeView {
    /// The whole tree from the root (the root list gets the fragment id),
    /// or the lazily loaded children of one node.
    is_root: bool,
    nodes: Vec<TreeNode>,
}

#[derive(Serialize)]
struct TreeNode {
    id: i64,
    name: String,
    url: String,
    is_current: bool,
    is_open: bool,
    has_children: bool,
    children_url: String,
    children: Vec<TreeNode>,
}

/// GET /groups/:id: details, subgroups and tree (page only).
#[handler]
pub fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    check(ability::group(
        &viewer.actor,
        GroupAction::Show,
        g,
        &viewer.tree,
    ))?;
    let view = show_view(&state, viewer, ctx.lang, g);
    ctx.render_template(&state, "groups/show.html", &view)
}

fn show_view(state: &AppState, viewer: &Viewer, lang: &str, g: &Group) -> GroupShowView {
    let (actor, tree, org) = (&viewer.actor, &*viewer.tree, &*state.org);
    let allowed = |action| ability::group(actor, action, g, tree).is_allowed();
    let layer = tree.layer_of(g.id).unwrap_or(g);
    let existing: Vec<&str> = tree.children(g.id).map(|c| c.group_type.as_str()).collect();
    let new_children = org
        .group_type(&g.group_type)
        .map(|t| t.children.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| org.group_type(c))
        // A static-name type exists at most once per parent.
        .filter(|c| !(c.is_static_name && existing.contains(&c.key.as_str())))
        .filter(|c| ability::may_create_group(actor, g, c.is_layer, tree).is_allowed())
        .map(|c| ChildLink {
            label: c.labels.get(lang).to_owned(),
            url: format!("/groups/{}/groups/new?type={}", g.id, c.key),
        })
        .collect();
    let can_add_person = g.is_active()
        && org
            .role_types_of(&g.group_type)
            .any(|r| ability::may_create_role(actor, g, r, tree).is_allowed());
    GroupShowView {
        group: GroupDetails {
            id: g.id.0,
            name: g.name.clone(),
            short_name: g.short_name.clone(),
            type_label: group_type_label(org, lang, &g.group_type),
            layer: GroupLink::new(org, lang, layer),
            email: g.email.clone(),
            description: g.description.clone(),
            address_lines: address_lines(&g.address),
            is_archived: g.is_archived(),
        },
        breadcrumbs: tree
            .hierarchy(g.id)
            .into_iter()
            .map(|a| GroupLink::new(org, lang, a))
            .collect(),
        subgroups: tree
            .children(g.id)
            .map(|c| GroupLink::new(org, lang, c))
            .collect(),
        tree: tree_view(tree, g),
        people_url: ability::people_list(actor, g, tree)
            .map(|_| format!("/groups/{}/people", g.id)),
        can_edit: ability::permit_update_group(actor, g, tree).is_ok(),
        edit_url: format!("/groups/{}/edit", g.id),
        can_move: g.parent_id.is_some() && allowed(GroupAction::Update),
        move_url: format!("/groups/{}/move", g.id),
        can_delete: allowed(GroupAction::Destroy),
        delete_url: format!("/groups/{}", g.id),
        can_archive: !g.is_archived() && allowed(GroupAction::Archive),
        archive_url: format!("/groups/{}/archive", g.id),
        new_children,
        can_add_person,
        new_person_url: format!("/groups/{}/people/new", g.id),
    }
}

fn address_lines(a: &Address) -> Vec<String> {
    let town = [a.zip_code.as_deref(), a.town.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    [
        a.address_care_of.clone(),
        a.street_line(),
        a.postbox.clone(),
        Some(town).filter(|t| !t.is_empty()),
        a.country.clone(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The tree from the root, open along the path to `current` (so the
/// ancestors and their other children show), closed elsewhere.
fn tree_view(tree: &GroupTree, current: &Group) -> TreeView {
    let nodes = tree
        .root()
        .map(|root| vec![tree_node(tree, root, current)])
        .unwrap_or_default();
    TreeView {
        is_root: true,
        nodes,
    }
}

fn tree_node(tree: &GroupTree, g: &Group, current: &Group) -> TreeNode {
    let is_open = current.path.contains(&g.id);
    let children: Vec<&Group> = tree.children(g.id).collect();
    TreeNode {
        id: g.id.0,
        name: g.display_name().to_owned(),
        url: format!("/groups/{}", g.id),
        is_current: g.id == current.id,
        is_open,
        has_children: !children.is_empty(),
        children_url: format!("/groups/{}/tree", g.id),
        children: if is_open {
            children
                .into_iter()
                .map(|c| tree_node(tree, c, current))
                .collect()
        } else {
            Vec::new()
        },
    }
}

#[derive(Serialize)]
struct TreeFragmentView {
    tree: TreeView,
}

/// GET /groups/:id/tree: the children of one tree node (fragment; a plain
/// request is sent to the group page).
#[handler]
pub fn subtree(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    check(ability::group(
        &viewer.actor,
        GroupAction::Show,
        g,
        &viewer.tree,
    ))?;
    if !ctx.htmx.is_fragment {
        return Ok(see_other(&format!("/groups/{id}")));
    }
    let nodes = viewer
        .tree
        .children(g.id)
        .map(|c| tree_node(&viewer.tree, c, g))
        .collect();
    let view = TreeFragmentView {
        tree: TreeView {
            is_root: false,
            nodes,
        },
    };
    ctx.render_template(&state, "groups/_tree.html", &view)
}

/// The group form's values, as strings the inputs show.
#[derive(Default, Serialize)]
struct GroupFields {
    name: String,
    short_name: String,
    email: String,
    description: String,
    address_care_of: String,
    street: String,
    housenumber: String,
    postbox: String,
    zip_code: String,
    town: String,
    country: String,
}

impl GroupFields {
    fn of(g: &Group) -> GroupFields {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        GroupFields {
            name: g.name.clone(),
            short_name: s(&g.short_name),
            email: s(&g.email),
            description: s(&g.description),
            address_care_of: s(&g.address.address_care_of),
            street: s(&g.address.street),
            housenumber: s(&g.address.housenumber),
            postbox: s(&g.address.postbox),
            zip_code: s(&g.address.zip_code),
            town: s(&g.address.town),
            country: s(&g.address.country),
        }
    }

    fn from_form(f: &Fields) -> GroupFields {
        let s = |n: &str| f.raw(n).unwrap_or_default().to_owned();
        GroupFields {
            name: s("name"),
            short_name: s("short_name"),
            email: s("email"),
            description: s("description"),
            address_care_of: s("address_care_of"),
            street: s("street"),
            housenumber: s("housenumber"),
            postbox: s("postbox"),
            zip_code: s("zip_code"),
            town: s("town"),
            country: s("country"),
        }
    }
}

fn patch_from(f: &Fields) -> GroupPatch {
    GroupPatch {
        name: f.get("name"),
        short_name: f.get("short_name"),
        email: f.get("email"),
        description: f.get("description"),
        address: Address {
            address_care_of: f.get("address_care_of"),
            street: f.get("street"),
            housenumber: f.get("housenumber"),
            postbox: f.get("postbox"),
            zip_code: f.get("zip_code"),
            town: f.get("town"),
            country: f.get("country"),
        },
    }
}

#[derive(Serialize)]
struct GroupForm {
    title: String,
    action: String,
    is_new: bool,
    parent_id: Option<i64>,
    group_type: String,
    type_label: String,
    is_static_name: bool,
    fields: GroupFields,
    errors: FieldErrors,
    cancel_url: String,
}

#[derive(Serialize)]
struct GroupFormView {
    form: GroupForm,
}

fn render_form(
    ctx: &RequestCtx,
    state: &AppState,
    form: GroupForm,
    is_invalid: bool,
) -> Result<Response, WebError> {
    let resp = ctx.render(
        state,
        "groups/form.html",
        "groups/_form.html",
        &GroupFormView { form },
    )?;
    Ok(if is_invalid {
        unprocessable(resp)
    } else {
        resp
    })
}

fn edit_form_of(ctx: &RequestCtx, state: &AppState, g: &Group, fields: GroupFields) -> GroupForm {
    GroupForm {
        title: format!("{} – {}", ctx.t("groups.edit"), g.display_name()),
        action: format!("/groups/{}", g.id),
        is_new: false,
        parent_id: None,
        group_type: g.group_type.clone(),
        type_label: group_type_label(&state.org, ctx.lang, &g.group_type),
        is_static_name: is_static(state, &g.group_type),
        fields,
        errors: FieldErrors::default(),
        cancel_url: format!("/groups/{}", g.id),
    }
}

fn is_static(state: &AppState, group_type: &str) -> bool {
    state
        .org
        .group_type(group_type)
        .is_some_and(|t| t.is_static_name)
}

/// GET /groups/:id/edit: the edit form (page, or the form fragment).
#[handler]
pub fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    ability::permit_update_group(&viewer.actor, g, &viewer.tree)?;
    let form = edit_form_of(ctx, &state, g, GroupFields::of(g));
    render_form(ctx, &state, form, false)
}

/// POST or PATCH /groups/:id: saves the fields (redirect, or the form
/// again with messages).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<GroupId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    let permit = ability::permit_update_group(&viewer.actor, g, &viewer.tree)?;
    let patch = match patch_from(&fields).validated(is_static(&state, &g.group_type)) {
        Ok(p) => p,
        Err(v) => {
            let mut form = edit_form_of(ctx, &state, g, GroupFields::from_form(&fields));
            form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, &state, form, true);
        }
    };
    let now = Utc::now();
    state
        .db(move |s| s.update_group(&permit, &patch, now))
        .await?;
    context::set_flash(req.cookie(), &state, "notice", "flash.group_updated");
    Ok(redirect(ctx, &format!("/groups/{id}")))
}

#[derive(Deserialize)]
pub struct NewGroupQuery {
    #[serde(rename = "type")]
    group_type: Option<String>,
    parent_id: Option<GroupId>,
}

/// The parent and child type of a new group, checked against the
/// definition (an unknown or disallowed type is a 400) and the ability
/// engine (403).
fn new_group_target<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
    parent_id: Option<GroupId>,
    group_type: Option<&str>,
) -> Result<(&'a Group, &'a hitcore::org::GroupType), WebError> {
    let parent = visible_group(viewer, parent_id.ok_or(WebError::BadRequest)?)?;
    let child = group_type
        .and_then(|t| state.org.group_type(t))
        .filter(|t| state.org.is_child_allowed(&parent.group_type, &t.key))
        .ok_or(WebError::BadRequest)?;
    check(ability::may_create_group(
        &viewer.actor,
        parent,
        child.is_layer,
        &viewer.tree,
    ))?;
    Ok((parent, child))
}

fn new_form_of(
    ctx: &RequestCtx,
    parent: &Group,
    child: &hitcore::org::GroupType,
    fields: GroupFields,
) -> GroupForm {
    GroupForm {
        title: format!("{} – {}", ctx.t("groups.new"), child.labels.get(ctx.lang)),
        action: "/groups".to_owned(),
        is_new: true,
        parent_id: Some(parent.id.0),
        group_type: child.key.clone(),
        type_label: child.labels.get(ctx.lang).to_owned(),
        is_static_name: child.is_static_name,
        fields,
        errors: FieldErrors::default(),
        cancel_url: format!("/groups/{}", parent.id),
    }
}

/// GET /groups/:id/groups/new?type=X: the form for a new subgroup (page,
/// or the form fragment).
#[handler]
pub fn new_child_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<GroupId>,
    Query(q): Query<NewGroupQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let (parent, child) = new_group_target(&state, viewer, Some(id), q.group_type.as_deref())?;
    render_form(
        ctx,
        &state,
        new_form_of(ctx, parent, child, GroupFields::default()),
        false,
    )
}

/// GET /groups/new?parent_id=&type=: the same form, addressed by query.
#[handler]
pub fn new_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Query(q): Query<NewGroupQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let (parent, child) = new_group_target(&state, viewer, q.parent_id, q.group_type.as_deref())?;
    render_form(
        ctx,
        &state,
        new_form_of(ctx, parent, child, GroupFields::default()),
        false,
    )
}

/// POST /groups: creates a group with its default children (redirect to
/// it, or the form again with messages).
#[handler]
pub async fn create(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let parent_id = fields.get("parent_id").and_then(|p| p.trim().parse().ok());
    let type_key = fields.get("type");
    let (parent, child) = new_group_target(&state, viewer, parent_id, type_key.as_deref())?;
    let permit = ability::permit_create_group(&viewer.actor, parent, child.is_layer, &viewer.tree)?;
    let patch = match patch_from(&fields).validated(child.is_static_name) {
        Ok(p) => p,
        Err(v) => {
            let mut form = new_form_of(ctx, parent, child, GroupFields::from_form(&fields));
            form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, &state, form, true);
        }
    };
    let siblings: Vec<String> = viewer
        .tree
        .children(parent.id)
        .map(|c| c.group_type.clone())
        .collect();
    let plan = group::plan_create(&state.org, parent, &siblings, &child.key, patch)?;
    let now = Utc::now();
    let created = state
        .db(move |s| s.create_groups(&permit, &plan, now))
        .await?;
    let first = created.first().ok_or(WebError::NotFound)?;
    context::set_flash(req.cookie(), &state, "notice", "flash.group_created");
    Ok(redirect(ctx, &format!("/groups/{}", first.id)))
}

/// DELETE /groups/:id and POST /groups/:id/delete: soft-deletes a group
/// without subgroups (redirect to the parent; a refusal explains itself).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    let has_children = viewer.tree.children(g.id).next().is_some();
    group::check_destroy(g, has_children)?;
    let permit = ability::permit_destroy_group(&viewer.actor, g, &viewer.tree)?;
    let parent = g.parent_id;
    let now = Utc::now();
    state.db(move |s| s.delete_group(&permit, now)).await?;
    context::set_flash(req.cookie(), &state, "notice", "flash.group_deleted");
    let target = parent.map_or_else(|| "/".to_owned(), |p| format!("/groups/{p}"));
    Ok(redirect(ctx, &target))
}

/// POST /groups/:id/archive: archives a group without subgroups (redirect
/// to it; a refusal explains itself).
#[handler]
pub async fn archive(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    let has_children = viewer.tree.children(g.id).next().is_some();
    group::check_archive(g, has_children)?;
    let permit = ability::permit_archive_group(&viewer.actor, g, &viewer.tree)?;
    let now = Utc::now();
    state.db(move |s| s.archive_group(&permit, now)).await?;
    context::set_flash(req.cookie(), &state, "notice", "flash.group_archived");
    Ok(redirect(ctx, &format!("/groups/{id}")))
}

#[derive(Serialize)]
struct MoveTarget {
    id: i64,
    label: String,
}

#[derive(Serialize)]
struct MoveView {
    group: GroupLink,
    action: String,
    targets: Vec<MoveTarget>,
    error: Option<String>,
    cancel_url: String,
}

/// Where `g` may move, as hitobito offers it: the non-deleted ancestors
/// and their children whose type allows `g`'s type, without `g`'s own
/// subtree and its current parent, and only where the actor may create it.
fn move_targets<'a>(state: &AppState, viewer: &'a Viewer, g: &Group) -> Vec<&'a Group> {
    let tree = &*viewer.tree;
    let mut targets: Vec<&Group> = Vec::new();
    for ancestor in tree.hierarchy(g.id).into_iter().filter(|a| a.id != g.id) {
        let candidates = std::iter::once(ancestor).chain(tree.children(ancestor.id));
        for c in candidates {
            let siblings: Vec<String> = tree.children(c.id).map(|s| s.group_type.clone()).collect();
            let fits = group::check_move(&state.org, g, c).is_ok()
                && group::check_static_name_free(&state.org, &g.group_type, &siblings).is_ok()
                && ability::permit_move_group(&viewer.actor, g, c, tree).is_ok();
            if fits && !targets.iter().any(|t| t.id == c.id) {
                targets.push(c);
            }
        }
    }
    targets
}

fn move_view(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    g: &Group,
    error: Option<String>,
) -> MoveView {
    let lang = ctx.lang;
    let targets = move_targets(state, viewer, g)
        .into_iter()
        .map(|t| MoveTarget {
            id: t.id.0,
            label: format!(
                "{} ({})",
                t.display_name(),
                group_type_label(&state.org, lang, &t.group_type)
            ),
        })
        .collect();
    MoveView {
        group: GroupLink::new(&state.org, lang, g),
        action: format!("/groups/{}/move", g.id),
        targets,
        error,
        cancel_url: format!("/groups/{}", g.id),
    }
}

/// GET /groups/:id/move: the form to move a group below another parent
/// (page, or the form fragment).
#[handler]
pub fn move_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    check(ability::group(
        &viewer.actor,
        GroupAction::Update,
        g,
        &viewer.tree,
    ))?;
    let view = move_view(ctx, &state, viewer, g, None);
    ctx.render(&state, "groups/move.html", "groups/_move_form.html", &view)
}

/// POST /groups/:id/move: moves the group and its subtree below
/// `target_id` (redirect to it, or the form again with the reason).
#[handler]
pub async fn move_group(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<GroupId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    check(ability::group(
        &viewer.actor,
        GroupAction::Update,
        g,
        &viewer.tree,
    ))?;
    let target_id: Option<GroupId> = fields.get("target_id").and_then(|t| t.trim().parse().ok());
    let Some(target) = target_id
        .and_then(|t| viewer.tree.get(t))
        .filter(|t| !t.is_deleted())
    else {
        let view = move_view(
            ctx,
            &state,
            viewer,
            g,
            Some(ctx.t("groups.move_pick_target")),
        );
        let resp = ctx.render(&state, "groups/move.html", "groups/_move_form.html", &view)?;
        return Ok(unprocessable(resp));
    };
    group::check_move(&state.org, g, target)?;
    let permit = ability::permit_move_group(&viewer.actor, g, target, &viewer.tree)?;
    let now = Utc::now();
    state.db(move |s| s.move_group(&permit, now)).await?;
    context::set_flash(req.cookie(), &state, "notice", "flash.group_moved");
    Ok(redirect(ctx, &format!("/groups/{id}")))
}
