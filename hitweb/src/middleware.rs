//! The small middlewares every request passes: the access log with its
//! request id, the security headers, the `Vary: HX-Request` header, the
//! request body limit and the CSRF check on unsafe methods. The request
//! context and error pages are in [`crate::context`].

use std::sync::Arc;
use std::time::Instant;

use poem::error::ReadBodyError;
use poem::http::{HeaderValue, Method, header};
use poem::web::CsrfVerifier;
use poem::{Body, Endpoint, IntoResponse, PathPattern, Request, Response};

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
pub async fn access_log<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let id = hitcore::auth::new_token()[..16].to_owned();
    let method = req.method().clone();
    req.extensions_mut().insert(RequestId(id.clone()));
    let resp = match ep.call(req).await {
        Ok(r) => r.into_response(),
        Err(e) => e.into_response(),
    };
    let route = resp
        .data::<PathPattern>()
        .map_or_else(|| "-".to_owned(), |p| p.0.to_string());
    let status = resp.status().as_u16();
    let duration_ms = started.elapsed().as_millis();
    tracing::info!(
        http.method = %method,
        http.route = %route,
        http.status = status,
        duration_ms,
        request.id = %id,
        "{method} {route} {status} in {duration_ms} ms"
    );
    Ok(resp)
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
