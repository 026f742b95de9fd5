//! `/groups/:group_id/mailing_lists` and `/mailing_lists/:id/...`: a
//! group's mailing lists, their fields, subscriptions and recipients, and
//! the one-click subscribe button.
//!
//! Every handler asks `hitcore::ability` (the mailing-list table of
//! section 4.3) before it reads more than the list itself; who a list
//! reaches is the store's recipient query.

use std::sync::Arc;

use chrono::Utc;
use hitcore::ability::{self, EventAction, EventSubject, EventViewer, ListSubject};
use hitcore::cache::read;
use hitcore::event::Event;
use hitcore::event::participation::OwnParticipation;
use hitcore::group::Group;
use hitcore::id::{EventId, EventSubscriptionId};
use hitcore::list_mail::ListMessageSummary;
use hitcore::mailing_list::{
    self as ml, MailingList, MailingListPatch, NewMailingList, Recipient, SubscribableFor,
    SubscribableMode, Subscriber, Subscription, SubscriptionRuleError,
};
use hitcore::store::StoreError;
use hitcore::validate::Violations;
use hitcore::{GroupId, MailingListId, PersonId, SubscriptionId};
use poem::web::{Data, Form, Path};
use poem::{Request, Response, handler};
use serde::Serialize;

use super::{Fields, check, redirect, unprocessable, visible_group};
use crate::context::{self, RequestCtx, Viewer};
use crate::error::WebError;
use crate::state::AppState;
use crate::views::{FieldErrors, GroupLink, OptionView, role_type_label};

/// A list with its subscriptions, as most handlers need it.
struct Loaded {
    list: MailingList,
    subscriptions: Vec<Subscription>,
}

async fn load(state: &AppState, id: MailingListId) -> Result<Loaded, WebError> {
    state
        .db(move |s| {
            let list = s.mailing_list(id)?.ok_or(StoreError::NotFound)?;
            let subscriptions = s.subscriptions(id)?;
            Ok(Loaded {
                list,
                subscriptions,
            })
        })
        .await
}

/// The ability engine's view of a list. A list of a deleted group is a
/// 404, like the group.
fn subject<'a>(viewer: &'a Viewer, loaded: &'a Loaded) -> Result<ListSubject<'a>, WebError> {
    let group = visible_group(viewer, loaded.list.group_id)?;
    let today = Utc::now().date_naive();
    Ok(ListSubject {
        list: &loaded.list,
        group,
        is_actor_covered: ml::is_covered(&loaded.subscriptions, &viewer.roles, &viewer.tree, today),
    })
}

// ----------------------------------------------------------------- index

#[derive(Serialize)]
struct IndexView {
    group: GroupLink,
    rows: Vec<ListRow>,
    can_create: bool,
    new_url: String,
}

#[derive(Serialize)]
struct ListRow {
    name: String,
    url: String,
    address: Option<String>,
    description: Option<String>,
}

