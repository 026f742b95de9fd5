//! Mailing lists ("Abos") on groups, their subscriptions, and who a list's
//! mail reaches (sections 6.1-6.3 of the domain description).
//!
//! Pure rules only: validation of a list's fields, and the recipient
//! computation's rules where they can be stated without the database. The
//! stores run the recipient query; `crate::ability` decides who may see or
//! change a list.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{EventId, EventSubscriptionId, GroupId, MailingListId, PersonId, SubscriptionId};
use crate::validate::{Violations, clean, email, single_line};

/// A mailing list of a group, as stored (section 6.1).
///
/// A list with a `mail_name` is also an e-mail list: its address is
/// `mail_name@<list domain>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MailingList {
    pub id: MailingListId,
    pub group_id: GroupId,
    pub name: String,
    pub description: Option<String>,
    pub publisher: Option<String>,
    /// The local part of the list address, lowercase; unique across the
    /// instance.
    pub mail_name: Option<String>,
    /// Addresses (lowercase) or `*@domain` wildcards that may post besides
    /// the rules below.
    pub additional_senders: Vec<String>,
    pub subscribers_may_post: bool,
    pub anyone_may_post: bool,
    /// Labels of additional emails that receive the list's mail instead of
    /// the main address; sorted, deduplicated, no blanks.
    pub preferred_labels: Vec<String>,
    /// With preferred labels: the main address receives mail as well.
    pub main_email: bool,
    /// Whether the sender of a message gets a delivery report.
    pub delivery_report: bool,
    pub subscribable_for: SubscribableFor,
    /// Set only when `subscribable_for` is `Configured`.
    pub subscribable_mode: Option<SubscribableMode>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Who may subscribe themselves to a list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscribableFor {
    /// Only the list's managers edit subscriptions.
    #[default]
    Nobody,
    /// People covered by a group (or event) subscription.
    Configured,
    /// Every user.
    Anyone,
}

/// For `Configured` lists: whether covered people receive mail until they
/// leave (opt-out) or only after they join (opt-in).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubscribableMode {
    OptOut,
    OptIn,
}

/// What a subscription subscribes (section 6.2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Subscriber {
    /// One person: included, or excluded (an exclusion always wins).
    Person {
        person_id: PersonId,
        is_excluded: bool,
    },
    /// Everyone holding one of `role_types` in the group or any group
    /// below it.
    Group {
        group_id: GroupId,
        role_types: Vec<String>,
    },
}

/// A subscription, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub mailing_list_id: MailingListId,
    pub subscriber: Subscriber,
}

/// A list's subscription of an event: the event's active participants
/// receive the list's mail (section 6.2). Kept apart from
/// [`Subscription`] because it has a table of its own.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventSubscription {
    pub id: EventSubscriptionId,
    pub mailing_list_id: MailingListId,
    pub event_id: EventId,
}

/// One address a list's mail goes to, and the person it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Recipient {
    pub person_id: PersonId,
    /// Lowercase; each address appears once per list.
    pub email: String,
}

impl SubscribableFor {
    /// The stored form: `nobody`, `configured` or `anyone`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscribableFor::Nobody => "nobody",
            SubscribableFor::Configured => "configured",
            SubscribableFor::Anyone => "anyone",
        }
    }

    /// The value of a stored form or a form field; `None` for anything
    /// else.
    pub fn parse(text: &str) -> Option<SubscribableFor> {
        match text {
            "nobody" => Some(SubscribableFor::Nobody),
            "configured" => Some(SubscribableFor::Configured),
            "anyone" => Some(SubscribableFor::Anyone),
            _ => None,
        }
    }
}

impl SubscribableMode {
    /// The stored form: `opt_out` or `opt_in`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscribableMode::OptOut => "opt_out",
            SubscribableMode::OptIn => "opt_in",
        }
    }

    /// The value of a stored form or a form field; `None` for anything
    /// else.
    pub fn parse(text: &str) -> Option<SubscribableMode> {
        match text {
            "opt_out" => Some(SubscribableMode::OptOut),
            "opt_in" => Some(SubscribableMode::OptIn),
            _ => None,
        }
    }
}

impl MailingList {
    /// The list's address at `list_domain`, when it has a mail name.
    pub fn address(&self, list_domain: &str) -> Option<String> {
        self.mail_name
            .as_ref()
            .map(|name| format!("{name}@{list_domain}"))
    }

