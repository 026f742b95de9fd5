//! What each page request knows about itself: the signed-in person (from
//! the session cookie), the language, the CSRF token, whether HTMX asked
//! for a fragment, and the flash message. The middleware here builds it
//! before any handler runs, and turns every error a handler returns into
//! the matching error page or fragment.

use std::sync::Arc;

use chrono::Utc;
use hitcore::ability::Actor;
use hitcore::auth::token_hash;
use hitcore::cache::read;
use hitcore::group::GroupTree;
use hitcore::person::Person;
use hitcore::role::Role;
use hitcore::store::Stamps;
use poem::error::{MethodNotAllowedError, NotFoundError, ParsePathError};
use poem::http::{StatusCode, header};
use poem::web::cookie::{Cookie, CookieJar, SameSite};
use poem::web::{CsrfToken, Html};
use poem::{Endpoint, FromRequest, IntoResponse, PathPattern, Request, RequestBody, Response};

use crate::error::WebError;
use crate::i18n;
use crate::middleware::RequestId;
use crate::state::AppState;
use crate::views::{ErrorView, PageMeta};

/// The session cookie: a random token whose SHA-256 the database keeps.
pub const SESSION_COOKIE: &str = "hit_session";
/// A one-shot message key shown on the next page.
pub const FLASH_COOKIE: &str = "hit_flash";
/// The language a visitor picked with the switcher in the layout
/// (`routes::language`); it wins over `Accept-Language`.
pub const LANGUAGE_COOKIE: &str = "hit_lang";

/// How HTMX asked for this request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Htmx {
    /// `HX-Request: true` was sent.
    pub is_request: bool,
    /// An HTMX request that wants only the fragment: not boosted and not a
    /// history restore (those need the whole page).
    pub is_fragment: bool,
}

impl Htmx {
    fn from_request(req: &Request) -> Htmx {
        let flag = |name: &str| req.header(name).is_some_and(|v| v == "true");
        let is_request = flag("HX-Request");
        Htmx {
            is_request,
            is_fragment: is_request && !flag("HX-Boosted") && !flag("HX-History-Restore-Request"),
        }
    }
}

/// The signed-in person with everything the ability engine needs.
pub struct Viewer {
    pub person: Person,
    pub roles: Vec<Role>,
    pub actor: Actor,
    /// The whole group tree, shared by the requests until it changes.
    pub tree: Arc<GroupTree>,
    /// The cache stamps as the request found them, for the keys of what
    /// it reads through the cache (before any write it makes itself).
    pub stamps: Stamps,
    /// The hash of the session token, to end the session on sign-out.
    pub session_hash: String,
}

/// A flash message: its kind (`notice`, `alert`) and text key.
#[derive(Clone, Debug)]
pub struct Flash {
    pub kind: String,
    pub key: String,
}

/// Everything a handler knows about the request besides its input.
pub struct RequestCtx {
    pub request_id: String,
    pub lang: &'static str,
    pub csrf_token: String,
    pub htmx: Htmx,
    pub viewer: Option<Arc<Viewer>>,
    pub flash: Option<Flash>,
}

impl RequestCtx {
    /// The signed-in person, or the redirect to the sign-in page.
    ///
    /// # Errors
    /// [`WebError::SignInRequired`] for anonymous requests.
    pub fn viewer(&self) -> Result<&Viewer, WebError> {
        self.viewer.as_deref().ok_or(WebError::SignInRequired)
    }

    /// The data every page's layout needs.
    pub fn page(&self, state: &AppState) -> PageMeta {
        PageMeta::new(self, state)
    }

    /// Renders a page template, or only its fragment for HTMX requests.
    ///
    /// # Errors
    /// A template error (a 500).
    pub fn render<V: serde::Serialize>(
        &self,
        state: &AppState,
        page_template: &str,
        fragment_template: &str,
        view: &V,
    ) -> Result<Response, WebError> {
        let name = if self.htmx.is_fragment {
            fragment_template
        } else {
            page_template
        };
        self.render_template(state, name, view)
    }

    /// Renders one template, page or fragment.
    ///
    /// # Errors
    /// A template error (a 500).
    pub fn render_template<V: serde::Serialize>(
        &self,
        state: &AppState,
        name: &str,
        view: &V,
    ) -> Result<Response, WebError> {
        let html = state.templates.render(name, &self.page(state), view)?;
        Ok(Html(html).into_response())
    }

