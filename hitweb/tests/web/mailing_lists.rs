//! Mailing lists: who may see and change them (the mailing-list table of
//! section 4.3), the form's messages, escaping, the one-click subscribe
//! button that changes who receives the mail, and event subscriptions.

use chrono::Utc;
use hitcore::ability::{CreateMailingList, system};
use hitcore::group::Group;
use hitcore::mailing_list::{MailingList, MailingListPatch, NewMailingList, SubscribableFor};
use hitcore::store::{ListMailRepo, MailingListRepo, ParticipationRepo, PersonRepo};
use poem::http::{Method, StatusCode};

use crate::support::{TestApp, Token, unescape};

/// A list created by the system in `group`.
fn list(
    app: &TestApp,
    group: &Group,
    name: &str,
    subscribable_for: SubscribableFor,
) -> MailingList {
    let fields = MailingListPatch {
        name: Some(name.to_owned()),
        mail_name: Some("club-news".to_owned()),
        subscribable_for,
        ..MailingListPatch::default()
    }
    .validated()
    .expect("valid fields");
    app.store
        .create_mailing_list(
            &system(CreateMailingList(group.id)),
            &NewMailingList {
                group_id: group.id,
                fields,
            },
            Utc::now(),
        )
        .expect("list created")
}

fn count_in(body: &str) -> Option<u64> {
    let start = body.find("class=\"recipient-count\">")? + "class=\"recipient-count\">".len();
    body[start..].split('<').next()?.trim().parse().ok()
}

#[tokio::test]
async fn leader_creates_a_list_and_sees_it_in_the_index() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let form = alex
        .get(&format!("/groups/{}/mailing_lists/new", club.id))
        .await;
    form.assert_status(StatusCode::OK);
    assert!(form.body.contains("id=\"mailing-list-form\""));
    assert!(form.body.contains("name=\"csrf_token\""));

    let created = alex
        .post(
            &format!("/groups/{}/mailing_lists", club.id),
            &[
                ("name", "Club news"),
                ("mail_name", "Club-News"),
                ("additional_senders", "press@example.org; *@alpha.ch"),
                ("subscribable_for", "anyone"),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    let stored = app
        .store
        .mailing_lists_of_group(club.id)
        .expect("lists")
        .pop()
        .expect("one list");
    assert_eq!(created.location(), format!("/mailing_lists/{}", stored.id));
    assert_eq!(stored.mail_name.as_deref(), Some("club-news"));
    assert_eq!(
        stored.additional_senders,
        ["press@example.org", "*@alpha.ch"]
    );

    let show = alex.get(&format!("/mailing_lists/{}", stored.id)).await;
    show.assert_status(StatusCode::OK);
    assert!(
        show.body.contains("club-news@lists.localhost"),
        "{}",
        show.body
    );

    let index = alex
        .get(&format!("/groups/{}/mailing_lists", club.id))
        .await;
    index.assert_status(StatusCode::OK);
    assert!(index.is_full_page() && index.has_vary_hx_request());
    assert!(index.body.contains("Club news"));
    let fragment = alex
        .get_htmx(&format!("/groups/{}/mailing_lists", club.id))
        .await;
    assert!(!fragment.is_full_page());
    assert!(fragment.has_vary_hx_request());
    assert!(fragment.body.contains("id=\"mailing-lists-table\""));
    assert!(fragment.body.contains("Club news"));
}

#[tokio::test]
async fn bad_mail_name_re_renders_the_form_with_the_message() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .post_htmx(
            &format!("/groups/{}/mailing_lists", club.id),
            &[("name", "Club news"), ("mail_name", "9 lives")],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!page.is_full_page());
    assert!(page.body.contains("id=\"mailing-list-form\""));
    assert!(
        page.body.contains("must start with a letter"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("value=\"9 lives\""),
        "keeps what was typed"
    );
    assert!(
        app.store
            .mailing_lists_of_group(club.id)
            .expect("lists")
            .is_empty()
    );
}

#[tokio::test]
async fn taken_mail_name_is_a_message_on_the_field() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    list(&app, &club, "First", SubscribableFor::Nobody);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex
        .post(
            &format!("/groups/{}/mailing_lists", club.id),
            &[("name", "Second"), ("mail_name", "CLUB-NEWS")],
        )
        .await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.is_full_page());
    assert!(page.body.contains("is already taken"), "{}", page.body);
}

