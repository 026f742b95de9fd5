//! Web tests: the real app, a seeded SQLite file, requests through
//! `poem::test::TestClient`. The demo federation of section 15 supplies the
//! people: Alex Alpha (Club.ClubLeader), Tina Trainer (ClubMembers.Trainer),
//! Nora North (Region.Coordinator), Jan Junior (ClubMembers.Junior, not
//! visible from above).

mod application_market;
mod auth;
mod cache;
mod csrf;
mod dev_mails;
mod escaping;
mod event_kinds;
mod events;
mod exports;
mod forms;
mod groups;
mod health;
mod htmx;
mod language;
mod layout;
mod lists;
mod mailing_lists;
mod misc;
mod outage;
mod participant_export;
mod participations;
mod passwords;
mod people;
mod pictures;
mod qualifications;
mod roles;
mod search;
mod secret_key;
mod security;
mod startup;
mod support;
mod telemetry;
