#![doc = include_str!("../README.md")]

pub mod cli;
pub mod clock;
pub mod config;
pub mod crash;
pub mod embedded;
pub mod jobs;
pub mod mail;
pub mod mail_text;
pub mod registry;
pub mod runtime;
pub mod shutdown;
pub mod telemetry;

pub use embedded::{EmbeddedWorker, spawn_embedded};
pub use registry::{JobContext, PermanentFailure, Registry};
pub use runtime::{InlineWorker, ShutdownReport, Worker, WorkerHandle, WorkerOptions};