    /// The text for `key` in the request's language.
    pub fn t(&self, key: &str) -> String {
        i18n::text(self.lang, key)
    }
}

impl<'a> FromRequest<'a> for &'a RequestCtx {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        // Here, inside the handler, the route is known: a panic from now on
        // reaches Sentry with it.
        if let Some(pattern) = req.data::<PathPattern>() {
            crate::middleware::tag_route(&pattern.0);
        }
        req.data::<Arc<RequestCtx>>()
            .map(|c| &**c)
            .ok_or_else(|| WebError::internal(MissingContext).into())
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the request context middleware is not installed")]
struct MissingContext;

/// Sets a cookie the way all of ours are set: path `/`, HttpOnly,
/// SameSite=Lax, Secure when configured.
pub fn set_cookie(jar: &CookieJar, state: &AppState, name: &str, value: &str) {
    let mut cookie = Cookie::new_with_str(name, value);
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.config.secure_cookies);
    jar.add(cookie);
}

/// Expires a cookie set by [`set_cookie`].
pub fn expire_cookie(jar: &CookieJar, state: &AppState, name: &str) {
    let mut cookie = Cookie::new_with_str(name, "");
    cookie.set_path("/");
    cookie.set_http_only(true);
    cookie.set_same_site(SameSite::Lax);
    cookie.set_secure(state.config.secure_cookies);
    cookie.set_max_age(std::time::Duration::ZERO);
    jar.add(cookie);
}

/// Shows `key` as a message of `kind` on the next page.
pub fn set_flash(jar: &CookieJar, state: &AppState, kind: &str, key: &str) {
    set_cookie(jar, state, FLASH_COOKIE, &format!("{kind}:{key}"));
}

/// The middleware: builds the [`RequestCtx`], runs the handler, renders
/// errors.
pub async fn middleware<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let Some(state) = req.data::<AppState>().cloned() else {
        return Err(WebError::internal(MissingContext).into());
    };
    let ctx = match build(&state, &req).await {
        Ok(ctx) => Arc::new(ctx),
        Err(e) => {
            let ctx = anonymous(&state, &req);
            return Ok(error_response(&state, &ctx, e.into()));
        }
    };
    if ctx.flash.is_some() {
        expire_cookie(req.cookie(), &state, FLASH_COOKIE);
    }
    req.extensions_mut().insert(Arc::clone(&ctx));
    match ep.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(e) => Ok(error_response(&state, &ctx, e)),
    }
}

fn anonymous(state: &AppState, req: &Request) -> RequestCtx {
    RequestCtx {
        request_id: req
            .data::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        lang: i18n::for_visitor(
            chosen_language(state, req).as_deref(),
            req.header(header::ACCEPT_LANGUAGE),
            state.org.default_language(),
        ),
        csrf_token: req
            .data::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default(),
        htmx: Htmx::from_request(req),
        viewer: None,
        flash: read_flash(req),
    }
}

/// The language of the switcher's cookie, if the organisation offers it.
fn chosen_language(state: &AppState, req: &Request) -> Option<String> {
    let cookie = req.cookie().get(LANGUAGE_COOKIE)?;
    let value = cookie.value_str();
    state
        .org
        .languages
        .iter()
        .find(|l| l.as_str() == value)
        .cloned()
}

async fn build(state: &AppState, req: &Request) -> Result<RequestCtx, WebError> {
    let mut ctx = anonymous(state, req);
    if let Some(token) = req.cookie().get(SESSION_COOKIE) {
        let viewer = load_viewer(state, token_hash(token.value_str())).await?;
        if viewer.is_none() {
            expire_cookie(req.cookie(), state, SESSION_COOKIE);
        }
        ctx.viewer = viewer.map(Arc::new);
    }
    if let Some(lang) = ctx
        .viewer
        .as_ref()
        .and_then(|v| i18n::for_person(&v.person.language))
    {
        ctx.lang = lang;
    }
    Ok(ctx)
}

