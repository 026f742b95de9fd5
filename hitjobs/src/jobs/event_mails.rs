//! `event.participation_mail`: the mails a registration sends (section
//! 5.4, 4 and 7): the confirmation and the cancellation to the
//! participant, the notification to the event's contact and the approval
//! request to the holders of `approve_applications` in the applicant's
//! layers.
//!
//! The job is written in the transaction of the change that needs it; it
//! reads the event and the people when it runs, so an address changed in
//! between is the one used. Who receives an approval request is decided
//! by `hitcore::event::application::approval_layers`. Texts are
//! `templates/mail/event_*.<language>.{txt,html}`.
//!
//! A mail for several people (an approval request to several approvers)
//! becomes one job per recipient, so a failure at one address retries
//! that address only instead of sending the others theirs again.

use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use hitcore::event::application::approval_layers;
use hitcore::event::participation::ParticipationMail;
use hitcore::id::{EventId, PersonId};
use hitcore::jobs::JobKind;
use hitcore::mail::{Envelope, OutgoingMail};
use hitcore::permission::Permission;
use hitcore::person::Person;
use hitcore::store::Store;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use serde::{Deserialize, Serialize};

use super::Services;
use crate::mail::SendError;
use crate::mail_text;
use crate::registry::{JobContext, PermanentFailure};

/// Send one of the mails of a registration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventParticipationMail {
    pub event_id: EventId,
    /// The participant.
    pub person_id: PersonId,
    pub mail: ParticipationMail,
    /// Only this one of the mail's recipients; `None`: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<PersonId>,
}

impl JobKind for EventParticipationMail {
    const KIND: &'static str = "event.participation_mail";
    /// An approval request goes to a handful of people, one message each.
    const MAX_RUN: Duration = Duration::from_secs(5 * 60);
    /// About an hour of retries with the default back-off.
    const MAX_ATTEMPTS: u32 = 8;
}

/// What the event mail templates see.
#[derive(Clone, Debug, Serialize)]
struct EventMailView {
    /// The greeting name of the recipient.
    name: String,
    /// The participant's name.
    participant: String,
    event_name: String,
    organisation: String,
    /// The participation page (or the event page once it is gone).
    link: String,
    pending: bool,
    waiting_list: bool,
}

/// Runs an `event.participation_mail` job.
#[tracing::instrument(skip_all, fields(event.id = %job.event_id, person.id = %job.person_id))]
pub(super) fn run<S: Store + ?Sized>(
    job: EventParticipationMail,
    ctx: &JobContext<'_, S>,
    services: &Services,
) -> anyhow::Result<()> {
    let store = ctx.store();
    let Some(event) = store
        .event(job.event_id)
        .context("while reading the event")?
    else {
        tracing::info!(event.id = %job.event_id, "Event {} is gone; no mail", job.event_id);
        return Ok(());
    };
    let Some(participant) = store
        .person(job.person_id)
        .context("while reading the participant")?
    else {
        tracing::info!(person.id = %job.person_id, "Person {} is gone; no mail", job.person_id);
        return Ok(());
    };
    let participation = store
        .participation_of(event.id, participant.id)
        .context("while reading the participation")?;
    let group = event.group_ids.first().map_or(0, |g| g.0);
    let base = &services.mail.base_url;
    let link = match &participation {
        Some(p) => format!(
            "{base}/groups/{group}/events/{}/participations/{}",
            event.id, p.id
        ),
        None => format!("{base}/groups/{group}/events/{}", event.id),
    };
    let application = match &participation {
        Some(p) => store
            .participation(p.id)
            .context("while reading the application")?
            .and_then(|e| e.application),
        None => None,
    };
    let mut recipients = recipients(job, &event, &participant, ctx, services)?;
    match job.recipient {
        // Still one of them: an approver who lost the role gets nothing.
        Some(only) => recipients.retain(|r| r.id == only),
        None if recipients.len() > 1 => return fan_out(job, &recipients, ctx),
        None => {}
    }
    for recipient in recipients {
        let Some(email) = recipient.email.clone() else {
            continue;
        };
        let view = EventMailView {
            name: recipient.greeting_name().to_owned(),
            participant: participant.display_name(),
            event_name: event.name.clone(),
            organisation: services.org.name.clone(),
            link: link.clone(),
            pending: participation.as_ref().is_some_and(|p| !p.active),
            waiting_list: application.as_ref().is_some_and(|a| a.waiting_list),
        };
        send(job.mail, &view, &recipient, &email, ctx, services)?;
    }
    Ok(())
}

/// Enqueues one job per recipient of `job`. Each carries a singleton key
/// of this job and the recipient, so a rerun of this job (it crashed after
/// enqueueing) adds none that is still pending.
fn fan_out<S: Store + ?Sized>(
    job: EventParticipationMail,
    recipients: &[Person],
    ctx: &JobContext<'_, S>,
) -> anyhow::Result<()> {
    let now = ctx.now();
    for r in recipients {
        let single = EventParticipationMail {
            recipient: Some(r.id),
            ..job
        };
        let mut new = hitcore::jobs::NewJob::of(&single, now)?;
        new.enqueued_by = ctx.job().enqueued_by;
        new.singleton_key = Some(format!(
            "{}/{}/{}",
            EventParticipationMail::KIND,
            ctx.id(),
            r.id
        ));
        ctx.store()
            .enqueue(&new, now)
            .context("while enqueueing a mail for one recipient")?;
    }
    tracing::info!(
        mail.recipients = recipients.len(),
        "Split the {} mail into one job per recipient",
        job.mail.template()
    );
    Ok(())
}