/// GET /groups/:group_id/mailing_lists: the group's lists the viewer may
/// see (page, or the table fragment).
#[handler]
pub async fn index(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    check(ability::may_index_lists(&viewer.actor))?;
    let lists = state
        .db(move |s| {
            let lists = s.mailing_lists_of_group(group_id)?;
            lists
                .into_iter()
                .map(|list| {
                    // Only configured lists need the subscriptions to decide.
                    let subscriptions = if list.subscribable_for == SubscribableFor::Configured {
                        s.subscriptions(list.id)?
                    } else {
                        Vec::new()
                    };
                    Ok(Loaded {
                        list,
                        subscriptions,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await?;
    let domain = &state.config.mail.settings.list_domain;
    let mut rows = Vec::new();
    for loaded in &lists {
        if ability::may_show_list(&viewer.actor, &subject(viewer, loaded)?).is_allowed() {
            rows.push(ListRow {
                name: loaded.list.name.clone(),
                url: format!("/mailing_lists/{}", loaded.list.id),
                address: loaded.list.address(domain),
                description: loaded.list.description.clone(),
            });
        }
    }
    let view = IndexView {
        group: GroupLink::new(&state.org, ctx.lang, g),
        rows,
        can_create: ability::may_create_list(&viewer.actor, g).is_allowed(),
        new_url: format!("/groups/{}/mailing_lists/new", g.id),
    };
    ctx.render(
        &state,
        "mailing_lists/index.html",
        "mailing_lists/_table.html",
        &view,
    )
}

// ------------------------------------------------------------------ form

/// The list form (`mailing_lists/_form.html`, id `mailing-list-form`).
#[derive(Serialize)]
struct ListForm {
    title: String,
    action: String,
    cancel_url: String,
    group: GroupLink,
    list_domain: String,
    name: String,
    description: String,
    publisher: String,
    mail_name: String,
    additional_senders: String,
    preferred_labels: String,
    subscribers_may_post: bool,
    anyone_may_post: bool,
    main_email: bool,
    delivery_report: bool,
    subscribable_for: Vec<OptionView>,
    subscribable_mode: Vec<OptionView>,
    errors: FieldErrors,
}

#[derive(Serialize)]
struct FormView {
    form: ListForm,
}

fn options(ctx: &RequestCtx, pairs: &[(&str, &str)], selected: &str) -> Vec<OptionView> {
    pairs
        .iter()
        .map(|(value, key)| OptionView {
            value: (*value).to_owned(),
            label: ctx.t(key),
            is_selected: *value == selected,
        })
        .collect()
}

fn list_form(
    ctx: &RequestCtx,
    state: &AppState,
    g: &Group,
    list: Option<&MailingList>,
) -> ListForm {
    let (title, action, cancel_url) = match list {
        None => (
            ctx.t("mailing_lists.new"),
            format!("/groups/{}/mailing_lists", g.id),
            format!("/groups/{}/mailing_lists", g.id),
        ),
        Some(l) => (
            ctx.t("mailing_lists.edit"),
            format!("/mailing_lists/{}", l.id),
            format!("/mailing_lists/{}", l.id),
        ),
    };
    let text =
        |f: fn(&MailingList) -> Option<&String>| list.and_then(f).cloned().unwrap_or_default();
    let subscribable_for = list.map_or(SubscribableFor::Nobody, |l| l.subscribable_for);
    let mode = list
        .and_then(|l| l.subscribable_mode)
        .unwrap_or(SubscribableMode::OptOut);
    ListForm {
        title,
        action,
        cancel_url,
        group: GroupLink::new(&state.org, ctx.lang, g),
        list_domain: state.config.mail.settings.list_domain.clone(),
        name: list.map(|l| l.name.clone()).unwrap_or_default(),
        description: text(|l| l.description.as_ref()),
        publisher: text(|l| l.publisher.as_ref()),
        mail_name: text(|l| l.mail_name.as_ref()),
        additional_senders: list
            .map(|l| l.additional_senders.join(", "))
            .unwrap_or_default(),
        preferred_labels: list
            .map(|l| l.preferred_labels.join(", "))
            .unwrap_or_default(),
        subscribers_may_post: list.is_some_and(|l| l.subscribers_may_post),
        anyone_may_post: list.is_some_and(|l| l.anyone_may_post),
        main_email: list.is_some_and(|l| l.main_email),
        delivery_report: list.is_some_and(|l| l.delivery_report),
        subscribable_for: options(ctx, SUBSCRIBABLE_FOR, subscribable_for.as_str()),
        subscribable_mode: options(ctx, SUBSCRIBABLE_MODE, mode.as_str()),
        errors: FieldErrors::default(),
    }
}

const SUBSCRIBABLE_FOR: &[(&str, &str)] = &[
    ("nobody", "mailing_lists.subscribable_nobody"),
    ("configured", "mailing_lists.subscribable_configured"),
    ("anyone", "mailing_lists.subscribable_anyone"),
];
const SUBSCRIBABLE_MODE: &[(&str, &str)] = &[
    ("opt_out", "mailing_lists.mode_opt_out"),
    ("opt_in", "mailing_lists.mode_opt_in"),
];

/// The submitted fields as a patch, unvalidated; an unknown choice of a
/// select is a violation.
fn patch_of(fields: &Fields, v: &mut Violations) -> MailingListPatch {
    let subscribable_for = fields
        .get("subscribable_for")
        .map_or(Some(SubscribableFor::Nobody), |f| {
            SubscribableFor::parse(&f)
        });
    if subscribable_for.is_none() {
        v.add("subscribable_for", "errors.invalid");
    }
    let subscribable_mode = fields
        .get("subscribable_mode")
        .map(|m| SubscribableMode::parse(&m));
    if matches!(subscribable_mode, Some(None)) {
        v.add("subscribable_mode", "errors.invalid");
    }
    MailingListPatch {
        name: fields.get("name"),
        description: fields.get("description"),
        publisher: fields.get("publisher"),
        mail_name: fields.get("mail_name"),
        additional_senders: fields.get("additional_senders").into_iter().collect(),
        subscribers_may_post: fields.flag("subscribers_may_post"),
        anyone_may_post: fields.flag("anyone_may_post"),
        preferred_labels: fields.get("preferred_labels").into_iter().collect(),
        main_email: fields.flag("main_email"),
        delivery_report: fields.flag("delivery_report"),
        subscribable_for: subscribable_for.unwrap_or_default(),
        subscribable_mode: subscribable_mode.flatten(),
    }
}

/// The form again with what was typed and the messages.
fn refill(ctx: &RequestCtx, form: &mut ListForm, fields: &Fields, errors: FieldErrors) {
    let raw = |name: &str| fields.raw(name).unwrap_or_default().to_owned();
    form.name = raw("name");
    form.description = raw("description");
    form.publisher = raw("publisher");
    form.mail_name = raw("mail_name");
    form.additional_senders = raw("additional_senders");
    form.preferred_labels = raw("preferred_labels");
    form.subscribers_may_post = fields.flag("subscribers_may_post");
    form.anyone_may_post = fields.flag("anyone_may_post");
    form.main_email = fields.flag("main_email");
    form.delivery_report = fields.flag("delivery_report");
    form.subscribable_for = options(ctx, SUBSCRIBABLE_FOR, &raw("subscribable_for"));
    form.subscribable_mode = options(ctx, SUBSCRIBABLE_MODE, &raw("subscribable_mode"));
    form.errors = errors;
}

fn render_form(
    ctx: &RequestCtx,
    state: &AppState,
    form: ListForm,
    is_invalid: bool,
) -> Result<Response, WebError> {
    let resp = ctx.render(
        state,
        "mailing_lists/form.html",
        "mailing_lists/_form.html",
        &FormView { form },
    )?;
    Ok(if is_invalid {
        unprocessable(resp)
    } else {
        resp
    })
}

/// Validates the submission; the form with messages when it is invalid.
fn validated(
    ctx: &RequestCtx,
    fields: &Fields,
    form: &mut ListForm,
) -> Result<MailingListPatch, FieldErrors> {
    let mut v = Violations::default();
    let patch = patch_of(fields, &mut v).validated();
    match patch {
        Ok(p) if v.is_empty() => Ok(p),
        other => {
            if let Err(mut more) = other {
                v.0.append(&mut more.0);
            }
            let errors = FieldErrors::from_violations(ctx.lang, &v);
            refill(ctx, form, fields, FieldErrors::default());
            Err(errors)
        }
    }
}

/// Turns a taken mail name into a field message; other errors pass.
fn taken(ctx: &RequestCtx, e: StoreError) -> Result<FieldErrors, WebError> {
    match e {
        StoreError::Conflict { field } if field == "mail_name" => {
            let mut errors = FieldErrors::default();
            errors.add(ctx.lang, "mail_name", "errors.taken");
            Ok(errors)
        }
        other => Err(other.into()),
    }
}

/// GET /groups/:group_id/mailing_lists/new: the new-list form (page, or
/// the form fragment).
#[handler]
pub async fn new_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(group_id): Path<GroupId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let g = visible_group(viewer, group_id)?;
    ability::permit_create_mailing_list(&viewer.actor, g)?;
    render_form(ctx, &state, list_form(ctx, &state, g, None), false)
}

/// POST /groups/:group_id/mailing_lists: creates a list (redirect to it,
/// or the form with messages).
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
    let permit = ability::permit_create_mailing_list(&viewer.actor, g)?;
    let mut form = list_form(ctx, &state, g, None);
    let patch = match validated(ctx, &fields, &mut form) {
        Ok(p) => p,
        Err(errors) => {
            form.errors = errors;
            return render_form(ctx, &state, form, true);
        }
    };
    let new = NewMailingList {
        group_id,
        fields: patch,
    };
    let now = Utc::now();
    let created = state
        .db_raw(move |s| s.create_mailing_list(&permit, &new, now))
        .await?;
    match created {
        Ok(list) => {
            context::set_flash(
                req.cookie(),
                &state,
                "notice",
                "mailing_lists.flash_created",
            );
            Ok(redirect(ctx, &format!("/mailing_lists/{}", list.id)))
        }
        Err(e) => {
            let errors = taken(ctx, e)?;
            refill(ctx, &mut form, &fields, errors);
            render_form(ctx, &state, form, true)
        }
    }
}

/// GET /mailing_lists/:id/edit: the edit form (page, or the form
/// fragment).
#[handler]
pub async fn edit_form(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<MailingListId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    ability::permit_update_mailing_list(&viewer.actor, &subject)?;
    let form = list_form(ctx, &state, subject.group, Some(&loaded.list));
    render_form(ctx, &state, form, false)
}

/// POST or PATCH /mailing_lists/:id: saves the fields (redirect to the
/// list, or the form with messages).
#[handler]
pub async fn update(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<MailingListId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_update_mailing_list(&viewer.actor, &subject)?;
    let mut form = list_form(ctx, &state, subject.group, Some(&loaded.list));
    let patch = match validated(ctx, &fields, &mut form) {
        Ok(p) => p,
        Err(errors) => {
            form.errors = errors;
            return render_form(ctx, &state, form, true);
        }
    };
    let now = Utc::now();
    let updated = state
        .db_raw(move |s| s.update_mailing_list(&permit, &patch, now))
        .await?;
    match updated {
        Ok(_) => {
            context::set_flash(
                req.cookie(),
                &state,
                "notice",
                "mailing_lists.flash_updated",
            );
            Ok(redirect(ctx, &format!("/mailing_lists/{id}")))
        }
        Err(e) => {
            let errors = taken(ctx, e)?;
            refill(ctx, &mut form, &fields, errors);
            render_form(ctx, &state, form, true)
        }
    }
}

/// DELETE /mailing_lists/:id and POST `.../delete`: deletes the list with
/// its subscriptions (redirect to the group's lists).
#[handler]
pub async fn destroy(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<MailingListId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_destroy_mailing_list(&viewer.actor, &subject)?;
    state.db(move |s| s.delete_mailing_list(&permit)).await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "mailing_lists.flash_deleted",
    );
    Ok(redirect(
        ctx,
        &format!("/groups/{}/mailing_lists", loaded.list.group_id),
    ))
}

// ------------------------------------------------------------------ show

#[derive(Serialize)]
struct ShowView {
    list: ListDetails,
    group: GroupLink,
    subscription: SubscriptionBox,
    can_edit: bool,
    edit_url: String,
    delete_url: String,
    /// Only for those who may see subscriptions; `None` otherwise.
    manage: Option<ManageView>,
}

#[derive(Serialize)]
struct ListDetails {
    id: i64,
    name: String,
    description: Option<String>,
    publisher: Option<String>,
    address: Option<String>,
    subscribable_for: String,
    subscribable_mode: Option<String>,
    who_may_post: Vec<String>,
    additional_senders: Vec<String>,
    preferred_labels: Vec<String>,
    main_email: bool,
    delivery_report: bool,
}

/// The recipient count and the viewer's subscribe button
/// (`mailing_lists/_subscription.html`, id `mailing-list-subscription`).
#[derive(Serialize)]
struct SubscriptionBox {
    recipient_count: u64,
    can_subscribe: bool,
    is_subscribed: bool,
    subscribe_url: String,
    unsubscribe_url: String,
}

#[derive(Serialize)]
struct ManageView {
    can_manage: bool,
    subscriptions: Vec<SubscriptionRow>,
    /// The recipients the viewer may see (the list may reach people whose
    /// roles are invisible from above), at most [`SHOWN_RECIPIENTS`].
    recipients: Vec<Recipient>,
    /// Recipients left out of `recipients`, hidden or past the limit.
    recipients_not_shown: usize,
    messages: Vec<ListMessageSummary>,
    add_url: String,
    groups: Vec<OptionView>,
    role_types: Vec<OptionView>,
    /// The subscribed events (section 6.2).
    events: Vec<EventSubscriptionRow>,
    /// The events the viewer may add: subscribable and visible to them.
    event_options: Vec<OptionView>,
    add_event_url: String,
}

#[derive(Serialize)]
struct EventSubscriptionRow {
    /// The event's name, or `#<id>` for one the viewer may not see.
    name: String,
    url: Option<String>,
    first_date: Option<String>,
    remove_url: String,
}

#[derive(Serialize)]
struct SubscriptionRow {
    kind: &'static str,
    name: String,
    url: String,
    is_excluded: bool,
    role_types: Vec<String>,
    remove_url: String,
}

#[derive(Serialize)]
struct BoxView {
    subscription: SubscriptionBox,
}

/// Where the recipient count of the subscribe box comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Count {
    /// The cache, under the stamps the request started with.
    Cached,
    /// The store: the request changed the subscriptions itself, after it
    /// read the stamps, so the cache would answer for the old ones.
    Fresh,
}

async fn subscription_box(
    state: &AppState,
    viewer: &Viewer,
    subject: &ListSubject<'_>,
    count: Count,
) -> Result<SubscriptionBox, WebError> {
    let can_subscribe = ability::may_subscribe_self(&viewer.actor, subject).is_allowed();
    let (id, person) = (subject.list.id, viewer.person.id);
    let today = Utc::now().date_naive();
    let (cache, stamps) = (Arc::clone(&state.cache), viewer.stamps);
    let (recipient_count, is_subscribed) = state
        .db(move |s| {
            let recipient_count = match count {
                Count::Cached => read::recipient_count(&*cache, s, id, &stamps, today)?,
                Count::Fresh => s.recipient_count(id, today)?,
            };
            Ok((recipient_count, s.is_subscribed(id, person, today)?))
        })
        .await?;
    Ok(SubscriptionBox {
        recipient_count,
        can_subscribe,
        is_subscribed,
        subscribe_url: format!("/mailing_lists/{id}/subscribe"),
        unsubscribe_url: format!("/mailing_lists/{id}/unsubscribe"),
    })
}

fn details(ctx: &RequestCtx, state: &AppState, l: &MailingList) -> ListDetails {
    let label = |value: &str, pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(_, key)| ctx.t(key))
            .unwrap_or_default()
    };
    let mut who_may_post = vec![ctx.t("mailing_lists.post_managers")];
    if l.subscribers_may_post {
        who_may_post.push(ctx.t("mailing_lists.subscribers_may_post"));
    }
    if l.anyone_may_post {
        who_may_post.push(ctx.t("mailing_lists.anyone_may_post"));
    }
    ListDetails {
        id: l.id.0,
        name: l.name.clone(),
        description: l.description.clone(),
        publisher: l.publisher.clone(),
        address: l.address(&state.config.mail.settings.list_domain),
        subscribable_for: label(l.subscribable_for.as_str(), SUBSCRIBABLE_FOR),
        subscribable_mode: l
            .subscribable_mode
            .map(|m| label(m.as_str(), SUBSCRIBABLE_MODE)),
        who_may_post,
        additional_senders: l.additional_senders.clone(),
        preferred_labels: l.preferred_labels.clone(),
        main_email: l.main_email,
        delivery_report: l.delivery_report,
    }
}

