//! `/groups/:group_id/people/...`: a group's people list (filtered as you
//! type, paginated), a person's page with exactly the fields the viewer may
//! see, and the forms to create and edit people and their contact
//! accounts.

use chrono::Utc;
use hitcore::ability::{self, ListRange, PersonAction, PersonSubject};
use hitcore::export::ExportFormat;
use hitcore::group::{Address, Group};
use hitcore::jobs::NewJob;
use hitcore::org::RoleKind;
use hitcore::person::{
    AdditionalEmail, ContactInput, EMAIL_LABELS, PHONE_LABELS, Person, PersonPatch, PhoneNumber,
};
use hitcore::picture::{PictureError, PictureRef};
use hitcore::role::{NewRole, Role};
use hitcore::store::{ListedPerson, Page as ListPage, PeopleQuery, StoreError};
use hitcore::validate::Violations;
use hitcore::{ContactId, GroupId, PersonId};
use hitjobs::jobs::PeopleExport;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::{Deserialize, Serialize};

use super::pictures::PictureView;
use super::roles::{RoleForm, role_form_for_person};
use super::{Fields, check, parse_date, redirect, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FieldErrors, GroupLink, OptionView, RoleRowView, format_date};

/// People per list page.
pub const PER_PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    role_type: Option<String>,
    kind: Option<String>,
    range: Option<String>,
    /// Read leniently: blank or not a number is page 1, past the end is
    /// the last page.
    page: Option<String>,
}

#[derive(Serialize)]
struct PeopleIndexView {
    group: GroupLink,
    filters: FiltersView,
    table: PeopleTableView,
    can_add_person: bool,
    new_person_url: String,
}

#[derive(Serialize)]
struct FiltersView {
    action_url: String,
    q: String,
    kinds: Vec<OptionView>,
    ranges: Vec<OptionView>,
    role_types: Vec<OptionView>,
}

#[derive(Serialize)]
struct PeopleTableView {
    rows: Vec<PersonRowView>,
    total: u64,
    pagination: PaginationView,
    export: ExportView,
}

/// The export form under the list, carrying the list's current filters
/// (it is part of the table fragment, so it follows every filter change).
#[derive(Serialize)]
struct ExportView {
    url: String,
    q: String,
    kind: &'static str,
    range: &'static str,
    role_type: String,
    formats: Vec<OptionView>,
}

