//! Who may see, download, retry and delete jobs (hitobito's job
//! observations): each person their own jobs; administrators (the `admin`
//! permission through an active role in an active group, or root) also the
//! failed jobs of everyone, which they may retry or delete.

use super::{Actor, Permit, Refusal};
use crate::id::JobId;
use crate::jobs::{Job, JobState};
use crate::permission::Permission;

/// Permit target: retry or delete this failed job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ManageJob(pub JobId);

fn is_administrator(actor: &Actor) -> bool {
    actor.is_root
        || actor
            .grants
            .iter()
            .any(|g| g.permission == Permission::Admin && g.is_group_active)
}

fn is_owner(actor: &Actor, job: &Job) -> bool {
    job.enqueued_by == Some(actor.person_id)
}

/// Whether the actor sees this job on the job page.
pub fn may_see_job(actor: &Actor, job: &Job) -> bool {
    is_owner(actor, job) || (is_administrator(actor) && job.state() == JobState::Failed)
}

/// Whether the actor sees the failed jobs of everyone.
pub fn may_see_failed_jobs(actor: &Actor) -> bool {
    is_administrator(actor)
}

/// Whether the actor may download the file the job made: its owner only,
/// not even an administrator, since the file holds what the owner may see.
pub fn may_download_job_file(actor: &Actor, job: &Job) -> bool {
    is_owner(actor, job) && job.state() == JobState::Succeeded && job.result_file.is_some()
}