async fn manage_view(
    ctx: &RequestCtx,
    state: &AppState,
    viewer: &Viewer,
    subject: &ListSubject<'_>,
    subscriptions: &[Subscription],
) -> Result<ManageView, WebError> {
    let id = subject.list.id;
    let today = Utc::now().date_naive();
    let person_ids: Vec<PersonId> = subscriptions
        .iter()
        .filter_map(|s| match s.subscriber {
            Subscriber::Person { person_id, .. } => Some(person_id),
            Subscriber::Group { .. } => None,
        })
        .collect();
    let (people, recipients, messages) = state
        .db(move |s| {
            Ok((
                s.people(&person_ids)?,
                s.recipients(id, today)?,
                s.list_messages(id, 50)?,
            ))
        })
        .await?;
    let total = recipients.len();
    let recipients = visible_recipients(state, viewer, recipients).await?;
    let recipients_not_shown = total - recipients.len();
    let (org, tree, lang) = (&*state.org, &*viewer.tree, ctx.lang);
    let rows = subscriptions
        .iter()
        .map(|s| {
            let remove_url = format!("/mailing_lists/{id}/subscriptions/{}/delete", s.id);
            match &s.subscriber {
                Subscriber::Person {
                    person_id,
                    is_excluded,
                } => {
                    let person = people.iter().find(|p| p.id == *person_id);
                    SubscriptionRow {
                        kind: "person",
                        name: person.map_or_else(|| format!("#{person_id}"), |p| p.display_name()),
                        url: person
                            .and_then(|p| p.primary_group_id)
                            .map(|g| format!("/groups/{g}/people/{person_id}"))
                            .unwrap_or_else(|| format!("/people/{person_id}")),
                        is_excluded: *is_excluded,
                        role_types: Vec::new(),
                        remove_url,
                    }
                }
                Subscriber::Group {
                    group_id,
                    role_types,
                } => SubscriptionRow {
                    kind: "group",
                    name: tree
                        .get(*group_id)
                        .map_or_else(|| format!("#{group_id}"), |g| g.display_name().to_owned()),
                    url: format!("/groups/{group_id}"),
                    is_excluded: false,
                    role_types: role_types
                        .iter()
                        .map(|t| role_type_label(org, lang, t))
                        .collect(),
                    remove_url,
                },
            }
        })
        .collect();
    // Each group by its path below the list's group, so that the many
    // groups of one name ("Members") can be told apart, in tree order
    // (siblings as `group::sort_siblings` orders them).
    let mut groups: Vec<(Vec<(String, GroupId)>, OptionView)> = tree
        .iter()
        .filter(|g| g.is_active() && g.is_in_subtree_of(subject.group.id))
        .map(|g| {
            let path: Vec<&Group> = tree
                .hierarchy(g.id)
                .into_iter()
                .skip_while(|a| a.id != subject.group.id)
                .collect();
            let names: Vec<&str> = path.iter().map(|a| a.display_name()).collect();
            let option = OptionView {
                value: g.id.to_string(),
                label: names.join(" › "),
                is_selected: g.id == subject.group.id,
            };
            let key = path
                .iter()
                .map(|a| (a.display_name().to_lowercase(), a.id))
                .collect();
            (key, option)
        })
        .collect();
    groups.sort_by(|(a, _), (b, _)| a.cmp(b));
    let groups = groups.into_iter().map(|(_, option)| option).collect();
    let role_types = org
        .role_types()
        .iter()
        .map(|r| OptionView {
            value: r.key.clone(),
            label: role_type_label(org, lang, &r.key),
            is_selected: false,
        })
        .collect();
    let (events, event_options) = event_subscriptions_view(state, viewer, id).await?;
    Ok(ManageView {
        can_manage: ability::may_update_list(&viewer.actor, subject).is_allowed(),
        subscriptions: rows,
        recipients,
        recipients_not_shown,
        messages,
        add_url: format!("/mailing_lists/{id}/subscriptions"),
        groups,
        role_types,
        events,
        event_options,
        add_event_url: format!("/mailing_lists/{id}/event_subscriptions"),
    })
}