impl ExportView {
    fn new(ctx: &RequestCtx, g: &Group, p: &ListParams) -> ExportView {
        let formats = [
            (ExportFormat::Csv, "people.export_csv"),
            (ExportFormat::CsvPlain, "people.export_csv_plain"),
            (ExportFormat::Xlsx, "people.export_xlsx"),
            (ExportFormat::Vcard, "people.export_vcard"),
        ];
        ExportView {
            url: format!("/groups/{}/people/export", g.id),
            q: p.text.clone().unwrap_or_default(),
            kind: p.kind.as_str(),
            range: p.range.as_str(),
            role_type: p.role_type.clone().unwrap_or_default(),
            formats: formats
                .into_iter()
                .map(|(f, key)| OptionView {
                    value: f.as_str().to_owned(),
                    label: ctx.t(key),
                    is_selected: f == ExportFormat::Csv,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct PersonRowView {
    id: i64,
    name: String,
    url: String,
    email: Option<String>,
    town: Option<String>,
    roles: Vec<RoleRowView>,
}

/// The page links under a list (`shared/_pagination.html`).
#[derive(Serialize)]
pub struct PaginationView {
    page: u32,
    pages: u32,
    prev_url: Option<String>,
    next_url: Option<String>,
}

/// The checked list parameters.
#[derive(Clone)]
struct ListParams {
    kind: RoleKind,
    range: ListRange,
    role_type: Option<String>,
    text: Option<String>,
    page: u32,
}

/// GET /groups/:id/people: the people list (page, or the table fragment
/// for HTMX filtering). A bounded number of store calls: the viewer's four
/// plus one for the list, however many people it has.
#[handler]
pub async fn index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<GroupId>,
    Query(q): Query<ListQuery>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    // Asked before the parameters are read, so that a viewer who may not
    // list the group learns nothing from a 400.
    if ability::people_list(&viewer.actor, g, &viewer.tree).is_none() {
        return Err(WebError::Forbidden(ability::Refusal::NoPermission));
    }
    let params = list_params(&state, &q)?;
    let query = people_query(viewer, &state, g, &params)?;
    let page = list_page(&state, query).await?;

    let shows_group = params.range != ListRange::Group;
    let rows = page
        .items
        .iter()
        .map(|lp| PersonRowView {
            id: lp.person.id.0,
            name: lp.person.display_name(),
            url: format!("/groups/{}/people/{}", g.id, lp.person.id),
            email: lp.person.email.clone(),
            town: lp.person.address.town.clone(),
            roles: lp
                .roles
                .iter()
                .filter_map(|r| {
                    RoleRowView::new(&state, viewer, ctx.lang, &lp.person, r, shows_group)
                })
                .collect(),
        })
        .collect();
    let base = format!("/groups/{}/people", g.id);
    let view = PeopleIndexView {
        group: GroupLink::with_layer(&state.org, ctx.lang, g, &viewer.tree),
        filters: filters_view(&state, ctx, viewer, g, &params, &base),
        table: PeopleTableView {
            rows,
            total: page.total,
            pagination: pagination(&base, &q, page.page, page.pages()),
            export: ExportView::new(ctx, g, &params),
        },
        can_add_person: g.is_active() && creatable_role_types(&state, viewer, g).next().is_some(),
        new_person_url: format!("/groups/{}/people/new", g.id),
    };
    ctx.render(&state, "people/index.html", "people/_table.html", &view)
}

/// The export form's fields: the list's filters, and the format.
#[derive(Debug, Default, Deserialize)]
pub struct ExportForm {
    q: Option<String>,
    role_type: Option<String>,
    kind: Option<String>,
    range: Option<String>,
    format: Option<String>,
}

/// POST /groups/:id/people/export: starts an export of the list as it is
/// filtered, as a job, and sends the requester to the job page, where the
/// file appears once it is written. The permission is checked here, and
/// again by the job when it runs.
#[handler]
pub async fn export(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<GroupId>,
    Form(form): Form<ExportForm>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, id)?;
    if ability::people_list(&viewer.actor, g, &viewer.tree).is_none() {
        return Err(WebError::Forbidden(ability::Refusal::NoPermission));
    }
    let format = form
        .format
        .as_deref()
        .map_or(Some(ExportFormat::Csv), ExportFormat::parse)
        .ok_or(WebError::BadRequest)?;
    let q = ListQuery {
        q: form.q,
        role_type: form.role_type,
        kind: form.kind,
        range: form.range,
        page: None,
    };
    let params = list_params(&state, &q)?;
    // Refused here when the viewer may not list this range.
    people_query(viewer, &state, g, &params)?;
    let payload = PeopleExport {
        group_id: g.id,
        range: params.range,
        kind: params.kind,
        role_type: params.role_type,
        text: params.text,
        format,
        lang: ctx.lang.to_owned(),
    };
    let now = Utc::now();
    let job = NewJob::of(&payload, now)
        .map_err(WebError::internal)?
        .by(viewer.person.id);
    state.db(move |s| s.enqueue(&job, now)).await?;
    context::set_flash(req.cookie(), &state, "notice", "jobs.export_started");
    Ok(redirect(ctx, "/job_observations"))
}

/// One page of the list; a page past the end is answered with the last
/// one (a second store call only then), so the count and the rows agree.
async fn list_page(
    state: &AppState,
    query: PeopleQuery,
) -> Result<ListPage<ListedPerson>, WebError> {
    let requested = query.page;
    let mut last = query.clone();
    let page = state.db(move |s| s.people_list(&query)).await?;
    if !page.items.is_empty() || requested <= page.pages() {
        return Ok(page);
    }
    last.page = page.pages();
    state.db(move |s| s.people_list(&last)).await
}

/// The page number of `?page=`: 1 when blank, not a number or below 1;
/// a number too large for a page is the last page (see [`list_page`]).
fn page_number(value: Option<&str>) -> u32 {
    let Some(digits) = value
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    else {
        return 1;
    };
    digits.parse::<u32>().map_or(u32::MAX, |n| n.max(1))
}

/// The checked parameters. Without an explicit `kind`, a role type filter
/// stands alone (its own kind shows as selected); with one, the two
/// filters intersect, so `kind=passive&role_type=<an active type>` lists
/// nobody.
fn list_params(state: &AppState, q: &ListQuery) -> Result<ListParams, WebError> {
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        None => None,
        Some("member") => Some(RoleKind::Member),
        Some("passive") => Some(RoleKind::Passive),
        Some("external") => Some(RoleKind::External),
        Some(_) => return Err(WebError::BadRequest),
    };
    let range = match q.range.as_deref().filter(|r| !r.is_empty()) {
        None => ListRange::Group,
        Some(r) => ListRange::parse(r).ok_or(WebError::BadRequest)?,
    };
    let role_type = q.role_type.clone().filter(|r| !r.is_empty());
    let role_kind = match role_type.as_deref() {
        Some(r) => Some(state.org.role_type(r).ok_or(WebError::BadRequest)?.kind),
        None => None,
    };
    Ok(ListParams {
        kind: kind.or(role_kind).unwrap_or(RoleKind::Member),
        range,
        role_type,
        text: q
            .q
            .clone()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        page: page_number(q.page.as_deref()),
    })
}

/// The store query for the list, as [`ability::people_list_query`]
/// decides it (the export job builds its query there too).
fn people_query(
    viewer: &Viewer,
    state: &AppState,
    g: &Group,
    p: &ListParams,
) -> Result<PeopleQuery, WebError> {
    let request = ability::ListRequest {
        group: g,
        range: p.range,
        kind: p.kind,
        role_type: p.role_type.as_deref(),
        text: p.text.as_deref(),
        today: Utc::now().date_naive(),
        page: p.page,
        per_page: PER_PAGE,
    };
    ability::people_list_query(&viewer.actor, &viewer.tree, &state.org, &request)
        .map_err(WebError::Forbidden)
}

fn filters_view(
    state: &AppState,
    ctx: &RequestCtx,
    viewer: &Viewer,
    g: &Group,
    p: &ListParams,
    base: &str,
) -> FiltersView {
    let kinds = [
        (RoleKind::Member, "member"),
        (RoleKind::Passive, "passive"),
        (RoleKind::External, "external"),
    ]
    .into_iter()
    .map(|(k, v)| OptionView {
        value: v.to_owned(),
        label: ctx.t(&format!("people.kind_{v}")),
        is_selected: k == p.kind,
    })
    .collect();
    // Offered are the ranges the list query allows.
    let ranges = [ListRange::Group, ListRange::Layer, ListRange::Deep]
        .into_iter()
        .filter(|&range| {
            let p = ListParams { range, ..p.clone() };
            people_query(viewer, state, g, &p).is_ok()
        })
        .map(|r| OptionView {
            value: r.as_str().to_owned(),
            label: ctx.t(&format!("people.range_{}", r.as_str())),
            is_selected: r == p.range,
        })
        .collect();
    let role_types: Vec<&hitcore::org::RoleType> = if p.range == ListRange::Group {
        state.org.role_types_of(&g.group_type).collect()
    } else {
        state.org.role_types().iter().collect()
    };
    let role_types = role_types
        .into_iter()
        .map(|r| OptionView {
            value: r.key.clone(),
            label: r.labels.get(ctx.lang).to_owned(),
            is_selected: p.role_type.as_deref() == Some(r.key.as_str()),
        })
        .collect();
    FiltersView {
        action_url: base.to_owned(),
        q: p.text.clone().unwrap_or_default(),
        kinds,
        ranges,
        role_types,
    }
}

fn pagination(base: &str, q: &ListQuery, page: u32, pages: u32) -> PaginationView {
    let url = |n: u32| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (k, v) in [
            ("q", &q.q),
            ("role_type", &q.role_type),
            ("kind", &q.kind),
            ("range", &q.range),
        ] {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                pairs.push((k, v.clone()));
            }
        }
        pairs.push(("page", n.to_string()));
        let qs = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{base}?{qs}")
    };
    PaginationView {
        page,
        pages,
        prev_url: (page > 1).then(|| url(page - 1)),
        next_url: (page < pages).then(|| url(page + 1)),
    }
}

