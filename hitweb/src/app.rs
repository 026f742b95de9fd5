//! Every route and middleware of the web server, on one screen.

use poem::middleware::Csrf;
use poem::web::cookie::SameSite;
use poem::{Endpoint, EndpointExt, Response, Route, get, post};

use crate::routes::{
    dev_mails, groups, home, jobs, mailing_lists, passwords, people, pictures, roles, search, users,
};
use crate::state::AppState;
use crate::{assets, context, middleware};

/// The whole application: routes, then (inside out) the CSRF check and
/// the request body limit (for all routes but the picture upload), the
/// request context with error pages, Poem's CSRF token machinery,
/// `Vary: HX-Request`, the security headers, the access log and the
/// shared state.
pub fn app(state: AppState) -> impl Endpoint<Output = Response> {
    let pages = Route::new()
        .at("/", get(home::show))
        .at(
            "/users/sign_in",
            get(users::sign_in_form).post(users::sign_in),
        )
        .at("/users/sign_out", post(users::sign_out))
        .at("/users/password", post(passwords::create))
        .at("/users/password/new", get(passwords::new_form))
        .at(
            "/users/password/edit",
            get(passwords::edit_form).post(passwords::update),
        )
        .at("/users/edit", get(users::edit).post(users::update))
        .at("/people/:id", get(home::person_link))
        .at("/people/:id/picture", get(pictures::show))
        .at("/full", get(search::index))
        .at("/dev/mails", get(dev_mails::index))
        .at("/dev/mails/:id", get(dev_mails::show))
        .at("/job_observations", get(jobs::index))
        .at("/job_observations/:id", get(jobs::show))
        .at("/job_observations/:id/download", get(jobs::download))
        .at("/job_observations/:id/retry", post(jobs::retry))
        .at("/job_observations/:id/delete", post(jobs::destroy))
        .at("/groups", post(groups::create))
        .at("/groups/new", get(groups::new_form))
        .at(
            "/groups/:group_id",
            get(groups::show)
                .post(groups::update)
                .patch(groups::update)
                .delete(groups::destroy),
        )
        .at("/groups/:group_id/edit", get(groups::edit_form))
        .at("/groups/:group_id/delete", post(groups::destroy))
        .at("/groups/:group_id/archive", post(groups::archive))
        .at(
            "/groups/:group_id/move",
            get(groups::move_form).post(groups::move_group),
        )
        .at("/groups/:group_id/tree", get(groups::subtree))
        .at("/groups/:group_id/groups/new", get(groups::new_child_form))
        .at(
            "/groups/:group_id/people",
            get(people::index).post(people::create),
        )
        .at("/groups/:group_id/people/new", get(people::new_form))
        .at("/groups/:group_id/people/export", post(people::export))
        .at(
            "/groups/:group_id/people/:id",
            get(people::show).post(people::update).patch(people::update),
        )
        .at("/groups/:group_id/people/:id/edit", get(people::edit_form))
        .at(
            "/groups/:group_id/people/:id/additional_emails",
            post(people::add_email),
        )
        .at(
            "/groups/:group_id/people/:id/phone_numbers",
            post(people::add_phone),
        )
        .at(
            "/groups/:group_id/people/:id/contacts/:contact_id",
            poem::delete(people::remove_contact),
        )
        .at(
            "/groups/:group_id/people/:id/contacts/:contact_id/delete",
            post(people::remove_contact),
        )
        .at(
            "/groups/:group_id/people/:id/picture/delete",
            post(pictures::destroy),
        )
        .at(
            "/groups/:group_id/people/:id/send_login",
            post(passwords::send_login),
        )
        .at(
            "/groups/:group_id/mailing_lists",
            get(mailing_lists::index).post(mailing_lists::create),
        )
        .at(
            "/groups/:group_id/mailing_lists/new",
            get(mailing_lists::new_form),
        )
        .at(
            "/mailing_lists/:id",
            get(mailing_lists::show)
                .post(mailing_lists::update)
                .patch(mailing_lists::update)
                .delete(mailing_lists::destroy),
        )
        .at("/mailing_lists/:id/edit", get(mailing_lists::edit_form))
        .at("/mailing_lists/:id/delete", post(mailing_lists::destroy))
        .at(
            "/mailing_lists/:id/subscriptions",
            post(mailing_lists::add_subscription),
        )
        .at(
            "/mailing_lists/:id/subscriptions/:subscription_id/delete",
            post(mailing_lists::remove_subscription),
        )
        .at(
            "/mailing_lists/:id/subscribe",
            post(mailing_lists::subscribe),
        )
        .at(
            "/mailing_lists/:id/unsubscribe",
            post(mailing_lists::unsubscribe),
        )
        .at("/groups/:group_id/roles", post(roles::create))
        .at("/groups/:group_id/roles/new", get(roles::new_form))
        .at(
            "/groups/:group_id/roles/:id",
            post(roles::update)
                .patch(roles::update)
                .delete(roles::destroy),
        )
        .at("/groups/:group_id/roles/:id/edit", get(roles::edit_form))
        .at("/groups/:group_id/roles/:id/delete", post(roles::destroy))
        .around(middleware::csrf_check)
        .around(middleware::body_limit);
    // The picture upload is a multipart body of up to 10 MiB: it checks
    // its size and its CSRF token itself (see `pictures::upload`), so it
    // sits beside the routes above, outside their limit and check.
    let pages = Route::new()
        .at(
            "/groups/:group_id/people/:id/picture",
            post(pictures::upload),
        )
        .nest("/", pages)
        .around(context::middleware);

    let csrf = Csrf::new()
        .cookie_name("hit_csrf")
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .key(csrf_key());
    Route::new()
        .at("/assets/*path", get(assets::show))
        .nest("/", pages.with(csrf))
        .around(middleware::vary_hx_request)
        .around(middleware::security_headers)
        .around(middleware::access_log)
        .data(state)
}

/// A random key per process for Poem's CSRF cookies.
///
/// Limitations: several web processes behind one proxy would each refuse
/// the others' tokens; they would need a shared key from the configuration.
fn csrf_key() -> [u8; 32] {
    let hex = hitcore::auth::new_token();
    let mut key = [0u8; 32];
    for (i, byte) in key.iter_mut().enumerate() {
        *byte = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .unwrap_or_default();
    }
    key
}