/// Events offered for a subscription at most (the latest first).
const OFFERED_EVENTS: u32 = 100;

/// Whether the viewer may see `event` (without their own participation
/// in it: that would cost a query per event, and only ever hides one).
fn may_see_event(viewer: &Viewer, event: &Event, today: chrono::NaiveDate) -> bool {
    let subject = EventSubject {
        event,
        groups: super::event_groups(viewer, event),
        own: None,
    };
    let event_viewer = EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today);
    ability::event(&viewer.actor, EventAction::Show, &subject, &event_viewer).is_allowed()
}

/// The first group of an event, for its URL.
fn event_url(event: &Event) -> Option<String> {
    event
        .group_ids
        .first()
        .map(|g| format!("/groups/{g}/events/{}", event.id))
}

/// The subscribed events and the events the viewer may add, each only
/// named when the viewer may see it.
async fn event_subscriptions_view(
    state: &AppState,
    viewer: &Viewer,
    id: MailingListId,
) -> Result<(Vec<EventSubscriptionRow>, Vec<OptionView>), WebError> {
    let today = Utc::now().date_naive();
    let (subscribed, offered) = state
        .db(move |s| {
            let subscribed = s
                .event_subscriptions(id)?
                .into_iter()
                .map(|sub| Ok((sub.clone(), s.event(sub.event_id)?)))
                .collect::<Result<Vec<_>, StoreError>>()?;
            let offered = s
                .subscribable_events(id, today, OFFERED_EVENTS)?
                .into_iter()
                .map(|e| s.event(e))
                .collect::<Result<Vec<_>, StoreError>>()?;
            Ok((subscribed, offered))
        })
        .await?;
    let rows = subscribed
        .into_iter()
        .map(|(sub, event)| {
            let shown = event.filter(|e| may_see_event(viewer, e, today));
            EventSubscriptionRow {
                name: shown
                    .as_ref()
                    .map_or_else(|| format!("#{}", sub.event_id), |e| e.name.clone()),
                url: shown.as_ref().and_then(event_url),
                first_date: shown
                    .as_ref()
                    .and_then(|e| e.dates.first())
                    .map(|d| d.start_at.format("%Y-%m-%d").to_string()),
                remove_url: format!("/mailing_lists/{id}/event_subscriptions/{}/delete", sub.id),
            }
        })
        .collect();
    let options = offered
        .into_iter()
        .flatten()
        .filter(|e| may_see_event(viewer, e, today))
        .map(|e| OptionView {
            value: e.id.to_string(),
            label: match e.dates.first() {
                Some(d) => format!("{} ({})", e.name, d.start_at.format("%Y-%m-%d")),
                None => e.name.clone(),
            },
            is_selected: false,
        })
        .collect();
    Ok((rows, options))
}