/// Role types of `g` the viewer may hand out there.
fn creatable_role_types<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
    g: &'a Group,
) -> impl Iterator<Item = &'a hitcore::org::RoleType> {
    state
        .org
        .role_types_of(&g.group_type)
        .filter(|r| r.kind != RoleKind::Restricted)
        .filter(move |r| ability::may_create_role(&viewer.actor, g, r, &viewer.tree).is_allowed())
}

/// A person with their roles and contact accounts, loaded in one go.
pub struct PersonBundle {
    pub person: Person,
    pub roles: Vec<Role>,
    pub emails: Vec<AdditionalEmail>,
    pub phones: Vec<PhoneNumber>,
    pub picture: Option<PictureRef>,
}

/// Loads a person and everything the person pages show (five store calls).
///
/// # Errors
/// 404 for an unknown id.
pub async fn load_person(state: &AppState, id: PersonId) -> Result<PersonBundle, WebError> {
    state
        .db(move |s| {
            let person = s.person(id)?.ok_or(StoreError::NotFound)?;
            Ok(PersonBundle {
                roles: s.roles_of_person(id)?,
                emails: s.additional_emails(id)?,
                phones: s.phone_numbers(id)?,
                picture: s.person_picture(id)?,
                person,
            })
        })
        .await
}

/// The ability engine's view of `b`.
pub fn subject<'a>(
    state: &'a AppState,
    viewer: &'a Viewer,
    b: &'a PersonBundle,
) -> PersonSubject<'a> {
    PersonSubject::new(
        &b.person,
        context::is_root(state, &b.person),
        &b.roles,
        &viewer.tree,
        &state.org,
        Utc::now().date_naive(),
    )
}

#[derive(Serialize)]
struct ContactView {
    id: i64,
    dom_id: String,
    value: String,
    label: String,
    is_public: bool,
    remove_url: String,
}

#[derive(Serialize)]
struct PersonDetails {
    id: i64,
    name: String,
    email: Option<String>,
    address_lines: Vec<String>,
    birthday: Option<String>,
    gender: Option<String>,
    language: Option<String>,
    additional_information: Option<String>,
    emails: Vec<ContactView>,
    phones: Vec<ContactView>,
}

#[derive(Serialize)]
struct PersonShowView {
    group: GroupLink,
    person: PersonDetails,
    shows_details: bool,
    shows_all_roles: bool,
    roles: Vec<RoleRowView>,
    can_edit: bool,
    edit_url: String,
    role_form: Option<RoleForm>,
    picture: PictureView,
    /// Where "Send login" posts to, when the viewer may send one.
    send_login_url: Option<String>,
    /// Qualifications and event history, for viewers of the details.
    sections: Option<super::qualifications::PersonSections>,
}