#[tokio::test]
async fn list_name_is_escaped() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(
        &app,
        &club,
        "<script>alert(1)</script>",
        SubscribableFor::Anyone,
    );
    let mut alex = app.signed_in("alpha@demo.example").await;
    for path in [
        format!("/mailing_lists/{}", l.id),
        format!("/groups/{}/mailing_lists", club.id),
        format!("/mailing_lists/{}/edit", l.id),
    ] {
        let page = alex.get(&path).await;
        page.assert_status(StatusCode::OK);
        assert!(!page.body.contains("<script>alert(1)"), "{path}");
        assert!(page.body.contains("&lt;script&gt;alert(1)"), "{path}");
    }
}

#[tokio::test]
async fn trainer_may_not_create_or_edit_lists_of_the_club_group() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Club news", SubscribableFor::Nobody);
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!("/groups/{}/mailing_lists/new", club.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(
        &format!("/groups/{}/mailing_lists", club.id),
        &[("name", "Mine")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    // A nobody-list is not subscribable: not even visible to her.
    tina.get(&format!("/mailing_lists/{}", l.id))
        .await
        .assert_status(StatusCode::FORBIDDEN);
    tina.post(
        &format!("/mailing_lists/{}", l.id),
        &[("name", "Taken over")],
    )
    .await
    .assert_status(StatusCode::FORBIDDEN);
    tina.post(&format!("/mailing_lists/{}/subscribe", l.id), &[])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        app.store
            .mailing_list(l.id)
            .expect("read")
            .expect("kept")
            .name,
        "Club news"
    );
}

#[tokio::test]
async fn leaders_of_other_layers_get_403() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Club news", SubscribableFor::Nobody);
    let beta = app.group("Club Beta");
    app.add_login(&beta, "Club.ClubLeader", "Bea", "beta@demo.example");
    let mut bea = app.signed_in("beta@demo.example").await;
    // Nora leads the region above: layer_and_below_full reaches lists of
    // her own layer only.
    let mut nora = app.signed_in("north@demo.example").await;
    for browser in [&mut bea, &mut nora] {
        for path in [
            format!("/mailing_lists/{}", l.id),
            format!("/mailing_lists/{}/edit", l.id),
            format!("/groups/{}/mailing_lists/new", club.id),
        ] {
            browser
                .get(&path)
                .await
                .assert_status(StatusCode::FORBIDDEN);
        }
        browser
            .post(&format!("/mailing_lists/{}/delete", l.id), &[])
            .await
            .assert_status(StatusCode::FORBIDDEN);
        browser
            .post(
                &format!("/mailing_lists/{}/subscriptions", l.id),
                &[("kind", "group"), ("group_id", &club.id.to_string())],
            )
            .await
            .assert_status(StatusCode::FORBIDDEN);
    }
    assert!(app.store.mailing_list(l.id).expect("read").is_some());
}

#[tokio::test]
async fn subscribing_and_unsubscribing_changes_the_recipient_count() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Open list", SubscribableFor::Anyone);
    let mut tina = app.signed_in("trainer@demo.example").await;
    let page = tina.get(&format!("/mailing_lists/{}", l.id)).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(count_in(&page.body), Some(0));
    let subscribe_url = format!("/mailing_lists/{}/subscribe", l.id);
    assert!(unescape(&page.body).contains(&subscribe_url));
    // Subscriptions and recipients are for the list's managers only.
    assert!(!page.body.contains("id=\"mailing-list-recipients\""));

    let box_after = tina
        .post_htmx(&format!("/mailing_lists/{}/subscribe", l.id), &[])
        .await;
    box_after.assert_status(StatusCode::OK);
    assert!(!box_after.is_full_page());
    assert!(box_after.body.contains("id=\"mailing-list-subscription\""));
    assert_eq!(count_in(&box_after.body), Some(1));
    assert!(unescape(&box_after.body).contains("/unsubscribe"));

    let mut alex = app.signed_in("alpha@demo.example").await;
    let managed = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    assert!(
        managed.body.contains("trainer@demo.example"),
        "the manager sees her"
    );

    let plain = tina
        .post(&format!("/mailing_lists/{}/unsubscribe", l.id), &[])
        .await;
    plain.assert_status(StatusCode::SEE_OTHER);
    let page = tina.get(&format!("/mailing_lists/{}", l.id)).await;
    assert_eq!(count_in(&page.body), Some(0));
}