/// Who gets `job.mail`.
fn recipients<S: Store + ?Sized>(
    job: EventParticipationMail,
    event: &hitcore::event::Event,
    participant: &Person,
    ctx: &JobContext<'_, S>,
    services: &Services,
) -> anyhow::Result<Vec<Person>> {
    let store = ctx.store();
    let people = match job.mail {
        ParticipationMail::Confirmation | ParticipationMail::Cancellation => {
            vec![participant.clone()]
        }
        ParticipationMail::ContactNotification => match event.contact_id {
            Some(id) => store
                .person(id)
                .context("while reading the contact")?
                .into_iter()
                .collect(),
            None => Vec::new(),
        },
        ParticipationMail::ApprovalRequest => {
            let today = ctx.now().date_naive();
            let roles = store
                .roles_of_person(participant.id)
                .context("while reading the applicant's roles")?;
            let groups = store.all_groups().context("while reading the groups")?;
            let layer_of = |id| {
                groups
                    .iter()
                    .find(|g| g.id == id && !g.is_deleted())
                    .map(|g| g.layer_group_id)
            };
            let layers = approval_layers(&services.org, &roles, layer_of, today);
            let types = services.org.role_keys_with(Permission::ApproveApplications);
            let ids = store
                .people_with_roles_in_layers(&layers, &types, today)
                .context("while reading the approvers")?;
            let mut people = Vec::new();
            for id in ids {
                people.extend(store.person(id).context("while reading an approver")?);
            }
            people
        }
    };
    Ok(people)
}

/// Renders and sends one message to one recipient.
#[tracing::instrument(skip_all, fields(person.id = %recipient.id))]
fn send<S: Store + ?Sized>(
    mail: ParticipationMail,
    view: &EventMailView,
    recipient: &Person,
    email: &str,
    ctx: &JobContext<'_, S>,
    services: &Services,
) -> anyhow::Result<()> {
    let name = mail.template();
    let lang = [recipient.language.as_str(), services.org.default_language()]
        .into_iter()
        .find(|lang| mail_text::has_language(name, lang))
        .unwrap_or("en");
    let text = mail_text::render(name, lang, view)?;
    let html = mail_text::render_html(name, lang, view)?;
    let permanent = |what: &str| anyhow::Error::new(PermanentFailure(what.to_owned()));
    let from: lettre::Address = services
        .mail
        .from
        .parse()
        .map_err(|_| permanent("the sender address (MAIL_FROM) is not valid"))?;
    let Ok(to) = email.parse::<lettre::Address>() else {
        tracing::warn!(person.id = %recipient.id, "Person {} has no valid email; skipped", recipient.id);
        return Ok(());
    };
    let message_id = format!("<{}@{}>", &hitcore::auth::new_token()[..32], from.domain());
    let message = Message::builder()
        .message_id(Some(message_id.clone()))
        .date(SystemTime::from(ctx.now()))
        .from(Mailbox::new(None, from))
        .to(Mailbox::new(None, to))
        .subject(text.subject)
        .multipart(MultiPart::alternative_plain_html(text.body, html))
        .context("while building the message")?;
    let outgoing = OutgoingMail {
        envelope: Envelope {
            from: Some(services.mail.from.clone()),
            to: vec![email.to_owned()],
        },
        message: message.formatted(),
    };
    match services.mailer.send(&outgoing) {
        Ok(delivery) if delivery.accepted.is_empty() => {
            // Only the status code: the server's reply names the address.
            let code = delivery.refused.first().map(|r| r.code.to_string());
            return Err(anyhow::anyhow!(
                "the mail server refused the recipient ({})",
                code.unwrap_or_default()
            ));
        }
        Ok(_) => {}
        Err(SendError::Permanent(reason)) => {
            return Err(anyhow::Error::new(PermanentFailure(reason)));
        }
        Err(e) => return Err(anyhow::Error::new(e)),
    }
    tracing::info!(
        person.id = %recipient.id,
        mail.message_id = %message_id,
        "Sent the {name} mail to person {}", recipient.id
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> EventMailView {
        EventMailView {
            name: "Ann".to_owned(),
            participant: "Bob <B>".to_owned(),
            event_name: "BLC & more".to_owned(),
            organisation: "Demo".to_owned(),
            link: "http://x/groups/1/events/2/participations/3".to_owned(),
            pending: true,
            waiting_list: true,
        }
    }

    #[test]
    fn every_event_mail_renders_in_english_and_german() {
        for mail in [
            ParticipationMail::Confirmation,
            ParticipationMail::ContactNotification,
            ParticipationMail::ApprovalRequest,
            ParticipationMail::Cancellation,
        ] {
            for lang in ["en", "de"] {
                let text = mail_text::render(mail.template(), lang, &view()).expect("text");
                assert!(text.subject.contains("BLC & more"), "{mail:?} {lang}");
                let html = mail_text::render_html(mail.template(), lang, &view()).expect("html");
                assert!(html.contains("BLC &amp; more"), "{mail:?} {lang}");
            }
        }
    }

    #[test]
    fn confirmation_says_when_the_applicant_waits() {
        let text = mail_text::render("event_confirmation", "en", &view()).expect("text");
        assert!(text.body.contains("waiting list"));
        let placed = EventMailView {
            pending: false,
            waiting_list: false,
            ..view()
        };
        let text = mail_text::render("event_confirmation", "en", &placed).expect("text");
        assert!(text.body.contains("You have a place"));
    }
}