/// GET /groups/:group_id/people/:id: the person's page, with exactly the
/// fields the viewer may see (page only).
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = load_person(&state, id).await?;
    let subject = subject(&state, viewer, &b);
    check(ability::person(&viewer.actor, PersonAction::Show, &subject))?;
    let may = |a| ability::person(&viewer.actor, a, &subject).is_allowed();
    let (shows_details, shows_all_roles) =
        (may(PersonAction::ShowDetails), may(PersonAction::ShowFull));

    let base = |g: GroupId| format!("/groups/{g}/people/{}", b.person.id);
    let contacts = |public_only: bool| -> (Vec<ContactView>, Vec<ContactView>) {
        let emails = b
            .emails
            .iter()
            .filter(|e| e.is_public || !public_only)
            .map(|e| email_view(&base(g.id), e))
            .collect();
        let phones = b
            .phones
            .iter()
            .filter(|p| p.is_public || !public_only)
            .map(|p| phone_view(&base(g.id), p))
            .collect();
        (emails, phones)
    };
    let (emails, phones) = contacts(!shows_details);
    let p = &b.person;
    let details = |v: Option<String>| v.filter(|_| shows_details);
    let person = PersonDetails {
        id: p.id.0,
        name: p.display_name(),
        email: p.email.clone(),
        address_lines: if shows_details {
            person_address(&p.address)
        } else {
            Vec::new()
        },
        birthday: details(p.birthday.map(|d| format_date(ctx.lang, d))),
        gender: details(
            p.gender
                .as_ref()
                .map(|gd| ctx.t(&format!("people.gender_{gd}"))),
        ),
        language: details(Some(p.language.clone())),
        additional_information: details(p.additional_information.clone()),
        emails,
        phones,
    };
    let roles = b
        .roles
        .iter()
        .filter(|r| shows_all_roles || r.group_id == g.id)
        .filter_map(|r| RoleRowView::new(&state, viewer, ctx.lang, p, r, true))
        .collect();
    let role_form = role_form_for_person(&state, ctx, viewer, g, p, true);
    let can_edit = ability::permit_update_person(&viewer.actor, &subject).is_ok();
    let sections = super::qualifications::person_sections(ctx, &state, p.id, shows_details).await?;
    let view = PersonShowView {
        group: GroupLink::with_layer(&state.org, ctx.lang, g, &viewer.tree),
        person,
        shows_details,
        shows_all_roles,
        roles,
        can_edit,
        edit_url: format!("{}/edit", base(g.id)),
        role_form: role_form.filter(|f| !f.role_types.is_empty()),
        picture: PictureView::new(ctx, g.id, p, b.picture.as_ref(), can_edit, None),
        send_login_url: super::passwords::send_login_url(viewer, &subject, p, g.id),
        sections,
    };
    ctx.render_template(&state, "people/show.html", &view)
}