/// Recipients shown on the list page at most; the rest are counted.
const SHOWN_RECIPIENTS: usize = 500;

/// The first [`SHOWN_RECIPIENTS`] of `recipients` whose person the viewer
/// may see: managing a list does not reveal people the people pages hide
/// (a role invisible from above, say).
async fn visible_recipients(
    state: &AppState,
    viewer: &Viewer,
    recipients: Vec<Recipient>,
) -> Result<Vec<Recipient>, WebError> {
    let mut ids: Vec<PersonId> = recipients.iter().map(|r| r.person_id).collect();
    ids.dedup();
    ids.truncate(SHOWN_RECIPIENTS * 2);
    let (people, roles) = state
        .db(move |s| Ok((s.people(&ids)?, s.roles_of_people(&ids)?)))
        .await?;
    let today = Utc::now().date_naive();
    let visible: std::collections::HashSet<PersonId> = people
        .iter()
        .filter(|p| {
            let own: Vec<_> = roles
                .iter()
                .filter(|r| r.person_id == p.id)
                .cloned()
                .collect();
            let subject = ability::PersonSubject::new(
                p,
                context::is_root(state, p),
                &own,
                &viewer.tree,
                &state.org,
                today,
            );
            ability::person(&viewer.actor, ability::PersonAction::Show, &subject).is_allowed()
        })
        .map(|p| p.id)
        .collect();
    Ok(recipients
        .into_iter()
        .filter(|r| visible.contains(&r.person_id))
        .take(SHOWN_RECIPIENTS)
        .collect())
}

