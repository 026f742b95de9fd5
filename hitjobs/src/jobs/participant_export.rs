//! `participants.export`: an event's participant list as a file (CSV or
//! Excel) in storage, for the person who asked for it to download from
//! the job page.
//!
//! Like the people export, the job decides nothing itself: at run time it
//! rebuilds the requester's permissions from their current roles and
//! their part in the event, and asks `hitcore::ability` whether they may
//! still export the list and with which columns and answers. It then
//! reads the participants a page at a time and writes each page through
//! `hitcore::export` straight into storage.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use hitcore::GroupId;
use hitcore::ability::{self, Actor, EventSubject, EventViewer};
use hitcore::event::participation::OwnParticipation;
use hitcore::event::question::visible_questions;
use hitcore::export::ExportFormat;
use hitcore::export::ExportWriter;
use hitcore::export::participants::{participant_columns, participants_with_contacts};
use hitcore::group::GroupTree;
use hitcore::id::EventId;
use hitcore::jobs::JobKind;
use hitcore::storage::StorageKey;
use hitcore::store::Store;
use serde::{Deserialize, Serialize};

use super::export::{ExportServices, file_stem};
use crate::registry::JobContext;

/// Participants read and written per round.
const PAGE_SIZE: u32 = 500;

/// Export the participants of an event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantExport {
    /// The group the list was requested on (the event's URL).
    pub group_id: GroupId,
    pub event_id: EventId,
    /// The active participants, or the pending applications.
    pub active: bool,
    pub format: ExportFormat,
    /// The requester's language, for the headers and labels.
    pub lang: String,
}

impl JobKind for ParticipantExport {
    const KIND: &'static str = "participants.export";
    /// An event has hundreds of participants, not millions.
    const MAX_RUN: Duration = Duration::from_secs(15 * 60);
    const MAX_ATTEMPTS: u32 = 3;
}

/// Writes the file and records it as the job's result.
pub(super) fn run<S: Store + ?Sized>(
    job: ParticipantExport,
    ctx: &JobContext<'_, S>,
    services: &ExportServices<'_>,
) -> anyhow::Result<()> {
    let store = ctx.store();
    let requester = ctx
        .job()
        .enqueued_by
        .context("an export job without the person who asked for it")?;
    let person = store
        .person(requester)?
        .with_context(|| format!("the requester, person {requester}, is gone"))?;
    let tree = GroupTree::new(store.all_groups()?);
    let today = ctx.now().date_naive();
    let is_root = match (services.root_email, person.email.as_deref()) {
        (Some(root), Some(email)) => root.eq_ignore_ascii_case(email),
        _ => false,
    };
    let roles = store.roles_of_person(person.id)?;
    let actor = Actor::new(person.id, is_root, &roles, &tree, services.org, today);
    let event = store
        .event(job.event_id)?
        .with_context(|| format!("event {} is gone", job.event_id))?;
    let own = store
        .participation_of(event.id, person.id)?
        .map(|p| OwnParticipation {
            active: p.active,
            roles: p.roles.iter().map(|r| r.role_type).collect(),
        });
    let subject = EventSubject {
        event: &event,
        groups: event
            .group_ids
            .iter()
            .filter_map(|g| tree.get(*g))
            .collect(),
        own,
    };
    let viewer = EventViewer::new(&actor, &roles, &tree, today);
    let permit = ability::permit_export_participants(&actor, &subject, &viewer, job.active)
        .map_err(|r| anyhow!("the requester may no longer export these participants: {r:?}"))?;
    let scope = ability::participant_export_scope(&actor, &subject, &viewer, &permit);
    let questions = store.questions(event.id)?;
    let shown = visible_questions(&questions, &scope.answers);
    let lang = if services.org.languages.contains(&job.lang) {
        job.lang.as_str()
    } else {
        "en"
    };
    let columns = participant_columns(scope.set, lang, services.org, &tree, &shown);

    let key = StorageKey::new(format!(
        "exports/{}/{}.{}",
        ctx.id(),
        file_stem(&event.name),
        job.format.extension()
    ))?;
    let out = services.storage.writer(&key)?;
    let mut writer = ExportWriter::new(job.format, out, columns)?;
    write_pages(store, &job, &shown, lang, &mut writer, ctx)?;
    let rows = writer.rows_written();
    let bytes = writer.finish()?.finish()?;
    ctx.set_result_file(key.as_str())?;
    tracing::info!(
        event.id = %event.id,
        export.rows = rows,
        size_bytes = bytes,
        file.key = key.as_str(),
        "Exported {rows} participants of event {}",
        event.id
    );
    Ok(())
}

/// Reads the participants page by page and writes every one, reporting
/// the progress after each page.
fn write_pages<S, W>(
    store: &S,
    job: &ParticipantExport,
    shown: &[&hitcore::event::question::Question],
    lang: &str,
    writer: &mut ExportWriter<'_, W>,
    ctx: &JobContext<'_, S>,
) -> anyhow::Result<()>
where
    S: Store + ?Sized,
    W: std::io::Write + Send,
{
    let mut page = 1;
    loop {
        let listed = store.participants_for_export(job.event_id, job.active, page, PAGE_SIZE)?;
        let ids: Vec<_> = listed.items.iter().map(|p| p.person.id).collect();
        let (emails, phones) = store.contacts_of_people(&ids)?;
        // The column set leaves out what the requester may not see
        // (non-public contact accounts among them), the questions the
        // answers they may not read.
        for p in participants_with_contacts(&listed.items, &emails, &phones, shown, lang) {
            writer.write_person(&p)?;
        }
        ctx.progress(writer.rows_written(), listed.total)?;
        if listed.items.len() < usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX) {
            return Ok(());
        }
        page += 1;
    }
}