fn person_address(a: &Address) -> Vec<String> {
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

fn email_view(base: &str, e: &AdditionalEmail) -> ContactView {
    ContactView {
        id: e.id.0,
        dom_id: format!("contact-{}", e.id),
        value: e.email.clone(),
        label: e.label.clone(),
        is_public: e.is_public,
        remove_url: format!("{base}/contacts/{}", e.id),
    }
}

fn phone_view(base: &str, p: &PhoneNumber) -> ContactView {
    ContactView {
        id: p.id.0,
        dom_id: format!("contact-{}", p.id),
        value: p.number.clone(),
        label: p.label.clone(),
        is_public: p.is_public,
        remove_url: format!("{base}/contacts/{}", p.id),
    }
}

/// The person form's values, as strings the inputs show.
#[derive(Default, Serialize)]
struct PersonFields {
    first_name: String,
    last_name: String,
    nickname: String,
    company_name: String,
    is_company: bool,
    email: String,
    address_care_of: String,
    street: String,
    housenumber: String,
    postbox: String,
    zip_code: String,
    town: String,
    country: String,
    gender: String,
    birthday: String,
    language: String,
    additional_information: String,
    role_type: String,
    role_label: String,
}

impl PersonFields {
    fn of(p: &Person) -> PersonFields {
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        PersonFields {
            first_name: s(&p.first_name),
            last_name: s(&p.last_name),
            nickname: s(&p.nickname),
            company_name: s(&p.company_name),
            is_company: p.is_company,
            email: s(&p.email),
            address_care_of: s(&p.address.address_care_of),
            street: s(&p.address.street),
            housenumber: s(&p.address.housenumber),
            postbox: s(&p.address.postbox),
            zip_code: s(&p.address.zip_code),
            town: s(&p.address.town),
            country: s(&p.address.country),
            gender: s(&p.gender),
            birthday: p.birthday.map(|d| d.to_string()).unwrap_or_default(),
            language: p.language.clone(),
            additional_information: s(&p.additional_information),
            role_type: String::new(),
            role_label: String::new(),
        }
    }

    fn from_form(f: &Fields) -> PersonFields {
        let s = |n: &str| f.raw(n).unwrap_or_default().to_owned();
        PersonFields {
            first_name: s("first_name"),
            last_name: s("last_name"),
            nickname: s("nickname"),
            company_name: s("company_name"),
            is_company: f.flag("is_company"),
            email: s("email"),
            address_care_of: s("address_care_of"),
            street: s("street"),
            housenumber: s("housenumber"),
            postbox: s("postbox"),
            zip_code: s("zip_code"),
            town: s("town"),
            country: s("country"),
            gender: s("gender"),
            birthday: s("birthday"),
            language: s("language"),
            additional_information: s("additional_information"),
            role_type: s("role_type"),
            role_label: s("role_label"),
        }
    }
}

/// Reads the person fields of a form; a bad date is a violation.
fn patch_from(f: &Fields, v: &mut Violations) -> PersonPatch {
    let birthday = parse_date(f.raw("birthday")).unwrap_or_else(|_| {
        v.add("birthday", "errors.invalid_date");
        None
    });
    PersonPatch {
        first_name: f.get("first_name"),
        last_name: f.get("last_name"),
        nickname: f.get("nickname"),
        company_name: f.get("company_name"),
        is_company: f.flag("is_company"),
        email: f.get("email"),
        address: Address {
            address_care_of: f.get("address_care_of"),
            street: f.get("street"),
            housenumber: f.get("housenumber"),
            postbox: f.get("postbox"),
            zip_code: f.get("zip_code"),
            town: f.get("town"),
            country: f.get("country"),
        },
        gender: f.get("gender"),
        birthday,
        language: f.get("language"),
        additional_information: f.get("additional_information"),
    }
}

/// Validates the patch, keeping the violations found while reading it.
fn validated(
    state: &AppState,
    patch: PersonPatch,
    mut v: Violations,
) -> Result<PersonPatch, Violations> {
    match patch.validated(&state.org) {
        Ok(p) if v.is_empty() => Ok(p),
        Ok(_) => Err(v),
        Err(mut more) => {
            v.0.append(&mut more.0);
            Err(v)
        }
    }
}

#[derive(Serialize)]
struct ContactsView {
    dom_id: &'static str,
    emails: Vec<ContactView>,
    phones: Vec<ContactView>,
    add_email_url: String,
    add_phone_url: String,
    email_labels: Vec<&'static str>,
    phone_labels: Vec<&'static str>,
    email_form: ContactFormValues,
    phone_form: ContactFormValues,
    errors: FieldErrors,
}

fn contacts_view(base: &str, b: &PersonBundle, errors: FieldErrors) -> ContactsView {
    ContactsView {
        dom_id: "person-contacts",
        emails: b.emails.iter().map(|e| email_view(base, e)).collect(),
        phones: b.phones.iter().map(|p| phone_view(base, p)).collect(),
        add_email_url: format!("{base}/additional_emails"),
        add_phone_url: format!("{base}/phone_numbers"),
        email_labels: EMAIL_LABELS.to_vec(),
        phone_labels: PHONE_LABELS.to_vec(),
        email_form: ContactFormValues::empty(ContactKind::Email),
        phone_form: ContactFormValues::empty(ContactKind::Phone),
        errors,
    }
}

#[derive(Serialize)]
struct PersonForm {
    title: String,
    action: String,
    is_new: bool,
    is_email_editable: bool,
    fields: PersonFields,
    errors: FieldErrors,
    role_types: Vec<OptionView>,
    languages: Vec<OptionView>,
    genders: Vec<OptionView>,
    cancel_url: String,
}

#[derive(Serialize)]
struct PersonFormView {
    form: PersonForm,
    contacts: Option<ContactsView>,
    /// The picture form, on the edit page only.
    picture: Option<PictureView>,
}

fn options(values: &[(String, String)], selected: &str) -> Vec<OptionView> {
    values
        .iter()
        .map(|(value, label)| OptionView {
            value: value.clone(),
            label: label.clone(),
            is_selected: value == selected,
        })
        .collect()
}

fn person_form(
    state: &AppState,
    ctx: &RequestCtx,
    title: String,
    action: String,
    fields: PersonFields,
    role_types: Vec<(String, String)>,
) -> PersonForm {
    let languages: Vec<(String, String)> = state
        .org
        .languages
        .iter()
        .map(|l| (l.clone(), ctx.t(&format!("languages.{l}"))))
        .collect();
    let genders = vec![
        (String::new(), ctx.t("people.gender_unknown")),
        ("w".to_owned(), ctx.t("people.gender_w")),
        ("m".to_owned(), ctx.t("people.gender_m")),
    ];
    PersonForm {
        title,
        action,
        is_new: !role_types.is_empty(),
        is_email_editable: true,
        role_types: options(&role_types, &fields.role_type),
        languages: options(&languages, &fields.language),
        genders: options(&genders, &fields.gender),
        fields,
        errors: FieldErrors::default(),
        cancel_url: String::new(),
    }
}

fn render_form(
    ctx: &RequestCtx,
    state: &AppState,
    view: PersonFormView,
    is_invalid: bool,
) -> Result<Response, WebError> {
    let resp = ctx.render(state, "people/form.html", "people/_form.html", &view)?;
    Ok(if is_invalid {
        unprocessable(resp)
    } else {
        resp
    })
}

fn new_person_form(
    state: &AppState,
    ctx: &RequestCtx,
    viewer: &Viewer,
    g: &Group,
    fields: PersonFields,
) -> Result<PersonForm, WebError> {
    let role_types: Vec<(String, String)> = creatable_role_types(state, viewer, g)
        .map(|r| (r.key.clone(), r.labels.get(ctx.lang).to_owned()))
        .collect();
    if role_types.is_empty() || !g.is_active() {
        return Err(WebError::Forbidden(ability::Refusal::NoPermission));
    }
    let mut fields = fields;
    if fields.role_type.is_empty() {
        let standard = state
            .org
            .group_type(&g.group_type)
            .and_then(|t| t.standard_role.clone());
        fields.role_type = standard.unwrap_or_default();
    }
    if fields.language.is_empty() {
        fields.language = state.org.default_language().to_owned();
    }
    let mut form = person_form(
        state,
        ctx,
        format!(
            "{} – {}",
            ctx.t("people.new"),
            GroupLink::with_layer(&state.org, ctx.lang, g, &viewer.tree).full_name
        ),
        format!("/groups/{}/people", g.id),
        fields,
        role_types,
    );
    form.cancel_url = format!("/groups/{}/people", g.id);
    Ok(form)
}

/// GET /groups/:group_id/people/new: the form for a new person with a
/// first role (page, or the form fragment).
#[handler]
pub fn new_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let form = new_person_form(&state, ctx, viewer, g, PersonFields::default())?;
    render_form(
        ctx,
        &state,
        PersonFormView {
            form,
            contacts: None,
            picture: None,
        },
        false,
    )
}