#[tokio::test]
async fn manager_adds_and_removes_a_group_subscription() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let l = list(&app, &club, "Trainers", SubscribableFor::Nobody);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let added = alex
        .post(
            &format!("/mailing_lists/{}/subscriptions", l.id),
            &[
                ("kind", "group"),
                ("group_id", &members.id.to_string()),
                ("role_types", "ClubMembers.Trainer"),
            ],
        )
        .await;
    added.assert_status(StatusCode::SEE_OTHER);
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    let today = Utc::now().date_naive();
    let trainers = app.store.recipient_count(l.id, today).expect("count");
    assert!(trainers >= 1);
    assert_eq!(count_in(&page.body), Some(trainers));
    assert!(page.body.contains("trainer@demo.example"));

    let subs = app.store.subscriptions(l.id).expect("subscriptions");
    let [sub] = subs.as_slice() else {
        panic!("one subscription: {subs:?}")
    };
    alex.post(
        &format!("/mailing_lists/{}/subscriptions/{}/delete", l.id, sub.id),
        &[],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(app.store.subscriptions(l.id).expect("subs").is_empty());
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    assert_eq!(count_in(&page.body), Some(0));
}

#[tokio::test]
async fn the_group_picker_names_each_group_by_its_path_in_tree_order() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let l = list(&app, &club, "Trainers", SubscribableFor::Nobody);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    let picker = page
        .body
        .split("id=\"subscription-group_id\"")
        .nth(1)
        .and_then(|rest| rest.split("</select>").next())
        .expect("the group picker");
    let labels: Vec<String> = picker
        .split("<option")
        .skip(1)
        .filter_map(|o| o.split_once('>')?.1.split("</option>").next())
        .map(unescape)
        .collect();
    let club_label = club.short_name.clone().unwrap_or(club.name.clone());
    let members_label = members.short_name.clone().unwrap_or(members.name.clone());
    assert_eq!(labels.first(), Some(&club_label), "{labels:?}");
    assert!(
        labels.contains(&format!("{club_label} › {members_label}")),
        "{labels:?}"
    );
    let mut sorted = labels.clone();
    sorted.sort_by_key(|l| {
        l.to_lowercase()
            .split(" › ")
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    assert_eq!(labels, sorted, "in tree order");
}

#[tokio::test]
async fn the_list_page_shows_each_message_with_a_readable_state_and_time() {
    use hitcore::jobs::NewJob;
    use hitcore::list_mail::{InboundOutcome, ListMessageState, NewInboundMail, NewListMessage};

    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Trainers", SubscribableFor::Nobody);
    let raw = b"From: a@example.test\r\nSubject: Big\r\n\r\nx\r\n";
    let mail = NewInboundMail {
        raw,
        arrival_key: "arrival-1".to_owned(),
        message_key: "big@example.test".to_owned(),
        sender: Some("a@example.test".to_owned()),
        subject: "Big".to_owned(),
        outcome: InboundOutcome::Accepted,
        note: None,
    };
    let copy = NewListMessage {
        mailing_list_id: l.id,
        state: ListMessageState::TooLarge,
        is_reply_due: false,
    };
    let received = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 14, 8, 5, 0)
        .single()
        .expect("a valid time");
    // A copy that is finished and owes no reply gets no job.
    let job_for = |_: hitcore::ListMessageId| -> NewJob { unreachable!("no job is due") };
    app.store
        .record_inbound(&mail, &[copy], &job_for, received)
        .expect("recorded");

    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("2026-03-14 08:05 UTC"), "{}", page.body);
    assert!(page.body.contains("Too large"), "{}", page.body);
    assert!(!page.body.contains("too_large"));
}

