//! The small middlewares every request passes: the access log with its
//! request id, metrics and Sentry hub, the catching of handler panics, the
//! security headers, the `Vary: HX-Request` header, the request body limit
//! and the CSRF check on unsafe methods. The request context and error
//! pages are in [`crate::context`].

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use hitjobs::telemetry::metrics::{method_label, record_request};
use hitjobs::telemetry::sentry::capture_server_error;
use poem::error::ReadBodyError;
use poem::http::{HeaderValue, Method, header};
use poem::web::CsrfVerifier;
use poem::{Body, Endpoint, IntoResponse, PathPattern, Request, Response};
use sentry::{Hub, SentryFutureExt};

use crate::error::WebError;

/// The id of one request, shown on the 500 page and logged as `request.id`.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The form field that carries the CSRF token in plain forms.
pub const CSRF_FIELD: &str = "csrf_token";
/// The header that carries the CSRF token for HTMX (set in `layout.html`).
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// Writes one info line per request: method, matched route, status,
/// `duration_ms` and request id. No path parameters, no personal data.
///
/// It also counts the request in the HTTP metrics (by route template), runs
/// it on a Sentry hub of its own tagged with the request id, and reports a
/// 5xx answer to Sentry unless the request reported something already (a
/// panic). A panic that got this far (outside the request context) is
/// answered with a bare 500.
pub async fn access_log<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let id = hitcore::auth::new_token()[..16].to_owned();
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(id.clone()));
    let hub = request_hub(&id, method_label(method.as_str()));
    let resp = match CatchUnwind::new(ep.call(req))
        .bind_hub(Arc::clone(&hub))
        .await
    {
        Ok(Ok(r)) => r.into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => poem::Error::from(WebError::internal(HandlerPanicked)).into_response(),
    };
    // No route matched: `-` (the outer route of a nest leaves an empty
    // pattern behind).
    let route = resp
        .data::<PathPattern>()
        .map(|p| p.0.to_string())
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "-".to_owned());
    let status = resp.status().as_u16();
    let took = started.elapsed();
    record_request(method.as_str(), &route, status, took);
    // Probes ask every few seconds: their lines would drown the others, and
    // a 503 of `/readyz` during an outage is its answer, not a fault.
    let is_probe = HEALTH_ROUTES.contains(&route.as_str());
    if resp.status().is_server_error()
        && !is_probe
        && hub.client().is_some()
        && hub.last_event_id().is_none()
    {
        capture_server_error(&hub, method_label(method.as_str()), &route, status);
    }
    let duration_ms = took.as_millis();
    if is_probe {
        tracing::debug!(
            http.method = %method,
            http.route = %route,
            http.status = status,
            duration_ms,
            request.id = %id,
            "{method} {route} {status} in {duration_ms} ms"
        );
    } else {
        tracing::info!(
            http.method = %method,
            http.route = %route,
            http.status = status,
            duration_ms,
            request.id = %id,
            "{method} {route} {status} in {duration_ms} ms"
        );
    }
    Ok(resp)
}

/// The routes the access log writes at debug level only: the health
/// endpoints, which load balancers and monitors call every few seconds.
const HEALTH_ROUTES: [&str; 2] = ["/healthz", "/readyz"];

/// The Sentry hub of one request: a child of the process's, tagged with
/// the request id and method, so that whatever the request reports (a
/// panic in its handler or in a store call it made) carries them. Without
/// a Sentry client, the current hub, untouched: nothing is sent anyway.
fn request_hub(id: &str, method: &str) -> Arc<Hub> {
    let current = Hub::current();
    if current.client().is_none() {
        return current;
    }
    let hub = Arc::new(Hub::new_from_top(current));
    hub.configure_scope(|scope| {
        scope.set_tag("request.id", id);
        scope.set_tag("http.method", method);
    });
    hub
}

/// Tags the request's Sentry scope with its route template, so that a
/// panic in the handler is reported with it. Called once the route is
/// known: by the request context's extractor, inside the handler.
pub fn tag_route(route: &str) {
    let hub = Hub::current();
    if hub.client().is_some() {
        hub.configure_scope(|scope| scope.set_tag("http.route", route));
    }
}

/// Turns a panic of a handler into a 500 (`WebError::Internal`), which the
/// request context renders as the error page with the request id. The
/// panic reaches Sentry through the client's panic hook, in the request's
/// scope; a panic in a store call on the blocking pool comes back as a
/// failed task instead (see `AppState::db`).
pub async fn catch_panic<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    match CatchUnwind::new(ep.call(req)).await {
        Ok(result) => Ok(result?.into_response()),
        Err(_) => Err(WebError::internal(HandlerPanicked).into()),
    }
}

/// The error a panicking handler becomes.
#[derive(Debug, thiserror::Error)]
#[error("the handler panicked")]
struct HandlerPanicked;