/// POST /groups/:group_id/people: creates the person with the role
/// (redirect to the person, or the form again with messages).
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
    let mut form = new_person_form(&state, ctx, viewer, g, PersonFields::from_form(&fields))?;
    let role_key = fields.get("role_type").unwrap_or_default();
    let role_type = state
        .org
        .role_types_of(&g.group_type)
        .find(|r| r.key == role_key);

    let mut v = Violations::default();
    let patch = patch_from(&fields, &mut v);
    let patch = validated(&state, patch, v);
    let Some(role_type) = role_type else {
        form.errors
            .add(ctx.lang, "role_type", "errors.role_type_not_allowed");
        if let Err(v) = &patch {
            form.errors = merge(form.errors, FieldErrors::from_violations(ctx.lang, v));
        }
        return render_form(
            ctx,
            &state,
            PersonFormView {
                form,
                contacts: None,
                picture: None,
            },
            true,
        );
    };
    let permit = ability::permit_create_person(&viewer.actor, g, role_type, &viewer.tree)?;
    let today = Utc::now().date_naive();
    let role = NewRole {
        person_id: PersonId(0),
        group_id: g.id,
        role_type: role_type.key.clone(),
        label: fields.get("role_label"),
        start_on: None,
        end_on: None,
    }
    .validated(&state.org, g, today)
    .map_err(on_person_form);
    let (patch, role) = match (patch, role) {
        (Ok(p), Ok(r)) => (p, r),
        (p, r) => {
            for v in [p.err(), r.err()].into_iter().flatten() {
                form.errors = merge(form.errors, FieldErrors::from_violations(ctx.lang, &v));
            }
            return render_form(
                ctx,
                &state,
                PersonFormView {
                    form,
                    contacts: None,
                    picture: None,
                },
                true,
            );
        }
    };
    let now = Utc::now();
    let created = state
        .db_raw(move |s| s.create_person(&permit, &patch, &role, now))
        .await?;
    match created {
        Ok((person, _)) => {
            context::set_flash(req.cookie(), &state, "notice", "flash.person_created");
            Ok(redirect(
                ctx,
                &format!("/groups/{}/people/{}", g.id, person.id),
            ))
        }
        Err(StoreError::Conflict { field }) => {
            form.errors.add(ctx.lang, &field, "errors.taken");
            render_form(
                ctx,
                &state,
                PersonFormView {
                    form,
                    contacts: None,
                    picture: None,
                },
                true,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Moves the violations of the first role onto the person form's fields:
/// its label input is `role_label`; the form has no inputs for the dates
/// or the group, so those show at the role type, in the same fieldset.
fn on_person_form(mut v: Violations) -> Violations {
    for violation in &mut v.0 {
        let field = match violation.field.as_str() {
            "label" => "role_label",
            _ => "role_type",
        };
        violation.field = field.to_owned();
    }
    v
}

fn merge(mut a: FieldErrors, b: FieldErrors) -> FieldErrors {
    for (k, v) in b.0 {
        a.0.entry(k).or_insert(v);
    }
    a
}

fn edit_view(
    state: &AppState,
    ctx: &RequestCtx,
    g: &Group,
    b: &PersonBundle,
    fields: PersonFields,
    is_email_editable: bool,
) -> PersonFormView {
    let base = format!("/groups/{}/people/{}", g.id, b.person.id);
    let mut form = person_form(
        state,
        ctx,
        format!("{} – {}", ctx.t("people.edit"), b.person.display_name()),
        base.clone(),
        fields,
        Vec::new(),
    );
    form.is_email_editable = is_email_editable;
    form.cancel_url = base.clone();
    PersonFormView {
        form,
        contacts: Some(contacts_view(&base, b, FieldErrors::default())),
        picture: Some(PictureView::new(
            ctx,
            g.id,
            &b.person,
            b.picture.as_ref(),
            true,
            None,
        )),
    }
}

/// GET /groups/:group_id/people/:id/edit: the edit form with contact
/// accounts (page, or the form fragment).
#[handler]
pub async fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = load_person(&state, id).await?;
    let subject = subject(&state, viewer, &b);
    ability::permit_update_person(&viewer.actor, &subject)?;
    let is_email_editable = ability::permit_update_email(&viewer.actor, &subject).is_ok();
    let view = edit_view(
        &state,
        ctx,
        g,
        &b,
        PersonFields::of(&b.person),
        is_email_editable,
    );
    render_form(ctx, &state, view, false)
}

/// POST or PATCH /groups/:group_id/people/:id: saves the person; the email
/// changes only with `update_email` (redirect, or the form with messages).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = load_person(&state, id).await?;
    let subject = subject(&state, viewer, &b);
    let permit = ability::permit_update_person(&viewer.actor, &subject)?;
    let email_permit = ability::permit_update_email(&viewer.actor, &subject).ok();
    let is_email_editable = email_permit.is_some();

    let mut v = Violations::default();
    let mut patch = patch_from(&fields, &mut v);
    if !is_email_editable {
        patch.email = b.person.email.clone();
    }
    let mut form_fields = PersonFields::from_form(&fields);
    if !is_email_editable {
        form_fields.email = b.person.email.clone().unwrap_or_default();
    }
    let patch = match validated(&state, patch, v) {
        Ok(p) => p,
        Err(v) => {
            let mut view = edit_view(&state, ctx, g, &b, form_fields, is_email_editable);
            view.form.errors = FieldErrors::from_violations(ctx.lang, &v);
            return render_form(ctx, &state, view, true);
        }
    };
    let now = Utc::now();
    let saved = state
        .db_raw(move |s| s.update_person(&permit, email_permit.as_ref(), &patch, now))
        .await?;
    match saved {
        Ok(_) => {
            context::set_flash(req.cookie(), &state, "notice", "flash.person_updated");
            Ok(redirect(ctx, &format!("/groups/{}/people/{}", g.id, id)))
        }
        Err(StoreError::Conflict { field }) => {
            let mut view = edit_view(&state, ctx, g, &b, form_fields, is_email_editable);
            view.form.errors.add(ctx.lang, &field, "errors.taken");
            render_form(ctx, &state, view, true)
        }
        Err(e) => Err(e.into()),
    }
}

/// Which contact account a form adds.
#[derive(Clone, Copy, Serialize)]
enum ContactKind {
    Email,
    Phone,
}

impl ContactKind {
    /// The form field of the address or number.
    fn value_field(self) -> &'static str {
        match self {
            ContactKind::Email => "additional_email",
            ContactKind::Phone => "phone_number",
        }
    }

    /// The key of the label's messages (both forms name the input `label`).
    fn label_field(self) -> &'static str {
        match self {
            ContactKind::Email => "additional_email_label",
            ContactKind::Phone => "phone_number_label",
        }
    }
}