/// GET /mailing_lists/:id: the list's fields, address, recipient count and
/// subscribe button, and for its managers the subscriptions, recipients
/// and messages (page only).
#[handler]
pub async fn show(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<MailingListId>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    check(ability::may_show_list(&viewer.actor, &subject))?;
    let manage = if ability::may_see_subscriptions(&viewer.actor, &subject).is_allowed() {
        Some(manage_view(ctx, &state, viewer, &subject, &loaded.subscriptions).await?)
    } else {
        None
    };
    let can_edit = ability::may_update_list(&viewer.actor, &subject).is_allowed();
    let view = ShowView {
        list: details(ctx, &state, &loaded.list),
        group: GroupLink::new(&state.org, ctx.lang, subject.group),
        subscription: subscription_box(&state, viewer, &subject, Count::Cached).await?,
        can_edit,
        edit_url: format!("/mailing_lists/{id}/edit"),
        delete_url: format!("/mailing_lists/{id}"),
        manage,
    };
    ctx.render_template(&state, "mailing_lists/show.html", &view)
}

// --------------------------------------------------------- subscriptions

/// The subscriber a form describes: `kind=person` with `person_id` and an
/// optional `excluded`, or `kind=group` with `group_id` and `role_types`;
/// else the message key of what is missing.
fn subscriber_of(fields: &Fields) -> Result<Subscriber, &'static str> {
    let id = |name: &str| fields.get(name).and_then(|v| v.trim().parse().ok());
    match fields.raw("kind") {
        Some("person") => Ok(Subscriber::Person {
            person_id: PersonId(id("person_id").ok_or("mailing_lists.errors.person_id")?),
            is_excluded: fields.flag("excluded"),
        }),
        Some("group") => Ok(Subscriber::Group {
            group_id: GroupId(id("group_id").ok_or("mailing_lists.errors.group_id")?),
            role_types: fields
                .0
                .iter()
                .filter(|(k, _)| k == "role_types")
                .map(|(_, v)| v.clone())
                .collect(),
        }),
        _ => Err("mailing_lists.errors.subscriber_kind"),
    }
}