    /// Whether covered people receive mail only after they subscribe
    /// (`Configured` with opt-in); then direct inclusions alone reach
    /// nobody.
    pub fn is_opt_in(&self) -> bool {
        self.subscribable_for == SubscribableFor::Configured
            && self.subscribable_mode == Some(SubscribableMode::OptIn)
    }
}

/// The editable fields of a mailing list, as a form submits them; see
/// [`MailingListPatch::validated`] for what a valid one looks like.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailingListPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub publisher: Option<String>,
    pub mail_name: Option<String>,
    /// Entries may themselves be comma or semicolon separated lists, as a
    /// single text field submits them.
    pub additional_senders: Vec<String>,
    pub subscribers_may_post: bool,
    pub anyone_may_post: bool,
    /// Entries may be comma separated lists, like `additional_senders`.
    pub preferred_labels: Vec<String>,
    pub main_email: bool,
    pub delivery_report: bool,
    pub subscribable_for: SubscribableFor,
    pub subscribable_mode: Option<SubscribableMode>,
}

/// A new list of a group: its group and validated fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewMailingList {
    pub group_id: GroupId,
    pub fields: MailingListPatch,
}

impl MailingListPatch {
    /// Trims, normalises and checks the fields (section 6.1).
    ///
    /// The name is required; the mail name is optional, lowercased and must
    /// match `^[a-z][a-z0-9\-_.]*$` (at most 64 characters, the limit of a
    /// local part); additional senders are split at commas and semicolons,
    /// lowercased, deduplicated, and each must be an address or `*@domain`;
    /// preferred labels are split at commas, trimmed, deduplicated, sorted,
    /// blanks dropped; the subscription mode is kept only for
    /// `Configured` lists, where it defaults to opt-out.
    ///
    /// Whether the mail name is free is the store's question (a conflict on
    /// `mail_name`).
    ///
    /// # Errors
    /// The violations, by field: `name` (`errors.required`,
    /// `errors.single_line`, `errors.too_long`), `mail_name`
    /// (`errors.invalid_mail_name`), `additional_senders`
    /// (`errors.invalid_email`), `description` (`errors.too_long`),
    /// `publisher` and `preferred_labels` (`errors.single_line`,
    /// `errors.too_long`).
    pub fn validated(self) -> Result<MailingListPatch, Violations> {
        let mut v = Violations::default();
        let name = clean(self.name);
        if name.is_none() {
            v.add("name", "errors.required");
        }
        single_line(&mut v, "name", &name, 255);
        let description = clean(self.description);
        if description
            .as_ref()
            .is_some_and(|d| d.chars().count() > 65_535)
        {
            v.add("description", "errors.too_long");
        }
        let publisher = clean(self.publisher);
        single_line(&mut v, "publisher", &publisher, 255);
        let mail_name = clean(self.mail_name).map(|m| m.to_lowercase());
        if mail_name.as_deref().is_some_and(|m| !is_valid_mail_name(m)) {
            v.add("mail_name", "errors.invalid_mail_name");
        }
        let additional_senders = senders(&mut v, &self.additional_senders);
        let preferred_labels = labels(&mut v, &self.preferred_labels);
        let subscribable_mode = match self.subscribable_for {
            SubscribableFor::Configured => {
                Some(self.subscribable_mode.unwrap_or(SubscribableMode::OptOut))
            }
            SubscribableFor::Nobody | SubscribableFor::Anyone => None,
        };
        v.into_result(MailingListPatch {
            name,
            description,
            publisher,
            mail_name,
            additional_senders,
            preferred_labels,
            subscribable_mode,
            ..self
        })
    }
}

/// Whether `name` is a valid list mail name: `^[a-z][a-z0-9\-_.]*$`, at
/// most 64 characters, without empty parts between dots, and none of the
/// reserved names (`postmaster` and the like).
pub fn is_valid_mail_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && name.len() <= 64
        // A dot-atom: no empty part between dots (RFC 5322, 3.2.3).
        && !name.contains("..")
        && !name.ends_with('.')
        && !RESERVED_MAIL_NAMES.contains(&name)
}