/// The inputs of one add-contact form, empty or as sent.
#[derive(Serialize)]
struct ContactFormValues {
    #[serde(skip)]
    kind: ContactKind,
    value: String,
    label: String,
    is_public: bool,
    is_mailing: bool,
}

impl ContactFormValues {
    /// An empty form: public and (for emails) used for mailing lists.
    fn empty(kind: ContactKind) -> ContactFormValues {
        ContactFormValues {
            kind,
            value: String::new(),
            label: String::new(),
            is_public: true,
            is_mailing: true,
        }
    }

    fn of(kind: ContactKind, input: &ContactInput) -> ContactFormValues {
        ContactFormValues {
            kind,
            value: input.value.clone(),
            label: input.label.clone(),
            is_public: input.is_public,
            is_mailing: input.is_mailing,
        }
    }
}

/// POST /groups/:group_id/people/:id/additional_emails: adds an email
/// (the contacts fragment, or a redirect to the edit page).
#[handler]
pub async fn add_email(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    add_contact(ctx, &state, group_id, id, &fields, ContactKind::Email).await
}

/// POST /groups/:group_id/people/:id/phone_numbers: adds a phone number
/// (the contacts fragment, or a redirect to the edit page).
#[handler]
pub async fn add_phone(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id)): Path<(GroupId, PersonId)>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    add_contact(ctx, &state, group_id, id, &fields, ContactKind::Phone).await
}

async fn add_contact(
    ctx: &RequestCtx,
    state: &AppState,
    group_id: GroupId,
    id: PersonId,
    fields: &Fields,
    kind: ContactKind,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = load_person(state, id).await?;
    let person_subject = subject(state, viewer, &b);
    let permit = ability::permit_update_person(&viewer.actor, &person_subject)?;
    let is_email_editable = ability::permit_update_email(&viewer.actor, &person_subject).is_ok();
    let value_field = kind.value_field();
    let input = ContactInput {
        value: fields.raw(value_field).unwrap_or_default().to_owned(),
        label: fields.raw("label").unwrap_or_default().to_owned(),
        is_public: fields.flag("is_public"),
        is_mailing: fields.flag("is_mailing"),
    };
    let submitted = ContactFormValues::of(kind, &input);
    let input = match checked_contact(kind, input, &b) {
        Ok(i) => i,
        Err(v) => {
            let errors = FieldErrors::from_violations(ctx.lang, &v);
            let view = InvalidContact { errors, submitted };
            return invalid_contact(ctx, state, g, &b, view, is_email_editable);
        }
    };
    let added = state
        .db_raw(move |s| match kind {
            ContactKind::Email => s.add_additional_email(&permit, &input).map(|_| ()),
            ContactKind::Phone => s.add_phone_number(&permit, &input).map(|_| ()),
        })
        .await?;
    if let Err(e) = added {
        return match e {
            StoreError::Conflict { .. } => {
                let mut errors = FieldErrors::default();
                errors.add(ctx.lang, value_field, "errors.taken");
                let view = InvalidContact { errors, submitted };
                invalid_contact(ctx, state, g, &b, view, is_email_editable)
            }
            e => Err(e.into()),
        };
    }
    let b = load_person(state, id).await?;
    contacts_response(ctx, state, g, &b)
}

/// The longest label of an email or phone number, in characters.
pub const MAX_CONTACT_LABEL: usize = 100;