/// A permit to retry or delete a failed job.
///
/// # Errors
/// [`Refusal::NoPermission`] for anyone but an administrator, or for a job
/// that has not failed.
pub fn permit_manage_job(actor: &Actor, job: &Job) -> Result<Permit<ManageJob>, Refusal> {
    if is_administrator(actor) && job.state() == JobState::Failed {
        Ok(Permit {
            target: ManageJob(job.id),
        })
    } else {
        Err(Refusal::NoPermission)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use rstest::rstest;

    use super::*;
    use crate::ability::Grant;
    use crate::id::{GroupId, PersonId, WorkerId};

    const OWNER: PersonId = PersonId(1);
    const OTHER: PersonId = PersonId(2);

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 3, 12, minute, 0)
            .single()
            .expect("a valid time")
    }

    #[derive(Clone, Copy, Debug)]
    enum Who {
        /// A person with a role that grants nothing special.
        Plain,
        /// The `admin` permission through a role in an active group.
        Admin,
        /// The `admin` permission, but the group is archived or deleted.
        AdminOfInactiveGroup,
        Root,
    }

    fn actor(person_id: PersonId, who: Who) -> Actor {
        let grant = |permission, is_group_active| Grant {
            permission,
            group_id: GroupId(1),
            layer_group_id: GroupId(1),
            is_group_active,
        };
        let grants = match who {
            Who::Plain | Who::Root => vec![grant(Permission::LayerRead, true)],
            Who::Admin => vec![grant(Permission::Admin, true)],
            Who::AdminOfInactiveGroup => vec![grant(Permission::Admin, false)],
        };
        Actor {
            person_id,
            is_root: matches!(who, Who::Root),
            grants,
            has_role: true,
        }
    }

    fn job(state: JobState) -> Job {
        let mut job = Job {
            id: JobId(7),
            kind: "people.export".to_owned(),
            payload: serde_json::json!({}),
            queue: "default".to_owned(),
            priority: 0,
            run_at: at(0),
            attempts: 1,
            max_attempts: 3,
            max_run_secs: 60,
            last_error: None,
            locked_by: None,
            locked_at: None,
            finished_at: None,
            failed_at: None,
            enqueued_by: Some(OWNER),
            progress: None,
            result_file: None,
            singleton_key: None,
            created_at: at(0),
        };
        match state {
            JobState::Pending => {}
            JobState::Running => {
                job.locked_by = Some(WorkerId(3));
                job.locked_at = Some(at(1));
            }
            JobState::Succeeded => {
                job.locked_at = Some(at(1));
                job.finished_at = Some(at(2));
                job.result_file = Some("exports/7.csv".to_owned());
            }
            JobState::Failed => {
                job.locked_at = Some(at(1));
                job.failed_at = Some(at(2));
                job.last_error = Some("boom".to_owned());
            }
        }
        assert_eq!(job.state(), state);
        job
    }

    const STATES: [JobState; 4] = [
        JobState::Pending,
        JobState::Running,
        JobState::Succeeded,
        JobState::Failed,
    ];

    #[rstest]
    #[case(Who::Plain)]
    #[case(Who::Admin)]
    #[case(Who::Root)]
    fn owners_see_their_jobs_in_every_state(#[case] who: Who) {
        for state in STATES {
            assert!(may_see_job(&actor(OWNER, who), &job(state)), "{state:?}");
        }
    }

    #[rstest]
    #[case(Who::Admin, true)]
    #[case(Who::Root, true)]
    #[case(Who::Plain, false)]
    #[case(Who::AdminOfInactiveGroup, false)]
    fn of_other_peoples_jobs_only_administrators_see_the_failed_ones(
        #[case] who: Who,
        #[case] is_admin: bool,
    ) {
        let viewer = actor(OTHER, who);
        assert_eq!(may_see_failed_jobs(&viewer), is_admin);
        for state in STATES {
            let expected = is_admin && state == JobState::Failed;
            assert_eq!(may_see_job(&viewer, &job(state)), expected, "{state:?}");
        }
    }

    #[test]
    fn nobody_but_an_administrator_sees_a_failed_job_nobody_owns() {
        let system_job = Job {
            enqueued_by: None,
            ..job(JobState::Failed)
        };
        assert!(!may_see_job(&actor(OWNER, Who::Plain), &system_job));
        assert!(may_see_job(&actor(OWNER, Who::Admin), &system_job));
    }

    #[rstest]
    #[case(Who::Plain)]
    #[case(Who::Admin)]
    #[case(Who::Root)]
    fn only_the_owner_downloads_and_only_a_finished_file(#[case] who: Who) {
        let done = job(JobState::Succeeded);
        assert!(may_download_job_file(&actor(OWNER, who), &done));
        assert!(!may_download_job_file(&actor(OTHER, who), &done));
        let no_file = Job {
            result_file: None,
            ..done.clone()
        };
        assert!(!may_download_job_file(&actor(OWNER, who), &no_file));
        let running = Job {
            result_file: Some("exports/7.csv".to_owned()),
            ..job(JobState::Running)
        };
        assert!(!may_download_job_file(&actor(OWNER, who), &running));
    }

    #[rstest]
    #[case(Who::Admin, OTHER)]
    #[case(Who::Root, OTHER)]
    #[case(Who::Admin, OWNER)]
    fn administrators_get_the_manage_permit_for_failed_jobs_only(
        #[case] who: Who,
        #[case] person: PersonId,
    ) {
        let admin = actor(person, who);
        let permit = permit_manage_job(&admin, &job(JobState::Failed)).expect("a failed job");
        assert_eq!(permit.target(), &ManageJob(JobId(7)));
        for state in [JobState::Pending, JobState::Running, JobState::Succeeded] {
            assert_eq!(
                permit_manage_job(&admin, &job(state)).err(),
                Some(Refusal::NoPermission),
                "{state:?}"
            );
        }
    }

    #[rstest]
    #[case(Who::Plain, OWNER)]
    #[case(Who::Plain, OTHER)]
    #[case(Who::AdminOfInactiveGroup, OTHER)]
    fn nobody_else_gets_the_manage_permit(#[case] who: Who, #[case] person: PersonId) {
        assert_eq!(
            permit_manage_job(&actor(person, who), &job(JobState::Failed)).err(),
            Some(Refusal::NoPermission)
        );
    }
}
