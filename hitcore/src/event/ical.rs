//! iCalendar (RFC 5545) export of events: one `VEVENT` per event date,
//! with the event's name, description and location, as floating local
//! times (the stored dates are the organisation's wall-clock time).
//!
//! Written with the `icalendar` crate, which escapes TEXT values and folds
//! content lines at 75 octets. (The `ical` crate the workspace has for
//! vCards only parses calendars.)

use chrono::{DateTime, NaiveDateTime, Utc};
use icalendar::{Calendar, CalendarDateTime, Component, EventLike};

use super::Event;

/// The calendar of `events`, as the text of an `.ics` file. `host` makes
/// the UIDs globally unique (`event-<id>-<date id>@host`); `url_of` gives
/// each event's page.
pub fn calendar(
    name: &str,
    events: &[Event],
    host: &str,
    now: DateTime<Utc>,
    url_of: impl Fn(&Event) -> String,
) -> String {
    let mut calendar = Calendar::new();
    calendar.name(name);
    for event in events {
        let url = url_of(event);
        for date in &event.dates {
            let summary = match &date.label {
                Some(label) => format!("{}: {label}", event.name),
                None => event.name.clone(),
            };
            let mut entry = icalendar::Event::new();
            entry
                .uid(&format!("event-{}-{}@{host}", event.id, date.id))
                .timestamp(now)
                .summary(&summary)
                .starts(floating(date.start_at))
                .url(&url);
            if let Some(finish) = date.finish_at {
                entry.ends(floating(finish));
            }
            if let Some(description) = &event.description {
                entry.description(description);
            }
            if let Some(location) = date.location.as_ref().or(event.location.as_ref()) {
                entry.location(location);
            }
            calendar.push(entry.done());
        }
    }
    calendar.done().to_string()
}

/// A date-time without a zone: shown at that wall-clock time anywhere.
fn floating(t: NaiveDateTime) -> CalendarDateTime {
    CalendarDateTime::Floating(t)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::event::EventDate;
    use crate::id::{EventDateId, EventId};

    fn event(name: &str, description: &str) -> Event {
        let at = |d, h| {
            NaiveDate::from_ymd_opt(2027, 3, d)
                .and_then(|d| d.and_hms_opt(h, 0, 0))
                .expect("a valid time")
        };
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time");
        Event {
            id: EventId(7),
            event_type: crate::event::COURSE.to_owned(),
            group_ids: vec![],
            name: name.to_owned(),
            description: Some(description.to_owned()),
            application_conditions: None,
            number: None,
            motto: None,
            cost: None,
            location: Some("Camp; north, by the lake".to_owned()),
            kind_id: None,
            state: None,
            maximum_participants: None,
            minimum_participants: None,
            participant_count: 0,
            teamer_count: 0,
            applicant_count: 0,
            application_opening_at: None,
            application_closing_at: None,
            applications_cancelable: false,
            external_applications: false,
            globally_visible: None,
            participations_visible: false,
            priorization: false,
            requires_approval: false,
            automatic_assignment: false,
            waiting_list: true,
            notify_contact_on_participations: false,
            contact_id: None,
            shared_access_token: String::new(),
            training_days: None,
            creator_id: None,
            updater_id: None,
            dates: vec![
                EventDate {
                    id: EventDateId(1),
                    label: Some("Weekend 1".to_owned()),
                    start_at: at(6, 9),
                    finish_at: Some(at(7, 16)),
                    location: None,
                },
                EventDate {
                    id: EventDateId(2),
                    label: None,
                    start_at: at(13, 9),
                    finish_at: None,
                    location: Some("Hall".to_owned()),
                },
            ],
            created_at: now,
            updated_at: now,
        }
    }

    fn unfolded(ics: &str) -> String {
        ics.replace("\r\n ", "")
    }

    #[test]
    fn every_date_is_an_event_at_its_local_time() {
        let ics = calendar(
            "Club",
            &[event("Course", "d")],
            "example.org",
            Utc::now(),
            |_| "https://example.org/e/7".to_owned(),
        );
        let ics = unfolded(&ics);
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), 2);
        assert!(ics.contains("UID:event-7-1@example.org"));
        assert!(ics.contains("DTSTART:20270306T090000\r\n"));
        assert!(ics.contains("DTEND:20270307T160000\r\n"));
        assert!(ics.contains("SUMMARY:Course: Weekend 1\r\n"));
        assert!(ics.contains("LOCATION:Hall\r\n"));
        assert!(ics.contains("URL:https://example.org/e/7"));
    }

    #[test]
    fn text_is_escaped_and_long_lines_fold_at_75_octets() {
        let long = "ä".repeat(60);
        let ics = calendar("Club", &[event("A; b, c", &long)], "h", Utc::now(), |_| {
            String::new()
        });
        for line in ics.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} has {} octets", line.len());
        }
        let ics = unfolded(&ics);
        assert!(ics.contains("SUMMARY:A\\; b\\, c: Weekend 1\r\n"));
        assert!(ics.contains("LOCATION:Camp\\; north\\, by the lake\r\n"));
        assert!(ics.contains(&format!("DESCRIPTION:{long}\r\n")));
    }
}