/// Checks a contact form: hitcore's rules for the value and the label,
/// then what hitcore does not check yet: a label on one line of at most
/// [`MAX_CONTACT_LABEL`] characters, and an email the person does not have
/// already (as main or additional address, in any case). Label messages
/// go to the label field, `<value field>_label`.
///
/// Limitations: the label checks belong in `ContactInput::check_label`;
/// hitcore keys its label messages to the value field and says "not ending
/// in a full stop" for a line break, so this moves and replaces them.
fn checked_contact(
    kind: ContactKind,
    input: ContactInput,
    b: &PersonBundle,
) -> Result<ContactInput, Violations> {
    let label_field = kind.label_field();
    let mut v = Violations::default();
    let label = input.label.trim();
    if label.is_empty() {
        v.add(label_field, "errors.required");
    } else if label.chars().any(char::is_control) {
        v.add(label_field, "errors.single_line");
    } else if label.chars().count() > MAX_CONTACT_LABEL {
        v.add(label_field, "errors.label_too_long");
    }
    let has_label_error = !v.is_empty();
    let checked = match kind {
        ContactKind::Email => input.validated_email(),
        ContactKind::Phone => input.validated_phone(),
    };
    let input = match checked {
        Ok(i) => Some(i),
        Err(found) => {
            for violation in found.0 {
                if violation.message != "errors.invalid_label" {
                    v.0.push(violation);
                } else if !has_label_error {
                    v.add(label_field, &violation.message);
                }
            }
            None
        }
    };
    if let (ContactKind::Email, Some(i)) = (kind, &input) {
        let same = |e: &str| e.to_lowercase() == i.value.to_lowercase();
        if b.person.email.as_deref().is_some_and(same) {
            v.add(kind.value_field(), "errors.email_is_main");
        } else if b.emails.iter().any(|e| same(&e.email)) {
            v.add(kind.value_field(), "errors.email_already_added");
        }
    }
    match input {
        Some(i) if v.is_empty() => Ok(i),
        _ => Err(v),
    }
}

/// What a refused contact form shows again: the messages and the values
/// that were sent.
struct InvalidContact {
    errors: FieldErrors,
    submitted: ContactFormValues,
}

/// A contact form with messages: the contacts fragment for HTMX, else the
/// whole edit page, both with status 422.
fn invalid_contact(
    ctx: &RequestCtx,
    state: &AppState,
    g: &Group,
    b: &PersonBundle,
    invalid: InvalidContact,
    is_email_editable: bool,
) -> Result<Response, WebError> {
    let base = format!("/groups/{}/people/{}", g.id, b.person.id);
    let mut contacts = contacts_view(&base, b, invalid.errors);
    match invalid.submitted.kind {
        ContactKind::Email => contacts.email_form = invalid.submitted,
        ContactKind::Phone => contacts.phone_form = invalid.submitted,
    }
    let resp = if ctx.htmx.is_fragment {
        let view = ContactsFragmentView { contacts };
        ctx.render_template(state, "people/_contacts.html", &view)?
    } else {
        let fields = PersonFields::of(&b.person);
        let mut view = edit_view(state, ctx, g, b, fields, is_email_editable);
        view.contacts = Some(contacts);
        ctx.render_template(state, "people/form.html", &view)?
    };
    Ok(unprocessable(resp))
}

/// DELETE /groups/:group_id/people/:id/contacts/:contact_id and its POST
/// `.../delete` fallback: removes an email or phone number (the contacts
/// fragment, or a redirect to the edit page).
#[handler]
pub async fn remove_contact(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path((group_id, id, contact_id)): Path<(GroupId, PersonId, ContactId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    let b = load_person(&state, id).await?;
    let permit = ability::permit_update_person(&viewer.actor, &subject(&state, viewer, &b))?;
    let is_own =
        b.emails.iter().any(|e| e.id == contact_id) || b.phones.iter().any(|p| p.id == contact_id);
    if !is_own {
        return Err(WebError::NotFound);
    }
    state
        .db(move |s| s.remove_contact(&permit, contact_id))
        .await?;
    let b = load_person(&state, id).await?;
    contacts_response(ctx, &state, g, &b)
}

#[derive(Serialize)]
struct ContactsFragmentView {
    contacts: ContactsView,
}

fn contacts_response(
    ctx: &RequestCtx,
    state: &AppState,
    g: &Group,
    b: &PersonBundle,
) -> Result<Response, WebError> {
    let base = format!("/groups/{}/people/{}", g.id, b.person.id);
    if !ctx.htmx.is_fragment {
        return Ok(super::see_other(&format!("{base}/edit")));
    }
    let view = ContactsFragmentView {
        contacts: contacts_view(&base, b, FieldErrors::default()),
    };
    ctx.render_template(state, "people/_contacts.html", &view)
}

/// The edit page again, its picture form showing why `refused` was not
/// taken (status 422). The person is read anew, so the page shows the
/// picture the person still has.
///
/// # Errors
/// 404 for an unknown person; a template error.
pub async fn picture_refused(
    ctx: &RequestCtx,
    state: &AppState,
    g: &Group,
    id: PersonId,
    refused: &PictureError,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let b = load_person(state, id).await?;
    let is_email_editable =
        ability::permit_update_email(&viewer.actor, &subject(state, viewer, &b)).is_ok();
    let mut view = edit_view(
        state,
        ctx,
        g,
        &b,
        PersonFields::of(&b.person),
        is_email_editable,
    );
    view.picture = Some(PictureView::new(
        ctx,
        g.id,
        &b.person,
        b.picture.as_ref(),
        true,
        Some(refused),
    ));
    let resp = ctx.render_template(state, "people/form.html", &view)?;
    Ok(unprocessable(resp))
}