/// Local parts that mail servers and senders expect to reach a person
/// running the domain (RFC 2142), or that name the list mailbox itself;
/// no list may take them.
// TODO: also refuse the local part of MAIL_RETRIEVER_URL's account
// (section 6.1); the validation would need the mail settings.
const RESERVED_MAIL_NAMES: &[&str] = &[
    "abuse",
    "catchall",
    "hostmaster",
    "mailer-daemon",
    "noreply",
    "postmaster",
    "root",
    "webmaster",
];

#[cfg(test)]
mod mail_name_tests {
    use super::is_valid_mail_name;

    #[rstest::rstest]
    #[case("club-news", true)]
    #[case("a.b", true)]
    #[case("a..b", false)]
    #[case("a.", false)]
    #[case("postmaster", false)]
    #[case("mailer-daemon", false)]
    #[case("postmaster2", true)]
    fn mail_names_are_dot_atoms_and_not_reserved(#[case] name: &str, #[case] is_valid: bool) {
        assert_eq!(is_valid_mail_name(name), is_valid, "{name}");
    }
}

/// Splits a comma or semicolon separated text into trimmed, non-blank
/// entries.
pub fn split_list(text: &str) -> impl Iterator<Item = &str> {
    text.split([',', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// The additional senders: split, lowercased, deduplicated in the order
/// given; each an address or a `*@domain` wildcard.
fn senders(v: &mut Violations, entries: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for entry in entries.iter().flat_map(|e| split_list(e)) {
        let sender = entry.to_lowercase();
        let checked = sender.strip_prefix("*@").map_or(sender.clone(), |domain| {
            // A wildcard stands for any local part: check it as one.
            format!("any@{domain}")
        });
        let mut probe = Violations::default();
        email(&mut probe, "additional_senders", Some(checked));
        if !probe.is_empty() && v.for_field("additional_senders").is_none() {
            v.add("additional_senders", "errors.invalid_email");
        }
        if !out.contains(&sender) {
            out.push(sender);
        }
    }
    out
}

/// The preferred labels: split at commas, trimmed, deduplicated, sorted,
/// blanks dropped.
fn labels(v: &mut Violations, entries: &[String]) -> Vec<String> {
    let mut out: Vec<String> = entries
        .iter()
        .flat_map(|e| e.split(','))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    out.sort();
    out.dedup();
    for label in &out {
        single_line(v, "preferred_labels", &Some(label.clone()), 255);
    }
    out
}

/// Why a subscription cannot be added (section 6.2).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubscriptionRuleError {
    /// A group subscription names no role type.
    #[error("a group subscription needs at least one role type")]
    NoRoleTypes,
    /// A role type the organisation does not define.
    #[error("unknown role type {0}")]
    UnknownRoleType(String),
    /// The subscribed group is neither the list's group nor below it.
    #[error("group {0} is not the list's group or below it")]
    OutsideListGroup(GroupId),
    /// The subscribed group is deleted or archived.
    #[error("group {0} is deleted or archived")]
    InactiveGroup(GroupId),
    /// None of the subscribed event's groups is the list's group or below
    /// it.
    #[error("event {0} is not on the list's group or below it")]
    EventOutsideListGroup(EventId),
    /// The subscribed event has no date from the first of January of the
    /// previous year on.
    #[error("event {0} is too old to subscribe")]
    EventTooOld(EventId),
}

/// Checks a group subscription of a list of `list_group`: at least one role
/// type, each defined by `org`, and `group` active and in the list group's
/// subtree. Role types come back deduplicated and sorted.
///
/// # Errors
/// The first [`SubscriptionRuleError`] found.
pub fn check_group_subscription(
    org: &crate::Organisation,
    list_group: &crate::group::Group,
    group: &crate::group::Group,
    role_types: &[String],
) -> Result<Vec<String>, SubscriptionRuleError> {
    let mut types: Vec<String> = role_types.iter().map(|t| t.trim().to_owned()).collect();
    types.retain(|t| !t.is_empty());
    types.sort();
    types.dedup();
    if types.is_empty() {
        return Err(SubscriptionRuleError::NoRoleTypes);
    }
    if let Some(unknown) = types.iter().find(|t| org.role_type(t).is_none()) {
        return Err(SubscriptionRuleError::UnknownRoleType(unknown.clone()));
    }
    if !group.is_in_subtree_of(list_group.id) {
        return Err(SubscriptionRuleError::OutsideListGroup(group.id));
    }
    if !group.is_active() {
        return Err(SubscriptionRuleError::InactiveGroup(group.id));
    }
    Ok(types)
}

/// The earliest start an event may have a date at to be subscribed on
/// `today`: the first of January of the previous year (section 6.2).
pub fn earliest_subscribable_start(today: NaiveDate) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(today.year() - 1, 1, 1)
        .unwrap_or(NaiveDate::MIN)
        .and_time(NaiveTime::MIN)
}

/// Checks an event subscription of a list of `list_group` (section 6.2):
/// one of the event's groups is the list's group or below it, and one of
/// its dates starts on or after [`earliest_subscribable_start`].
/// `latest_start` is the latest start among the event's dates.
///
/// Whether the manager may see the event is a separate question, for
/// `crate::ability`.
///
/// # Errors
/// The first [`SubscriptionRuleError`] found.
pub fn check_event_subscription(
    list_group: &crate::group::Group,
    event_id: EventId,
    event_groups: &[crate::group::Group],
    latest_start: Option<NaiveDateTime>,
    today: NaiveDate,
) -> Result<(), SubscriptionRuleError> {
    if !event_groups
        .iter()
        .any(|g| !g.is_deleted() && g.is_in_subtree_of(list_group.id))
    {
        return Err(SubscriptionRuleError::EventOutsideListGroup(event_id));
    }
    if latest_start.is_none_or(|start| start < earliest_subscribable_start(today)) {
        return Err(SubscriptionRuleError::EventTooOld(event_id));
    }
    Ok(())
}

/// Whether one of `roles` (a person's) is covered by one of the group
/// subscriptions on `today`: active, of a subscribed type, in a
/// non-deleted group of the subscribed group's subtree (section 6.3,
/// "lists a person may subscribe to").
///
/// Limitations: tag rules are not in this schema yet, so they cover
/// nobody; event subscriptions are not asked here (that would need the
/// person's participations), so taking part in a subscribed event does
/// not yet make a `Configured` list subscribable for someone.
pub fn is_covered(
    subscriptions: &[Subscription],
    roles: &[crate::role::Role],
    tree: &crate::group::GroupTree,
    today: chrono::NaiveDate,
) -> bool {
    subscriptions.iter().any(|s| match &s.subscriber {
        Subscriber::Group {
            group_id,
            role_types,
        } => roles.iter().any(|r| {
            r.is_active(today)
                && role_types.contains(&r.role_type)
                && tree
                    .get(r.group_id)
                    .is_some_and(|g| !g.is_deleted() && g.is_in_subtree_of(*group_id))
        }),
        Subscriber::Person { .. } => false,
    })
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    fn patch(name: &str) -> MailingListPatch {
        MailingListPatch {
            name: Some(name.to_owned()),
            ..MailingListPatch::default()
        }
    }

    fn violation(p: MailingListPatch, field: &str) -> Option<String> {
        p.validated()
            .err()
            .and_then(|v| v.for_field(field).map(str::to_owned))
    }

    #[test]
    fn name_is_required_and_trimmed() {
        assert_eq!(
            violation(patch("  "), "name").as_deref(),
            Some("errors.required")
        );
        let ok = patch("  Leaders ").validated().expect("valid");
        assert_eq!(ok.name.as_deref(), Some("Leaders"));
    }

    #[rstest]
    #[case("leaders", true)]
    #[case("l", true)]
    #[case("club-7_news.de", true)]
    #[case("7club", false)]
    #[case("-club", false)]
    #[case("club news", false)]
    #[case("club@x", false)]
    #[case("clüb", false)]
    #[case("", false)]
    fn mail_name_must_be_a_plain_local_part(#[case] name: &str, #[case] valid: bool) {
        assert_eq!(is_valid_mail_name(name), valid);
    }

    #[test]
    fn mail_name_is_lowercased_and_blank_means_none() {
        let p = MailingListPatch {
            mail_name: Some(" Leaders.News ".into()),
            ..patch("L")
        };
        assert_eq!(
            p.validated().expect("valid").mail_name.as_deref(),
            Some("leaders.news")
        );
        let blank = MailingListPatch {
            mail_name: Some("  ".into()),
            ..patch("L")
        };
        assert_eq!(blank.validated().expect("valid").mail_name, None);
        let bad = MailingListPatch {
            mail_name: Some("2cool".into()),
            ..patch("L")
        };
        assert_eq!(
            violation(bad, "mail_name").as_deref(),
            Some("errors.invalid_mail_name")
        );
    }

    #[test]
    fn additional_senders_are_split_lowercased_and_deduplicated() {
        let p = MailingListPatch {
            additional_senders: vec!["Ann@Example.org; *@Club.CH, ann@example.org".into()],
            ..patch("L")
        };
        assert_eq!(
            p.validated().expect("valid").additional_senders,
            ["ann@example.org", "*@club.ch"]
        );
    }

    #[rstest]
    #[case("not an address")]
    #[case("*@")]
    #[case("*@a@b")]
    #[case("a@b, @c")]
    fn invalid_additional_senders_are_refused(#[case] text: &str) {
        let p = MailingListPatch {
            additional_senders: vec![text.into()],
            ..patch("L")
        };
        assert_eq!(
            violation(p, "additional_senders").as_deref(),
            Some("errors.invalid_email")
        );
    }

    #[test]
    fn preferred_labels_are_stripped_deduplicated_and_sorted() {
        let p = MailingListPatch {
            preferred_labels: vec![" Work, Home ,, Work".into(), "  ".into(), "Alt".into()],
            ..patch("L")
        };
        assert_eq!(
            p.validated().expect("valid").preferred_labels,
            ["Alt", "Home", "Work"]
        );
    }

    #[rstest]
    #[case(SubscribableFor::Nobody, Some(SubscribableMode::OptIn), None)]
    #[case(SubscribableFor::Anyone, Some(SubscribableMode::OptIn), None)]
    #[case(SubscribableFor::Configured, None, Some(SubscribableMode::OptOut))]
    #[case(
        SubscribableFor::Configured,
        Some(SubscribableMode::OptIn),
        Some(SubscribableMode::OptIn)
    )]
    fn subscribable_mode_only_with_configured(
        #[case] subscribable_for: SubscribableFor,
        #[case] given: Option<SubscribableMode>,
        #[case] kept: Option<SubscribableMode>,
    ) {
        let p = MailingListPatch {
            subscribable_for,
            subscribable_mode: given,
            ..patch("L")
        };
        assert_eq!(p.validated().expect("valid").subscribable_mode, kept);
    }

    #[test]
    fn stored_forms_round_trip() {
        for f in [
            SubscribableFor::Nobody,
            SubscribableFor::Configured,
            SubscribableFor::Anyone,
        ] {
            assert_eq!(SubscribableFor::parse(f.as_str()), Some(f));
        }
        for m in [SubscribableMode::OptOut, SubscribableMode::OptIn] {
            assert_eq!(SubscribableMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(SubscribableFor::parse("everyone"), None);
        assert_eq!(SubscribableMode::parse(""), None);
    }

    fn group(id: i64, path: &[i64], is_archived: bool) -> crate::group::Group {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        crate::group::Group {
            id: GroupId(id),
            parent_id: path.len().checked_sub(2).map(|i| GroupId(path[i])),
            path: path.iter().copied().map(GroupId).collect(),
            layer_group_id: GroupId(path[0]),
            group_type: "T".into(),
            name: format!("g{id}"),
            short_name: None,
            email: None,
            description: None,
            address: crate::group::Address::default(),
            created_at: at,
            updated_at: at,
            deleted_at: None,
            archived_at: is_archived.then_some(at),
        }
    }

    fn role(group: i64, role_type: &str, end_on: Option<chrono::NaiveDate>) -> crate::role::Role {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2025, 1, 1, 0, 0, 0)
            .single()
            .expect("valid");
        crate::role::Role {
            id: crate::id::RoleId(1),
            person_id: PersonId(1),
            group_id: GroupId(group),
            role_type: role_type.into(),
            label: None,
            start_on: None,
            end_on,
            archived_at: None,
            is_terminated: false,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_group_subscription_covers_active_roles_of_its_types_below_it() {
        let tree = crate::group::GroupTree::new(vec![
            group(1, &[1], false),
            group(2, &[1, 2], false),
            group(3, &[1, 2, 3], false),
        ]);
        let subs = [Subscription {
            id: SubscriptionId(1),
            mailing_list_id: MailingListId(1),
            subscriber: Subscriber::Group {
                group_id: GroupId(2),
                role_types: vec!["M".into()],
            },
        }];
        let today = chrono::NaiveDate::from_ymd_opt(2025, 3, 1).expect("date");
        let yesterday = today.pred_opt();
        assert!(is_covered(&subs, &[role(3, "M", None)], &tree, today));
        assert!(is_covered(
            &subs,
            &[role(2, "M", Some(today))],
            &tree,
            today
        ));
        assert!(!is_covered(&subs, &[role(3, "M", yesterday)], &tree, today));
        assert!(!is_covered(&subs, &[role(3, "Other", None)], &tree, today));
        assert!(!is_covered(&subs, &[role(1, "M", None)], &tree, today));
    }

    #[test]
    fn group_subscription_checks_types_place_and_state() {
        let org = crate::Organisation::from_toml(
            "[organisation]\nname = \"T\"\nroot = \"Top\"\n[group_types.Top]\nlayer = true\n\
             [[group_types.Top.roles]]\nkey = \"Leader\"\n",
            "t.toml",
        )
        .expect("org");
        let (list_group, below) = (group(2, &[1, 2], false), group(3, &[1, 2, 3], false));
        let check = |g: &crate::group::Group, types: &[&str]| {
            let types: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
            check_group_subscription(&org, &list_group, g, &types)
        };
        assert_eq!(
            check(&below, &["Top.Leader", " Top.Leader"]),
            Ok(vec!["Top.Leader".to_owned()])
        );
        assert_eq!(
            check(&below, &[" "]),
            Err(SubscriptionRuleError::NoRoleTypes)
        );
        assert_eq!(
            check(&below, &["Top.Nobody"]),
            Err(SubscriptionRuleError::UnknownRoleType("Top.Nobody".into()))
        );
        assert_eq!(
            check(&group(1, &[1], false), &["Top.Leader"]),
            Err(SubscriptionRuleError::OutsideListGroup(GroupId(1)))
        );
        assert_eq!(
            check(&group(4, &[1, 2, 4], true), &["Top.Leader"]),
            Err(SubscriptionRuleError::InactiveGroup(GroupId(4)))
        );
    }

    fn at(date: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(&format!("{date}T09:00:00"), "%Y-%m-%dT%H:%M:%S")
            .expect("valid date")
    }

    /// Section 6.2: an event on the list's group or below, with a date
    /// from the first of January of the previous year on.
    #[rstest]
    #[case(&[3], Some("2024-01-01"), Ok(()))]
    #[case(&[2], Some("2026-06-01"), Ok(()))]
    #[case(&[1, 3], Some("2025-03-01"), Ok(()))]
    #[case(&[1], Some("2025-03-01"), Err(SubscriptionRuleError::EventOutsideListGroup(EventId(7))))]
    #[case(&[4], Some("2025-03-01"), Err(SubscriptionRuleError::EventOutsideListGroup(EventId(7))))]
    #[case(&[3], Some("2023-12-31"), Err(SubscriptionRuleError::EventTooOld(EventId(7))))]
    #[case(&[3], None, Err(SubscriptionRuleError::EventTooOld(EventId(7))))]
    fn events_below_the_list_group_and_recent_enough_may_be_subscribed(
        #[case] groups: &[i64],
        #[case] latest_start: Option<&str>,
        #[case] expected: Result<(), SubscriptionRuleError>,
    ) {
        let list_group = group(2, &[1, 2], false);
        let all = [
            group(1, &[1], false),
            list_group.clone(),
            group(3, &[1, 2, 3], false),
            group(4, &[1, 4], false),
        ];
        let event_groups: Vec<_> = all
            .iter()
            .filter(|g| groups.contains(&g.id.0))
            .cloned()
            .collect();
        let today = NaiveDate::from_ymd_opt(2025, 6, 30).expect("valid");
        assert_eq!(
            check_event_subscription(
                &list_group,
                EventId(7),
                &event_groups,
                latest_start.map(at),
                today
            ),
            expected
        );
    }

    #[test]
    fn description_over_the_limit_is_refused() {
        let p = MailingListPatch {
            description: Some("x".repeat(65_536)),
            ..patch("L")
        };
        assert_eq!(
            violation(p, "description").as_deref(),
            Some("errors.too_long")
        );
    }
}
