//! The one error type of the web tier, [`WebError`], and how each kind maps
//! to a status. The pages for it are rendered by [`crate::context`], which
//! knows the request (language, HTMX or not); here is only the mapping.

use hitcore::ability::Refusal;
use hitcore::group::GroupRuleError;
use hitcore::store::StoreError;
use poem::error::ResponseError;
use poem::http::StatusCode;

/// Why a request could not be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebError {
    /// The record does not exist, or the viewer may not know it exists.
    #[error("not found")]
    NotFound,
    /// The ability engine refused the action.
    #[error("forbidden: {0:?}")]
    Forbidden(Refusal),
    /// The page needs a signed-in person.
    #[error("sign-in required")]
    SignInRequired,
    /// The CSRF token was missing or did not verify.
    #[error("CSRF token missing or invalid")]
    CsrfRefused,
    /// A domain rule refused the change; the key explains it to people.
    #[error("refused by rule: {0}")]
    Rule(String),
    /// The request itself is malformed (an unknown type, a bad parameter).
    #[error("bad request")]
    BadRequest,
    /// The request body is over [`crate::middleware::MAX_BODY_BYTES`].
    #[error("request body too large")]
    PayloadTooLarge,
    /// The database cannot be reached right now (a 503 with
    /// `Retry-After`); logged once as a warning, the cause never shown.
    #[error("database unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else; logged once with the request id, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The seconds a client is asked to wait after a 503 (`Retry-After`):
/// about as long as the store waits for a connection before it gives up.
pub const RETRY_AFTER_SECONDS: u32 = 5;

impl WebError {
    /// A 404.
    pub fn not_found() -> WebError {
        WebError::NotFound
    }

    /// A 500 wrapping `e`.
    pub fn internal(e: impl std::error::Error + Send + Sync + 'static) -> WebError {
        WebError::Internal(Box::new(e))
    }

    /// The translation key of the text shown to people.
    pub fn message_key(&self) -> String {
        match self {
            WebError::NotFound => "errors.not_found_text".to_owned(),
            WebError::Forbidden(r) => refusal_key(r).to_owned(),
            WebError::SignInRequired => "errors.sign_in_required".to_owned(),
            WebError::CsrfRefused => "errors.csrf".to_owned(),
            WebError::Rule(key) => key.clone(),
            WebError::BadRequest => "errors.bad_request".to_owned(),
            WebError::PayloadTooLarge => "errors.too_large_text".to_owned(),
            WebError::Unavailable(_) => "errors.unavailable_text".to_owned(),
            WebError::Internal(_) => "errors.internal_text".to_owned(),
        }
    }
}

/// The translation key explaining a refusal in plain words.
pub fn refusal_key(r: &Refusal) -> &'static str {
    match r {
        Refusal::NoPermission => "refusals.no_permission",
        Refusal::RootEmail => "refusals.root_email",
        Refusal::OwnPermissionRole => "refusals.own_permission_role",
        Refusal::GroupInactive => "refusals.group_inactive",
        Refusal::RestrictedRole => "refusals.restricted_role",
        Refusal::NotOnSelf => "refusals.not_on_self",
        Refusal::NotTerminatable => "refusals.not_terminatable",
        Refusal::ApplicationClosed => "participations.period_closed",
        Refusal::EventFull => "participations.full",
        _ => "refusals.no_permission",
    }
}

/// The translation key explaining a group rule.
pub fn group_rule_key(e: &GroupRuleError) -> &'static str {
    match e {
        GroupRuleError::TypeNotAllowed { .. } => "rules.type_not_allowed",
        GroupRuleError::StaticNameTaken { .. } => "rules.static_name_taken",
        GroupRuleError::RootGroup => "rules.root_group",
        GroupRuleError::HasChildren(_) => "rules.has_children",
        GroupRuleError::AlreadyArchived(_) => "rules.already_archived",
        GroupRuleError::Inactive(_) => "rules.group_inactive",
        _ => "rules.refused",
    }
}

impl ResponseError for WebError {
    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound => StatusCode::NOT_FOUND,
            WebError::Forbidden(_) | WebError::CsrfRefused => StatusCode::FORBIDDEN,
            WebError::SignInRequired => StatusCode::SEE_OTHER,
            WebError::Rule(_) => StatusCode::CONFLICT,
            WebError::BadRequest => StatusCode::BAD_REQUEST,
            WebError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for WebError {
    fn from(e: StoreError) -> WebError {
        match e {
            StoreError::NotFound => WebError::NotFound,
            StoreError::Conflict { .. } => WebError::Rule("errors.conflict".to_owned()),
            StoreError::Rule(_) => WebError::Rule("rules.refused".to_owned()),
            StoreError::Unavailable(source) => WebError::Unavailable(source),
            other => WebError::internal(other),
        }
    }
}

impl From<Refusal> for WebError {
    fn from(r: Refusal) -> WebError {
        WebError::Forbidden(r)
    }
}

impl From<GroupRuleError> for WebError {
    fn from(e: GroupRuleError) -> WebError {
        WebError::Rule(group_rule_key(&e).to_owned())
    }
}

impl From<minijinja::Error> for WebError {
    fn from(e: minijinja::Error) -> WebError {
        WebError::internal(e)
    }
}