/// A refused subscription form brings the manager back to the list with
/// the reason on the page, and stores nothing.
#[tokio::test]
async fn a_refused_subscription_says_why_on_the_list_page() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let members = app.child(&club, "ClubMembers");
    let region = app.group("Region North");
    let l = list(&app, &club, "Trainers", SubscribableFor::Nobody);
    let mut alex = app.signed_in("alpha@demo.example").await;
    let path = format!("/mailing_lists/{}/subscriptions", l.id);
    let (members_id, region_id) = (members.id.to_string(), region.id.to_string());
    let cases: [(&[(&str, &str)], &str); 6] = [
        (
            &[("kind", "group"), ("group_id", &members_id)],
            "Choose at least one role type",
        ),
        (
            &[
                ("kind", "group"),
                ("group_id", &members_id),
                ("role_types", "No.Such"),
            ],
            "One of the chosen role types does not exist.",
        ),
        (
            &[
                ("kind", "group"),
                ("group_id", &region_id),
                ("role_types", "ClubMembers.Trainer"),
            ],
            "Only the list&#x27;s group and the groups below it can be subscribed.",
        ),
        (
            &[
                ("kind", "group"),
                ("group_id", "x"),
                ("role_types", "ClubMembers.Trainer"),
            ],
            "Choose one of the groups offered.",
        ),
        (
            &[("kind", "person"), ("person_id", "")],
            "Enter the id of the person to add.",
        ),
        (
            &[("kind", "person"), ("person_id", "999999")],
            "There is no person with this id that you may see.",
        ),
    ];
    for (fields, message) in cases {
        let refused = alex.post(&path, fields).await;
        refused.assert_status(StatusCode::SEE_OTHER);
        let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
        assert!(
            page.body.contains("flash-alert") && page.body.contains(message),
            "{fields:?}: {}",
            page.body
        );
    }
    assert!(app.store.subscriptions(l.id).expect("subs").is_empty());

    let trainers = [
        ("kind", "group"),
        ("group_id", members_id.as_str()),
        ("role_types", "ClubMembers.Trainer"),
    ];
    alex.post(&path, &trainers)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    alex.get(&format!("/mailing_lists/{}", l.id)).await;
    alex.post(&path, &trainers)
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    assert!(
        page.body
            .contains("This subscriber is on the list already."),
        "{}",
        page.body
    );
    assert_eq!(app.store.subscriptions(l.id).expect("subs").len(), 1);
}

/// Regression: a person the manager may not see got a 403 page, an id
/// nobody has a message, so the form told which ids belong to people.
#[tokio::test]
async fn a_person_the_manager_may_not_see_is_answered_as_one_that_does_not_exist() {
    let app = TestApp::new();
    let region = app.group("Region North");
    let l = list(&app, &region, "North", SubscribableFor::Nobody);
    let jan = app.person("Jan", "Junior");
    let mut nora = app.signed_in("north@demo.example").await;
    let path = format!("/mailing_lists/{}/subscriptions", l.id);
    for id in [jan.id.to_string(), "999999".to_owned()] {
        nora.post(&path, &[("kind", "person"), ("person_id", &id)])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let page = nora.get(&format!("/mailing_lists/{}", l.id)).await;
        assert!(
            page.body
                .contains("There is no person with this id that you may see."),
            "{id}: {}",
            page.body
        );
    }
    assert!(app.store.subscriptions(l.id).expect("subs").is_empty());
}

#[tokio::test]
async fn subscription_forms_need_the_csrf_token() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Open list", SubscribableFor::Anyone);
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.get(&format!("/mailing_lists/{}", l.id)).await;
    let page = tina
        .send(
            Method::POST,
            &format!("/mailing_lists/{}/subscribe", l.id),
            false,
            Some(&[]),
            Token::Missing,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.store
            .recipient_count(l.id, Utc::now().date_naive())
            .expect("count"),
        0
    );
    // The manager's own additions go through the same check.
    let jan = app.person("Jan", "Junior");
    let mut alex = app.signed_in("alpha@demo.example").await;
    alex.get(&format!("/mailing_lists/{}", l.id)).await;
    let page = alex
        .send(
            Method::POST,
            &format!("/mailing_lists/{}/subscriptions", l.id),
            false,
            Some(&[("kind", "person"), ("person_id", &jan.id.to_string())]),
            Token::Missing,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}