/// The message key for a group subscription the rules refuse.
fn subscription_rule_key(e: &SubscriptionRuleError) -> &'static str {
    match e {
        SubscriptionRuleError::NoRoleTypes => "mailing_lists.errors.no_role_types",
        SubscriptionRuleError::UnknownRoleType(_) => "mailing_lists.errors.unknown_role_type",
        SubscriptionRuleError::OutsideListGroup(_) => "mailing_lists.errors.outside_list_group",
        SubscriptionRuleError::InactiveGroup(_) => "mailing_lists.errors.inactive_group",
        _ => "rules.refused",
    }
}

/// Back to the list, with `key` saying why the subscription form was
/// refused; nothing was stored.
fn refused_subscription(
    ctx: &RequestCtx,
    state: &AppState,
    req: &Request,
    id: MailingListId,
    key: &str,
) -> Response {
    context::set_flash(req.cookie(), state, "alert", key);
    redirect(ctx, &format!("/mailing_lists/{id}"))
}

/// Why the subscriber may not be added, as a message key; `None` when the
/// store may try.
///
/// Subscribing someone reveals them on the list page: the viewer must be
/// allowed to see them, as when giving them a role. One they may not see
/// is answered as one that does not exist, so that the form tells nobody
/// which ids are taken. A group must pass the rules the store applies
/// too, here with the reason kept.
async fn subscriber_refusal(
    state: &AppState,
    viewer: &Viewer,
    subject: &ListSubject<'_>,
    subscriber: &Subscriber,
) -> Result<Option<&'static str>, WebError> {
    match subscriber {
        Subscriber::Person { person_id, .. } => {
            let b = match super::people::load_person(state, *person_id).await {
                Err(WebError::NotFound) => return Ok(Some("mailing_lists.errors.no_person")),
                loaded => loaded?,
            };
            let person = super::people::subject(state, viewer, &b);
            let may_see = ability::person(&viewer.actor, ability::PersonAction::Show, &person);
            Ok((!may_see.is_allowed()).then_some("mailing_lists.errors.no_person"))
        }
        Subscriber::Group {
            group_id,
            role_types,
        } => {
            let Some(group) = viewer.tree.get(*group_id) else {
                return Ok(Some("mailing_lists.errors.group_id"));
            };
            let checked =
                ml::check_group_subscription(&state.org, subject.group, group, role_types);
            Ok(checked.err().map(|e| subscription_rule_key(&e)))
        }
    }
}

/// POST /mailing_lists/:id/subscriptions: adds a person or group
/// subscription (redirect to the list, with the reason when refused).
#[handler]
pub async fn add_subscription(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<MailingListId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_manage_subscriptions(&viewer.actor, &subject)?;
    let refused = |key: &str| Ok(refused_subscription(ctx, &state, req, id, key));
    let subscriber = match subscriber_of(&fields) {
        Ok(subscriber) => subscriber,
        Err(key) => return refused(key),
    };
    if let Some(key) = subscriber_refusal(&state, viewer, &subject, &subscriber).await? {
        return refused(key);
    }
    let added = state
        .db(move |s| Ok(s.add_subscription(&permit, &subscriber)))
        .await?;
    match added {
        Err(StoreError::Conflict { .. }) => {
            return refused("mailing_lists.errors.already_subscribed");
        }
        added => added?,
    };
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "mailing_lists.flash_subscription_added",
    );
    Ok(redirect(ctx, &format!("/mailing_lists/{id}")))
}

/// POST /mailing_lists/:id/subscriptions/:subscription_id/delete: removes
/// a subscription (redirect to the list).
#[handler]
pub async fn remove_subscription(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((id, subscription_id)): Path<(MailingListId, SubscriptionId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_manage_subscriptions(&viewer.actor, &subject)?;
    state
        .db(move |s| s.remove_subscription(&permit, subscription_id))
        .await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "mailing_lists.flash_subscription_removed",
    );
    Ok(redirect(ctx, &format!("/mailing_lists/{id}")))
}

