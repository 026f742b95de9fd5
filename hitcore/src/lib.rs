#![doc = include_str!("../README.md")]

pub mod ability;
pub mod auth;
pub mod cache;
pub mod event;
pub mod export;
pub mod group;
pub mod id;
pub mod jobs;
pub mod list_mail;
pub mod login_token;
pub mod mail;
pub mod mailing_list;
pub mod org;
pub mod permission;
pub mod person;
pub mod picture;
pub mod relay;
pub mod role;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod scale;
pub mod seed;
#[cfg(feature = "storage")]
pub mod storage;
pub mod store;
pub mod validate;

pub use id::{
    ContactId, GroupId, InboundMailId, JobId, ListMessageId, MailingListId, PersonId, RoleId,
    SubscriptionId, WorkerId,
};
pub use org::Organisation;
pub use permission::Permission;
