#![doc = include_str!("../README.md")]

pub mod assets;
pub mod cli;
pub mod config;
pub mod context;
pub mod error;
pub mod i18n;
pub mod middleware;
pub mod routes;
pub mod scale;
pub mod state;
pub mod templates;
pub mod views;

mod app;

pub use app::app;
pub use config::Config;
pub use state::AppState;

rust_i18n::i18n!("locales", fallback = "en");
