//! The command line of the `hitweb` binary: which command to run. Settings
//! do not go here; they come from the environment through
//! [`crate::config`], the same for every command; only what a single run
//! of a tool is about (the sizes `seed` generates) is an argument.
//!
//! Without a command the binary serves, so `cargo run -p hitweb` starts
//! the server as it always did.

use clap::{Parser, Subcommand};

/// The web server of the organisation-management system, and its tools.
///
/// Settings come from environment variables (DATABASE_URL, HIT_ORG,
/// BIND_ADDR, ...); see examples/hitweb.env.
#[derive(Debug, Parser)]
#[command(name = "hitweb", version, about)]
pub struct Cli {
    /// What to do; `serve` when none is given.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands of the binary.
#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Serve the web application (the default).
    Serve,
    /// Bring the database's schema up to date, creating it when empty,
    /// then exit. Safe to run from several processes at once.
    Migrate,
    /// Fill an empty database with a generated federation of the given
    /// size (for benchmarks and load tests), then exit.
    Seed(SeedArgs),
}

/// The arguments of `hitweb seed`. The organisation comes from `HIT_ORG`
/// and the administrator from `HIT_ADMIN_EMAIL` and `HIT_ADMIN_PASSWORD`,
/// as for the first start.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct SeedArgs {
    /// People in total, the administrator included.
    #[arg(long, default_value_t = 500_000)]
    pub people: usize,
    /// Groups in total, default subgroups included.
    #[arg(long, default_value_t = 1_000)]
    pub groups: usize,
    /// The seed of the random choices: the same seed and sizes give the
    /// same federation on the same day.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The database to fill, instead of DATABASE_URL. It must be empty.
    #[arg(long)]
    pub database_url: Option<String>,
}

impl Cli {
    /// The command to run: the one given, else [`Command::Serve`].
    pub fn chosen(&self) -> Command {
        self.command.clone().unwrap_or(Command::Serve)
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, clap::Error> {
        Cli::try_parse_from(std::iter::once("hitweb").chain(args.iter().copied()))
            .map(|cli| cli.chosen())
    }

    #[test]
    fn no_command_serves() {
        assert_eq!(parse(&[]).expect("parses"), Command::Serve);
        assert_eq!(parse(&["serve"]).expect("parses"), Command::Serve);
    }

    #[test]
    fn migrate_is_a_command() {
        assert_eq!(parse(&["migrate"]).expect("parses"), Command::Migrate);
    }

    #[test]
    fn seed_takes_sizes_and_defaults_to_full_scale() {
        let Command::Seed(args) = parse(&["seed"]).expect("parses") else {
            panic!("seed is a command");
        };
        assert_eq!((args.people, args.groups, args.seed), (500_000, 1_000, 1));
        assert_eq!(args.database_url, None);
        let given = [
            "seed",
            "--people",
            "2000",
            "--groups",
            "60",
            "--seed",
            "9",
            "--database-url",
            "sqlite::memory:",
        ];
        let Command::Seed(args) = parse(&given).expect("parses") else {
            panic!("seed is a command");
        };
        assert_eq!((args.people, args.groups, args.seed), (2_000, 60, 9));
        assert_eq!(args.database_url.as_deref(), Some("sqlite::memory:"));
        assert!(parse(&["seed", "--people", "many"]).is_err());
    }

    #[test]
    fn unknown_commands_are_refused() {
        assert!(parse(&["migrat"]).is_err());
        assert!(parse(&["serve", "--what"]).is_err());
    }

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
