//! `people.export`: a group's people list as a file (CSV, Excel or
//! vCard) in storage, for the person who asked for it to download from
//! the job page.
//!
//! The job decides nothing itself. At run time it rebuilds the
//! requester's permissions from their current roles and asks
//! `hitcore::ability` for the list's query (who is in it) and the column
//! set (address or full); a role ended between the request and the run is
//! therefore no longer used. It then reads the list a page at a time,
//! writes each page through `hitcore::export` straight into storage and
//! reports its progress, so an export of any size holds one page in
//! memory.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use hitcore::ability::{self, Actor, ListRange, ListRequest};
use hitcore::export::{ColumnSet, Columns, ExportFormat, ExportWriter, people_with_contacts};
use hitcore::group::GroupTree;
use hitcore::jobs::JobKind;
use hitcore::org::RoleKind;
use hitcore::storage::{Storage, StorageKey};
use hitcore::store::{PeopleQuery, Store};
use hitcore::{GroupId, Organisation};
use serde::{Deserialize, Serialize};

use crate::registry::JobContext;

/// People read and written per round.
const PAGE_SIZE: u32 = 1_000;

/// Export the people list of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleExport {
    pub group_id: GroupId,
    pub range: ListRange,
    pub kind: RoleKind,
    pub role_type: Option<String>,
    pub text: Option<String>,
    pub format: ExportFormat,
    /// The requester's language, for the headers and labels.
    pub lang: String,
}

impl JobKind for PeopleExport {
    const KIND: &'static str = "people.export";
    /// Half a million people take well under a minute; an hour means the
    /// worker is gone.
    const MAX_RUN: Duration = Duration::from_secs(60 * 60);
    const MAX_ATTEMPTS: u32 = 3;
}

/// What the export needs besides the store.
pub(super) struct ExportServices<'a> {
    pub org: &'a Organisation,
    pub storage: &'a Storage,
    pub root_email: Option<&'a str>,
}

/// Writes the file and records it as the job's result.
pub(super) fn run<S: Store + ?Sized>(
    job: PeopleExport,
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
    let group = tree
        .get(job.group_id)
        .filter(|g| !g.is_deleted())
        .with_context(|| format!("group {} is gone", job.group_id))?;
    let request = ListRequest {
        group,
        range: job.range,
        kind: job.kind,
        role_type: job.role_type.as_deref(),
        text: job.text.as_deref(),
        today,
        page: 1,
        per_page: PAGE_SIZE,
    };
    let query = ability::people_list_query(&actor, &tree, services.org, &request)
        .map_err(|r| anyhow!("the requester may no longer export this list: {r:?}"))?;
    let set = ColumnSet::for_viewer(&actor, group, job.range, &tree);
    let lang = if services.org.languages.contains(&job.lang) {
        job.lang.as_str()
    } else {
        "en"
    };
    let columns = Columns::new(set, lang, services.org, &tree);

    let key = StorageKey::new(format!(
        "exports/{}/{}.{}",
        ctx.id(),
        file_stem(group.display_name()),
        job.format.extension()
    ))?;
    let out = services.storage.writer(&key)?;
    let mut writer = ExportWriter::new(job.format, out, columns)?;
    write_pages(store, &query, &mut writer, ctx)?;
    let rows = writer.rows_written();
    let out = writer.finish()?;
    let bytes = out.finish()?;
    ctx.set_result_file(key.as_str())?;
    tracing::info!(
        export.rows = rows,
        size_bytes = bytes,
        file.key = key.as_str(),
        "Exported {rows} people"
    );
    Ok(())
}

/// Reads the list page by page and writes every person, reporting the
/// progress after each page.
fn write_pages<S, W>(
    store: &S,
    first: &PeopleQuery,
    writer: &mut ExportWriter<'_, W>,
    ctx: &JobContext<'_, S>,
) -> anyhow::Result<()>
where
    S: Store + ?Sized,
    W: std::io::Write + Send,
{
    let mut query = first.clone();
    loop {
        let page = store.people_list(&query)?;
        let ids: Vec<_> = page.items.iter().map(|lp| lp.person.id).collect();
        let (emails, phones) = store.contacts_of_people(&ids)?;
        // The column set leaves out what the requester may not see
        // (non-public contact accounts among them).
        for p in people_with_contacts(&page.items, &emails, &phones) {
            writer.write_person(&p)?;
        }
        ctx.progress(writer.rows_written(), page.total)?;
        if page.items.len() < usize::try_from(query.per_page).unwrap_or(usize::MAX) {
            return Ok(());
        }
        query.page += 1;
    }
}

/// A file name made of the group's name, in the characters storage keys
/// allow: ASCII letters and digits and `-`, German umlauts and ß spelled
/// out, accents dropped, every other run of characters one `_`; at most
/// 60 characters, never empty.
pub(super) fn file_stem(name: &str) -> String {
    let mut stem = String::new();
    for c in name.chars() {
        let spelled: &str = match c {
            'ä' => "ae",
            'ö' => "oe",
            'ü' => "ue",
            'Ä' => "Ae",
            'Ö' => "Oe",
            'Ü' => "Ue",
            'ß' => "ss",
            'à' | 'á' | 'â' | 'å' => "a",
            'è' | 'é' | 'ê' | 'ë' => "e",
            'ì' | 'í' | 'î' | 'ï' => "i",
            'ò' | 'ó' | 'ô' => "o",
            'ù' | 'ú' | 'û' => "u",
            'ç' => "c",
            'ñ' => "n",
            'À' | 'Á' | 'Â' => "A",
            'È' | 'É' | 'Ê' => "E",
            _ => "",
        };
        if !spelled.is_empty() {
            stem.push_str(spelled);
        } else if c.is_ascii_alphanumeric() || c == '-' {
            stem.push(c);
        } else if !stem.ends_with('_') {
            stem.push('_');
        }
    }
    let stem: String = stem.trim_matches('_').chars().take(60).collect();
    let stem = stem.trim_end_matches('_');
    if stem.is_empty() {
        "people".to_owned()
    } else {
        stem.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A regression: a name with an umlaut made a key that storage
    /// refuses, so such a group's export always failed.
    #[test]
    fn file_names_are_made_of_the_group_name_in_characters_storage_takes() {
        for (name, stem) in [
            ("Club Zürich / Jugend", "Club_Zuerich_Jugend"),
            ("Genève Pâquis", "Geneve_Paquis"),
            ("../../etc", "etc"),
            ("///", "people"),
            ("日本", "people"),
            ("Straße-Nord", "Strasse-Nord"),
        ] {
            assert_eq!(file_stem(name), stem, "{name}");
            let key = format!("exports/1/{stem}.csv");
            assert!(StorageKey::new(key.clone()).is_ok(), "{key}");
        }
        let long = "x".repeat(200);
        assert_eq!(file_stem(&long).len(), 60);
    }
}