/// Regression: the recipients on the list page followed the subscription,
/// not the viewer's permissions, so a region's coordinator saw the emails
/// of club juniors the people pages hide from them.
#[tokio::test]
async fn the_recipients_shown_are_only_people_the_viewer_may_see() {
    let app = TestApp::new();
    let region = app.group("Region North");
    let l = list(&app, &region, "North juniors", SubscribableFor::Nobody);
    let mut nora = app.signed_in("north@demo.example").await;
    nora.post(
        &format!("/mailing_lists/{}/subscriptions", l.id),
        &[
            ("kind", "group"),
            ("group_id", &region.id.to_string()),
            ("role_types", "ClubMembers.Junior"),
        ],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let today = Utc::now().date_naive();
    let recipients = app.store.recipients(l.id, today).expect("recipients");
    assert!(
        !recipients.is_empty(),
        "the demo clubs of the region have juniors with emails"
    );

    let page = nora.get(&format!("/mailing_lists/{}", l.id)).await;

    page.assert_status(StatusCode::OK);
    for r in &recipients {
        let person = app
            .store
            .person(r.person_id)
            .expect("read")
            .expect("exists");
        let group = person.primary_group_id.expect("a primary group");
        let allowed = nora
            .get(&format!("/groups/{group}/people/{}", person.id))
            .await;
        if allowed.status == StatusCode::FORBIDDEN {
            assert!(
                !page.body.contains(&r.email),
                "{} is hidden from Nora",
                r.email
            );
        }
    }
    assert!(
        page.body.contains("more not listed"),
        "the hidden ones are counted"
    );
}

/// The recipients section of a list page, as text.
fn recipients_in(body: &str) -> String {
    let Some(start) = body.find("id=\"mailing-list-recipients\"") else {
        return String::new();
    };
    body[start..]
        .split("</ul>")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Section 6.2's event subscriptions: the manager picks a visible course
/// of the list's group; its applicants reach nobody while pending, and a
/// participant receives the list's mail once the market assigns them.
#[tokio::test]
async fn an_event_subscription_reaches_participants_once_they_are_assigned() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Course news", SubscribableFor::Nobody);
    let course =
        crate::participations::event_on(&app, &club, hitcore::event::COURSE, None, Vec::new());
    let bea = crate::participations::beta_member(&app, "Bea");
    let mut b = app.signed_in("bea@beta.example").await;
    b.post(&crate::participations::url(&course, "/participations"), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);

    let mut alex = app.signed_in("alpha@demo.example").await;
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    page.assert_status(StatusCode::OK);
    assert!(page.body.contains("id=\"event-subscription-form\""));
    assert!(
        page.body
            .contains(&format!("<option value=\"{}\">", course.id)),
        "the course is offered"
    );
    let added = alex
        .post(
            &format!("/mailing_lists/{}/event_subscriptions", l.id),
            &[("event_id", &course.id.to_string())],
        )
        .await;
    added.assert_status(StatusCode::SEE_OTHER);
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    assert!(page.body.contains("id=\"mailing-list-events\""));
    assert!(
        unescape(&page.body).contains("Basic <Leader> Course"),
        "the subscribed course is listed"
    );
    assert!(
        recipient_emails(&app, &l).is_empty(),
        "a pending applicant is no recipient"
    );
    assert!(
        page.body
            .contains("<strong class=\"recipient-count\">0</strong>"),
        "the cached count shows no recipient yet"
    );

    let p = app
        .store
        .participation_of(course.id, bea.id)
        .expect("read")
        .expect("bea applied");
    alex.post(
        &crate::participations::url(&course, &format!("/application_market/{}/add", p.id)),
        &[],
    )
    .await;
    assert_eq!(recipient_emails(&app, &l), ["bea@beta.example"]);
    // Alex may not see Club Beta's people: the page counts her only. The
    // count comes from the cache; assigning her gave it a new key at once.
    let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
    assert!(
        page.body
            .contains("<strong class=\"recipient-count\">1</strong>"),
        "the cached count follows the assignment"
    );
    let shown = recipients_in(&page.body);
    assert!(!shown.contains("bea@beta.example"), "{shown}");
    assert!(shown.contains("1 more not listed"), "{shown}");

    // Removing the subscription takes her off the list again.
    let id = app
        .store
        .event_subscriptions(l.id)
        .expect("subscriptions")
        .pop()
        .expect("one")
        .id;
    alex.post(
        &format!("/mailing_lists/{}/event_subscriptions/{id}/delete", l.id),
        &[],
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    assert!(recipient_emails(&app, &l).is_empty());
}

/// Who receives the list's mail today, from the store.
fn recipient_emails(app: &TestApp, l: &MailingList) -> Vec<String> {
    app.store
        .recipients(l.id, Utc::now().date_naive())
        .expect("recipients")
        .into_iter()
        .map(|r| r.email)
        .collect()
}

#[tokio::test]
async fn event_subscriptions_need_the_list_manager_and_an_event_below_the_list() {
    let app = TestApp::new();
    let club = app.group("Club Alpha");
    let l = list(&app, &club, "Course news", SubscribableFor::Anyone);
    let course =
        crate::participations::event_on(&app, &club, hitcore::event::COURSE, None, Vec::new());
    let beta_course = crate::participations::event_on(
        &app,
        &app.group("Club Beta"),
        hitcore::event::COURSE,
        None,
        Vec::new(),
    );
    let hidden = hidden_event(&app, &app.group("Club Beta"));
    let path = format!("/mailing_lists/{}/event_subscriptions", l.id);

    // Tina sees the list (anyone may subscribe) but does not manage it.
    let mut tina = app.signed_in("trainer@demo.example").await;
    tina.post(&path, &[("event_id", &course.id.to_string())])
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let mut alex = app.signed_in("alpha@demo.example").await;
    // Each refusal brings Alex back to the list with its reason.
    let mut refused = async |event_id: &str, message: &str| {
        alex.post(&path, &[("event_id", event_id)])
            .await
            .assert_status(StatusCode::SEE_OTHER);
        let page = alex.get(&format!("/mailing_lists/{}", l.id)).await;
        assert!(
            page.body.contains("flash-alert") && page.body.contains(message),
            "{event_id}: {}",
            page.body
        );
        page
    };
    // An event Alex may not see is answered as if it did not exist.
    let nobody = "There is no event with this id that you may see.";
    refused(&hidden.id.to_string(), nobody).await;
    refused("9999999", nobody).await;
    // Club Beta's course is visible to all, but not below the list's group.
    let offered = refused(
        &beta_course.id.to_string(),
        "This event cannot be subscribed: it must be on the list&#x27;s group or below it",
    )
    .await;
    assert!(
        !offered
            .body
            .contains(&format!("<option value=\"{}\">", beta_course.id)),
        "only events below the list's group are offered"
    );
    refused("x", "Choose one of the events offered.").await;
    assert!(
        app.store
            .event_subscriptions(l.id)
            .expect("none")
            .is_empty()
    );
}

/// A simple event on `group` that only its own layer sees (not globally
/// visible), next month.
fn hidden_event(app: &TestApp, group: &Group) -> hitcore::event::Event {
    use hitcore::ability::CreateEvent;
    use hitcore::event::{EventPatch, NewEvent, NewEventDate, SIMPLE_EVENT};
    use hitcore::store::EventRepo;

    let start = (Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .and_hms_opt(18, 0, 0)
        .expect("a time");
    let fields = EventPatch {
        name: Some("Board dinner".to_owned()),
        globally_visible: Some(false),
        dates: vec![NewEventDate {
            label: None,
            start_at: start,
            finish_at: None,
            location: None,
        }],
        ..EventPatch::defaults_for(SIMPLE_EVENT)
    };
    app.store
        .create_event(
            &system(CreateEvent(vec![group.id])),
            &NewEvent {
                event_type: SIMPLE_EVENT.to_owned(),
                group_ids: vec![group.id],
                fields,
                questions: Vec::new(),
                creator_id: None,
            },
            Utc::now(),
        )
        .expect("event created")
}
