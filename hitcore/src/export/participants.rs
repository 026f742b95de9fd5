//! Participant exports (section 9.1, "participation exports"): an event's
//! participants with the people columns the requester may see, then their
//! event roles, one column per question whose answers the requester may
//! read, the participation's remarks and the day it was registered.
//!
//! Which column set and which questions a requester gets is decided by
//! `crate::ability` and [`crate::event::question::visible_questions`];
//! this module only turns the decision into columns and cells.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::labels::text;
use super::{Cell, Column, ColumnSet, Columns, ExportPerson};
use crate::event::participation::{Answer, EventRole, Participation};
use crate::event::question::Question;
use crate::group::GroupTree;
use crate::id::PersonId;
use crate::org::Organisation;
use crate::person::{AdditionalEmail, Person, PhoneNumber};

/// One participant as the store reads them for an export: the person,
/// the participation with its event roles, and its answers.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportedParticipant {
    pub person: Person,
    pub participation: Participation,
    /// Questions added after the registration have no answer.
    pub answers: Vec<Answer>,
}

/// The columns of a participant export: the people columns of `set`
/// without the group roles, then the event roles, one column per question
/// of `questions` (headed by the question), the remarks and the
/// registration day.
pub fn participant_columns<'a>(
    set: ColumnSet,
    lang: &'a str,
    org: &'a Organisation,
    tree: &'a GroupTree,
    questions: &[&Question],
) -> Columns<'a> {
    let mut headers = vec![text(lang, "event_roles").to_owned()];
    headers.extend(questions.iter().map(|q| q.question.clone()));
    headers.push(text(lang, "participation_information").to_owned());
    headers.push(text(lang, "registered_on").to_owned());
    Columns::new(set, lang, org, tree)
        .without(Column::Roles)
        .with_extra(headers)
}

/// The extra cells of one participant, in the order of
/// [`participant_columns`]: the answers to `questions` only, whatever
/// else the participation answered.
pub fn participant_cells(
    p: &ExportedParticipant,
    questions: &[&Question],
    lang: &str,
) -> Vec<Cell> {
    let mut cells = vec![Cell::Text(event_roles(&p.participation.roles, lang))];
    cells.extend(questions.iter().map(|q| {
        let answer = p
            .answers
            .iter()
            .find(|a| a.question_id == q.id)
            .and_then(|a| a.answer.clone());
        Cell::Text(answer.unwrap_or_default())
    }));
    cells.push(Cell::Text(
        p.participation
            .additional_information
            .clone()
            .unwrap_or_default(),
    ));
    cells.push(Cell::Date(registered_on(p.participation.created_at)));
    cells
}

/// The event roles as "<type> (<label>)", joined by ", ".
fn event_roles(roles: &[EventRole], lang: &str) -> String {
    roles
        .iter()
        .map(|r| {
            let name = text(lang, &format!("event_role_{}", r.role_type.key()));
            match r.label.as_deref().filter(|l| !l.trim().is_empty()) {
                Some(label) => format!("{name} ({label})"),
                None => name.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The day of a registration, in UTC.
///
/// Limitations: the organisation's time zone is not known to hitcore, so
/// a registration shortly after midnight local time may show the day
/// before.
fn registered_on(at: DateTime<Utc>) -> chrono::NaiveDate {
    at.date_naive()
}

/// Pairs a page of participants with the contact accounts of their people
/// and their extra cells, in the order of the page, as the export writer
/// takes them. Participants have no group roles in the export.
pub fn participants_with_contacts<'a>(
    page: &'a [ExportedParticipant],
    emails: &'a [AdditionalEmail],
    phones: &'a [PhoneNumber],
    questions: &[&Question],
    lang: &str,
) -> Vec<ExportPerson<'a>> {
    let mut emails_of: HashMap<PersonId, Vec<&AdditionalEmail>> = HashMap::new();
    for e in emails {
        emails_of.entry(e.person_id).or_default().push(e);
    }
    let mut phones_of: HashMap<PersonId, Vec<&PhoneNumber>> = HashMap::new();
    for n in phones {
        phones_of.entry(n.person_id).or_default().push(n);
    }
    page.iter()
        .map(|p| ExportPerson {
            person: &p.person,
            roles: &[],
            additional_emails: emails_of.remove(&p.person.id).unwrap_or_default(),
            phone_numbers: phones_of.remove(&p.person.id).unwrap_or_default(),
            extras: participant_cells(p, questions, lang),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::event::participation::EventRoleType;
    use crate::id::{EventId, EventRoleId, ParticipationId, QuestionId};

    fn question(id: i64, text: &str) -> Question {
        Question {
            id: QuestionId(id),
            event_id: EventId(1),
            question: text.to_owned(),
            choices: Vec::new(),
            multiple_choices: false,
            required: false,
            admin: false,
            visible_role_types: Vec::new(),
            ord: i32::try_from(id).expect("small"),
        }
    }

    fn participant() -> ExportedParticipant {
        let at = Utc
            .with_ymd_and_hms(2025, 3, 10, 12, 0, 0)
            .single()
            .expect("valid");
        let person = Person {
            id: PersonId(5),
            first_name: Some("Ida".to_owned()),
            last_name: Some("Test".to_owned()),
            nickname: None,
            company_name: None,
            is_company: false,
            email: None,
            address: crate::group::Address::default(),
            gender: None,
            birthday: None,
            language: "en".to_owned(),
            additional_information: None,
            primary_group_id: None,
            contact_data_visible: false,
            created_at: at,
            updated_at: at,
        };
        ExportedParticipant {
            person,
            participation: Participation {
                id: ParticipationId(3),
                event_id: EventId(1),
                person_id: PersonId(5),
                additional_information: Some("Vegetarian".into()),
                active: true,
                application_id: None,
                qualified: false,
                roles: vec![
                    EventRole {
                        id: EventRoleId(1),
                        role_type: EventRoleType::Leader,
                        label: Some("Kitchen".into()),
                    },
                    EventRole {
                        id: EventRoleId(2),
                        role_type: EventRoleType::Participant,
                        label: None,
                    },
                ],
                created_at: at,
                updated_at: at,
            },
            answers: vec![
                Answer {
                    question_id: QuestionId(1),
                    answer: Some("Yes".into()),
                },
                Answer {
                    question_id: QuestionId(2),
                    answer: Some("secret".into()),
                },
            ],
        }
    }

    #[test]
    fn cells_hold_roles_the_chosen_answers_remarks_and_the_day() {
        let (q1, q3) = (question(1, "Diet?"), question(3, "Shirt size?"));
        let cells = participant_cells(&participant(), &[&q1, &q3], "en");
        assert_eq!(
            cells,
            [
                Cell::Text("Leader (Kitchen), Participant".into()),
                Cell::Text("Yes".into()),
                // Question 3 was added after the registration.
                Cell::Text(String::new()),
                Cell::Text("Vegetarian".into()),
                Cell::Date(chrono::NaiveDate::from_ymd_opt(2025, 3, 10).expect("valid")),
            ]
        );
        // Question 2's answer is not among the visible questions.
        assert!(!cells.contains(&Cell::Text("secret".into())));
    }

    #[test]
    fn roles_are_named_in_the_requester_language() {
        assert_eq!(
            event_roles(&participant().participation.roles, "de"),
            "Hauptleitung (Kitchen), Teilnehmer/-in"
        );
    }
}
