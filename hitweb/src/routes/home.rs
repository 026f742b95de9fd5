//! `/` and `/people/:id`: the signed-in person's start page, and the short
//! link to a person that leads to their primary group's person page.

use hitcore::PersonId;
use hitcore::ability::{self, PersonAction, PersonSubject};
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde::Serialize;

use super::{check, see_other};
use crate::context::{self, RequestCtx};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::RoleRowView;

#[derive(Serialize)]
struct HomeView {
    name: String,
    email: Option<String>,
    profile_url: String,
    roles: Vec<RoleRowView>,
}

/// GET /: own profile summary and own roles (page only).
#[handler]
pub fn show(ctx: &RequestCtx, state: Data<&AppState>) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let person = &viewer.person;
    let today = chrono::Utc::now().date_naive();
    let roles = viewer
        .roles
        .iter()
        .filter(|r| r.is_active(today))
        .filter_map(|r| RoleRowView::new(&state, viewer, ctx.lang, person, r, true))
        .collect();
    let view = HomeView {
        name: person.display_name(),
        email: person.email.clone(),
        profile_url: format!("/people/{}", person.id),
        roles,
    };
    ctx.render_template(&state, "home.html", &view)
}

/// GET /people/:id: redirects to the person's page in their primary group
/// (else the group of their first role). Only for viewers who may see the
/// person: the redirect tells that the id exists and where the person
/// belongs, so an unknown id is a 404 and a refusal a 403.
#[handler]
pub async fn person_link(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<PersonId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let found = state
        .db(move |s| {
            let Some(p) = s.person(id)? else {
                return Ok(None);
            };
            let roles = s.roles_of_person(id)?;
            Ok(Some((p, roles)))
        })
        .await?;
    let (person, roles) = found.ok_or(WebError::NotFound)?;
    let subject = PersonSubject::new(
        &person,
        context::is_root(&state, &person),
        &roles,
        &viewer.tree,
        &state.org,
        chrono::Utc::now().date_naive(),
    );
    check(ability::person(&viewer.actor, PersonAction::Show, &subject))?;

    let is_visible = |g: hitcore::GroupId| viewer.tree.get(g).is_some_and(|g| !g.is_deleted());
    let group = person
        .primary_group_id
        .filter(|g| is_visible(*g))
        .or_else(|| roles.iter().map(|r| r.group_id).find(|g| is_visible(*g)))
        .ok_or(WebError::NotFound)?;
    Ok(see_other(&format!("/groups/{group}/people/{}", person.id)))
}