/// The person behind a session token hash, with roles, tree and actor:
/// one store call that reads the session, the person and the cache stamps,
/// then the roles and the tree from the cache (two more calls when it has
/// neither). The actor is built for today on each request, since roles end
/// by date without any write.
async fn load_viewer(state: &AppState, hash: String) -> Result<Option<Viewer>, WebError> {
    let now = Utc::now();
    let (cache, memo) = (Arc::clone(&state.cache), Arc::clone(&state.tree));
    let found = state
        .db(move |s| {
            let Some(signed_in) = s.signed_in(&hash, now)? else {
                return Ok(None);
            };
            let (person, stamps) = (signed_in.person, signed_in.stamps);
            let roles = read::roles_of_person(&*cache, s, person.id, &stamps)?;
            let tree = memo.tree(&*cache, s, &stamps)?;
            Ok(Some((person, roles, tree, stamps, hash)))
        })
        .await?;
    Ok(found.map(|(person, roles, tree, stamps, session_hash)| {
        let is_root = is_root(state, &person);
        let actor = Actor::new(
            person.id,
            is_root,
            &roles,
            &tree,
            &state.org,
            now.date_naive(),
        );
        Viewer {
            person,
            roles,
            actor,
            tree,
            stamps,
            session_hash,
        }
    }))
}

/// Whether `person` is the root user (`HIT_ROOT_EMAIL`).
pub fn is_root(state: &AppState, person: &Person) -> bool {
    match (&state.config.root_email, &person.email) {
        (Some(root), Some(email)) => root.eq_ignore_ascii_case(email),
        _ => false,
    }
}

fn read_flash(req: &Request) -> Option<Flash> {
    let cookie = req.cookie().get(FLASH_COOKIE)?;
    let value = cookie.value_str();
    let (kind, key) = value.split_once(':')?;
    // Only our own keys: letters, digits, dots and underscores.
    let is_key = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
    };
    (is_key(kind) && is_key(key)).then(|| Flash {
        kind: kind.to_owned(),
        key: key.to_owned(),
    })
}

/// Turns any error into the page (or the HTMX fragment) that explains it.
fn error_response(state: &AppState, ctx: &RequestCtx, err: poem::Error) -> Response {
    let pattern = err.data::<PathPattern>().cloned();
    let web = classify(err);
    let mut resp = match &web {
        WebError::SignInRequired => sign_in_redirect(ctx),
        _ => render_error(state, ctx, &web),
    };
    if let Some(p) = pattern {
        resp.set_data(p);
    }
    resp
}

fn classify(err: poem::Error) -> WebError {
    if err.is::<WebError>() {
        return err
            .downcast::<WebError>()
            .unwrap_or_else(|_| WebError::BadRequest);
    }
    if err.is::<NotFoundError>() || err.is::<ParsePathError>() {
        return WebError::NotFound;
    }
    if err.is::<MethodNotAllowedError>() {
        return WebError::NotFound;
    }
    match err.status() {
        StatusCode::NOT_FOUND => WebError::NotFound,
        s if s.is_client_error() => WebError::BadRequest,
        _ => WebError::Internal(err.into()),
    }
}

fn sign_in_redirect(ctx: &RequestCtx) -> Response {
    if ctx.htmx.is_request {
        Response::builder()
            .header("HX-Redirect", "/users/sign_in")
            .status(StatusCode::UNAUTHORIZED)
            .finish()
    } else {
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/users/sign_in")
            .finish()
    }
}

fn render_error(state: &AppState, ctx: &RequestCtx, err: &WebError) -> Response {
    use poem::error::ResponseError;

    let status = err.status();
    match err {
        WebError::Internal(source) => tracing::error!(
            request.id = %ctx.request_id,
            error = %error_chain(source.as_ref()),
            "Request {} failed", ctx.request_id
        ),
        // Degraded, not broken: the pool reconnects once the server is
        // back, so nobody has to act unless it lasts.
        WebError::Unavailable(source) => tracing::warn!(
            request.id = %ctx.request_id,
            error = %error_chain(source.as_ref()),
            "Request {} failed: the database is not reachable", ctx.request_id
        ),
        _ => {}
    }
    let template = match (ctx.htmx.is_fragment, status) {
        (true, _) => "errors/_inline.html",
        (false, StatusCode::NOT_FOUND) => "errors/404.html",
        (false, s) if s.is_server_error() => "errors/500.html",
        (false, _) => "errors/403.html",
    };
    let view = ErrorView::new(ctx, err, status);
    let mut resp = match state.templates.render(template, &ctx.page(state), &view) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(request.id = %ctx.request_id, error = %e, "Error page failed to render");
            (
                status,
                format!("Error {} (request {})", status.as_u16(), ctx.request_id),
            )
                .into_response()
        }
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            crate::error::RETRY_AFTER_SECONDS.into(),
        );
    }
    resp
}

/// An error and its sources in one line, for the log only.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}