/// A future that resolves to `Err` with the panic's payload when polling
/// the inner one panics. The inner future is boxed, so nothing here needs
/// pin projections; it is never polled again after a panic.
struct CatchUnwind<F> {
    inner: Pin<Box<F>>,
}

impl<F: Future> CatchUnwind<F> {
    fn new(inner: F) -> CatchUnwind<F> {
        CatchUnwind {
            inner: Box::pin(inner),
        }
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.get_mut().inner.as_mut();
        // A request's state is dropped with its future after a panic;
        // nothing it may have left half-changed is used again.
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

/// Adds `Vary: HX-Request` to every response: the same URL answers with a
/// page or a fragment, and caches must keep the two apart.
pub async fn vary_hx_request<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let mut resp = ep.call(req).await?.into_response();
    resp.headers_mut()
        .append(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(resp)
}

/// The largest request body read, in bytes (1 MiB). Our forms send a few
/// kilobytes; a bigger body would only cost memory and time to parse.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The Content-Security-Policy of every response. The pages load only our
/// own script (htmx) and stylesheet and use no inline scripts, styles or
/// event handlers, so nothing inline is allowed; `layout.html` turns off
/// the indicator styles htmx would otherwise inject.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

/// Adds the security headers to every response, error pages and assets
/// included: no framing, no MIME sniffing, the referrer only to ourselves,
/// and [`CONTENT_SECURITY_POLICY`].
pub async fn security_headers<E: Endpoint>(ep: Arc<E>, req: Request) -> poem::Result<Response> {
    let mut resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let headers = resp.headers_mut();
    for (name, value) in [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    Ok(resp)
}

/// Refuses (413) a request body over [`MAX_BODY_BYTES`] before anything
/// reads it: at once when `Content-Length` says so, else (a chunked body)
/// while reading, stopping at the limit.
pub async fn body_limit<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let declared = req
        .header(header::CONTENT_LENGTH)
        .map(|v| v.trim().parse::<u64>());
    match declared {
        Some(Ok(length)) if length > MAX_BODY_BYTES as u64 => {
            return Err(WebError::PayloadTooLarge.into());
        }
        Some(Ok(_)) => {}
        Some(Err(_)) => return Err(WebError::BadRequest.into()),
        None => {
            let body = req.take_body();
            if !body.is_empty() {
                let bytes = body
                    .into_bytes_limit(MAX_BODY_BYTES)
                    .await
                    .map_err(|e| match e {
                        ReadBodyError::PayloadTooLarge => WebError::PayloadTooLarge,
                        _ => WebError::BadRequest,
                    })?;
                req.set_body(bytes);
            }
        }
    }
    Ok(ep.call(req).await?.into_response())
}

/// Refuses (403) any POST, PUT, PATCH or DELETE whose CSRF token, from the
/// `X-CSRF-Token` header or the `csrf_token` form field, does not verify
/// against the cookie of Poem's `Csrf` middleware.
pub async fn csrf_check<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let is_unsafe = matches!(
        *req.method(),
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if !is_unsafe {
        return Ok(ep.call(req).await?.into_response());
    }
    let token = match req.header(CSRF_HEADER) {
        Some(t) => Some(t.to_owned()),
        None => token_from_form(&mut req).await?,
    };
    let is_valid = match (token, req.data::<CsrfVerifier>()) {
        (Some(t), Some(verifier)) => verifier.is_valid(&t),
        _ => false,
    };
    if !is_valid {
        tracing::warn!("Refused a request without a valid CSRF token");
        return Err(WebError::CsrfRefused.into());
    }
    Ok(ep.call(req).await?.into_response())
}

/// Reads the token from a url-encoded body and puts the body back for the
/// handler.
async fn token_from_form(req: &mut Request) -> poem::Result<Option<String>> {
    let is_form = req
        .header(header::CONTENT_TYPE)
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Ok(None);
    }
    let bytes = req.take_body().into_bytes().await?;
    let token = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == CSRF_FIELD))
        .map(|(_, v)| v);
    req.set_body(Body::from(bytes));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use poem::http::StatusCode;
    use poem::test::TestClient;
    use poem::{EndpointExt, Route, get, handler};

    use super::*;

    #[handler]
    async fn explodes() -> &'static str {
        panic!("the handler gave up")
    }

    #[tokio::test]
    async fn a_panicking_handler_is_answered_with_a_500() {
        let inner = Route::new()
            .at("/boom", get(explodes))
            .around(catch_panic)
            .around(access_log);
        let outer = Route::new().at("/boom", get(explodes)).around(access_log);

        for app in [inner.boxed(), outer.boxed()] {
            let cli = TestClient::new(app);
            cli.get("/boom")
                .send()
                .await
                .assert_status(StatusCode::INTERNAL_SERVER_ERROR);
            // The server is still there for the next request.
            cli.get("/boom")
                .send()
                .await
                .assert_status(StatusCode::INTERNAL_SERVER_ERROR);
        }
    }
}