/// POST /mailing_lists/:id/event_subscriptions: subscribes the active
/// participants of the event `event_id` (redirect to the list, with the
/// reason when refused). The event must be one the viewer may see; the
/// store checks section 6.2's rules.
#[handler]
pub async fn add_event_subscription(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<MailingListId>,
    Form(fields): Form<Fields>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_manage_subscriptions(&viewer.actor, &subject)?;
    let refused = |key: &str| Ok(refused_subscription(ctx, &state, req, id, key));
    let Some(event_id) = fields
        .get("event_id")
        .and_then(|v| v.trim().parse().ok())
        .map(EventId)
    else {
        return refused("mailing_lists.errors.event_id");
    };
    let person = viewer.person.id;
    let found = state
        .db(move |s| {
            let Some(event) = s.event(event_id)? else {
                return Ok(None);
            };
            Ok(Some((event, s.participation_of(event_id, person)?)))
        })
        .await?;
    let Some((event, own)) = found else {
        return refused("mailing_lists.errors.no_event");
    };
    // Subscribing an event reveals it on the list page: an event the
    // viewer may not see is answered as if it did not exist.
    let event_subject = EventSubject {
        event: &event,
        groups: super::event_groups(viewer, &event),
        own: own.map(|p| OwnParticipation {
            active: p.active,
            roles: p.roles.iter().map(|r| r.role_type).collect(),
        }),
    };
    let today = Utc::now().date_naive();
    let event_viewer = EventViewer::new(&viewer.actor, &viewer.roles, &viewer.tree, today);
    if !ability::event(
        &viewer.actor,
        EventAction::Show,
        &event_subject,
        &event_viewer,
    )
    .is_allowed()
    {
        return refused("mailing_lists.errors.no_event");
    }
    let added = state
        .db(move |s| Ok(s.add_event_subscription(&permit, event_id, today)))
        .await?;
    match added {
        Err(StoreError::Conflict { .. }) => {
            return refused("mailing_lists.errors.already_subscribed");
        }
        Err(StoreError::Rule(_)) => return refused("mailing_lists.errors.event_not_subscribable"),
        added => added?,
    };
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "mailing_lists.flash_subscription_added",
    );
    Ok(redirect(ctx, &format!("/mailing_lists/{id}")))
}

/// POST /mailing_lists/:id/event_subscriptions/:subscription_id/delete:
/// removes an event subscription (redirect to the list).
#[handler]
pub async fn remove_event_subscription(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    req: &Request,
    Path((id, subscription_id)): Path<(MailingListId, EventSubscriptionId)>,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(&state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_manage_subscriptions(&viewer.actor, &subject)?;
    state
        .db(move |s| s.remove_event_subscription(&permit, subscription_id))
        .await?;
    context::set_flash(
        req.cookie(),
        &state,
        "notice",
        "mailing_lists.flash_subscription_removed",
    );
    Ok(redirect(ctx, &format!("/mailing_lists/{id}")))
}

/// Subscribes or unsubscribes the viewer, then answers with the updated
/// subscribe box for HTMX, else a redirect to the list.
async fn self_service(
    ctx: &RequestCtx,
    state: &AppState,
    id: MailingListId,
    is_subscribe: bool,
) -> Result<Response, WebError> {
    let viewer = ctx.viewer()?;
    let loaded = load(state, id).await?;
    let subject = subject(viewer, &loaded)?;
    let permit = ability::permit_subscribe_self(&viewer.actor, &subject)?;
    let today = Utc::now().date_naive();
    state
        .db(move |s| {
            if is_subscribe {
                s.subscribe(&permit, today)
            } else {
                s.unsubscribe(&permit, today)
            }
        })
        .await?;
    if ctx.htmx.is_fragment {
        let subscription = subscription_box(state, viewer, &subject, Count::Fresh).await?;
        return ctx.render_template(
            state,
            "mailing_lists/_subscription.html",
            &BoxView { subscription },
        );
    }
    Ok(redirect(ctx, &format!("/mailing_lists/{id}")))
}

/// POST /mailing_lists/:id/subscribe: the viewer subscribes (the subscribe
/// box fragment, or a redirect).
#[handler]
pub async fn subscribe(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<MailingListId>,
) -> Result<Response, WebError> {
    self_service(ctx, &state, id, true).await
}

/// POST /mailing_lists/:id/unsubscribe: the viewer unsubscribes (the
/// subscribe box fragment, or a redirect).
#[handler]
pub async fn unsubscribe(
    ctx: &RequestCtx,
    state: Data<&AppState>,
    Path(id): Path<MailingListId>,
) -> Result<Response, WebError> {
    self_service(ctx, &state, id, false).await
}
