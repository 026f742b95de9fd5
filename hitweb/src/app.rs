//! Every route and middleware of the web server, on one screen.

use poem::middleware::Csrf;
use poem::web::cookie::SameSite;
use poem::{Endpoint, EndpointExt, Response, Route, get, post};

use crate::config::Config;
use crate::routes::{
    application_market, dev_mails, event_kinds, events, groups, health, home, jobs, language,
    mailing_lists, participant_exports, participations, passwords, people, pictures,
    qualifications, roles, search, users,
};
use crate::state::AppState;
use crate::{assets, context, middleware};

/// The whole application: routes, then (inside out) the CSRF check and
/// the request body limit (for all routes but the picture upload), the
/// catching of handler panics, the request context with error pages,
/// Poem's CSRF token machinery, `Vary: HX-Request`, the security headers,
/// the access log (with the metrics and the Sentry hub) and the shared
/// state. The assets and the health endpoints sit outside the
/// session and CSRF layers: they set no cookie and need no account.
pub fn app(state: AppState) -> impl Endpoint<Output = Response> {
    let pages = Route::new()
        .at("/", get(home::show))
        .at(
            "/users/sign_in",
            get(users::sign_in_form).post(users::sign_in),
        )
        .at("/users/sign_out", post(users::sign_out))
        .at("/language", post(language::update))
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
        // Events and courses.
        .at(
            "/groups/:group_id/events",
            get(events::index).post(events::create),
        )
        .at("/groups/:group_id/events.ics", get(events::calendar))
        .at("/groups/:group_id/events/new", get(events::new_form))
        .at(
            "/groups/:group_id/events/:event_id",
            get(events::show).post(events::update),
        )
        .at(
            "/groups/:group_id/events/:event_id/edit",
            get(events::edit_form),
        )
        .at(
            "/groups/:group_id/events/:event_id/attachments/:attachment_id",
            get(events::download),
        )
        .at(
            "/groups/:group_id/events/:event_id/attachments/:attachment_id/delete",
            post(events::remove_attachment),
        )
        .at(
            "/groups/:group_id/events/:event_id/delete",
            post(events::destroy),
        )
        .at(
            "/groups/:group_id/events/:event_id/questions",
            post(events::add_question),
        )
        .at(
            "/groups/:group_id/events/:event_id/questions/:question_id/delete",
            post(events::remove_question),
        )
        // Event kinds, qualification kinds, qualifications.
        .at(
            "/event_kinds",
            get(event_kinds::index).post(event_kinds::create),
        )
        .at("/event_kinds/new", get(event_kinds::new_form))
        .at("/event_kinds/:id", post(event_kinds::update))
        .at("/event_kinds/:id/edit", get(event_kinds::edit_form))
        .at("/event_kinds/:id/delete", post(event_kinds::destroy))
        .at(
            "/qualification_kinds",
            get(event_kinds::qualification_kinds_index)
                .post(event_kinds::qualification_kinds_create),
        )
        .at(
            "/qualification_kinds/new",
            get(event_kinds::qualification_kinds_new),
        )
        .at(
            "/qualification_kinds/:id",
            post(event_kinds::qualification_kinds_update),
        )
        .at(
            "/qualification_kinds/:id/edit",
            get(event_kinds::qualification_kinds_edit),
        )
        .at(
            "/qualification_kinds/:id/delete",
            post(event_kinds::qualification_kinds_destroy),
        )
        .at(
            "/event_kind_categories",
            get(event_kinds::categories_index).post(event_kinds::categories_create),
        )
        .at(
            "/event_kind_categories/new",
            get(event_kinds::categories_new),
        )
        .at(
            "/event_kind_categories/:id",
            post(event_kinds::categories_update),
        )
        .at(
            "/event_kind_categories/:id/edit",
            get(event_kinds::categories_edit),
        )
        .at(
            "/event_kind_categories/:id/delete",
            post(event_kinds::categories_destroy),
        )
        .at(
            "/groups/:group_id/events/:event_id/qualifications",
            get(qualifications::index),
        )
        .at(
            "/groups/:group_id/events/:event_id/qualifications/:participation_id",
            post(qualifications::create),
        )
        .at(
            "/groups/:group_id/events/:event_id/qualifications/:participation_id/delete",
            post(qualifications::destroy),
        )
        .at("/list_events", get(events::list_events))
        .at("/list_courses", get(events::list_courses))
        // Participations and the application market.
        .at(
            "/groups/:group_id/events/:event_id/participations",
            get(participations::index).post(participations::create),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/export",
            post(participant_exports::create),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/new",
            get(participations::new_form),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/:id",
            get(participations::show),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/:id/cancel",
            post(participations::cancel),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/:id/approve",
            post(participations::approve),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/:id/reject",
            post(participations::reject),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/:id/roles",
            post(participations::add_role),
        )
        .at(
            "/groups/:group_id/events/:event_id/participations/:id/roles/:role_id/delete",
            post(participations::remove_role),
        )
        .at(
            "/groups/:group_id/events/:event_id/application_market",
            get(application_market::index),
        )
        .at(
            "/groups/:group_id/events/:event_id/application_market/:participation_id/add",
            post(application_market::add),
        )
        .at(
            "/groups/:group_id/events/:event_id/application_market/:participation_id/remove",
            post(application_market::remove),
        )
        .at(
            "/groups/:group_id/events/:event_id/application_market/:participation_id/waiting_list",
            post(application_market::waiting_list),
        )
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
            "/mailing_lists/:id/event_subscriptions",
            post(mailing_lists::add_event_subscription),
        )
        .at(
            "/mailing_lists/:id/event_subscriptions/:subscription_id/delete",
            post(mailing_lists::remove_event_subscription),
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
        // Multipart like the picture: checks its size and token itself.
        .at(
            "/groups/:group_id/events/:event_id/attachments",
            post(events::upload),
        )
        .nest("/", pages)
        .around(middleware::catch_panic)
        .around(context::middleware);

    let csrf = Csrf::new()
        .cookie_name("hit_csrf")
        .secure(state.config.secure_cookies)
        .same_site(SameSite::Lax)
        .key(csrf_key(&state.config));
    Route::new()
        .at("/assets/*path", get(assets::show))
        .at("/healthz", get(health::live))
        .at("/readyz", get(health::ready))
        .nest("/", pages.with(csrf))
        .around(middleware::vary_hx_request)
        .around(middleware::security_headers)
        .around(middleware::access_log)
        .data(state)
}

/// The key of Poem's CSRF cookies: derived from `HIT_SECRET_KEY`, so
/// that every web process of a deployment accepts the tokens of the
/// others; unset, a random key per process, with a warning on PostgreSQL
/// (production, where several processes run behind one proxy) and none on
/// SQLite (development, one process).
fn csrf_key(config: &Config) -> [u8; 32] {
    if let Some(key) = &config.secret_key {
        return key.derive("hitweb csrf");
    }
    if config.database_url.starts_with("postgres") {
        tracing::warn!(
            "HIT_SECRET_KEY is not set: CSRF tokens are valid only in this process; \
             set it (the same on every web process) to run more than one"
        );
    }
    crate::config::key_from_hex(&hitcore::auth::new_token())
}
