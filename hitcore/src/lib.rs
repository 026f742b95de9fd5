#![doc = include_str!("../README.md")]

pub mod ability;
pub mod auth;
pub mod group;
pub mod id;
pub mod org;
pub mod permission;
pub mod person;
pub mod role;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod scale;
pub mod seed;
pub mod store;
pub mod validate;

pub use id::{ContactId, GroupId, PersonId, RoleId};
pub use org::Organisation;
pub use permission::Permission;
