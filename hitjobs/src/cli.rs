//! The command line of the `hitjobs` binary: how this one worker process
//! runs. What the deployment shares (the database, the organisation) comes
//! from the environment through [`crate::config`].

use std::time::Duration;

use clap::Parser;

use crate::runtime::WorkerOptions;

/// Runs jobs from the database until SIGTERM or SIGINT.
///
/// Settings shared with the web server come from environment variables
/// (DATABASE_URL, HIT_ORG, RUST_LOG); run as many processes as needed, on
/// any hosts.
#[derive(Clone, Debug, PartialEq, Eq, Parser)]
#[command(name = "hitjobs", version, about)]
pub struct Cli {
    /// Jobs run at the same time in this process.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub concurrency: u32,
    /// The queues to claim from, comma-separated. Default: the queues of
    /// every job kind this binary runs.
    #[arg(long, value_delimiter = ',')]
    pub queues: Option<Vec<String>>,
    /// Seconds running jobs get to finish after SIGTERM or SIGINT; the rest
    /// go back to the queue.
    #[arg(long, default_value_t = 30)]
    pub grace_secs: u64,
    /// The most jobs this process holds at once (claimed or running) while
    /// jobs take under 10 ms on average; longer ones are held at most
    /// twice the concurrency at a time. Default 500.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub batch: Option<u32>,
    /// Seconds without a heartbeat after which another worker is taken
    /// for dead and its jobs are run again. Lower it only when every
    /// worker beats (every 5 s) well within it.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(10..))]
    pub dead_after_secs: u64,
    /// Seconds between looks for jobs of dead workers and overdue jobs.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..))]
    pub recover_every_secs: u64,
    /// Run no jobs: check that the database answers at this build's
    /// schema and that the storage takes a file, say so and exit (0 when
    /// ready, 1 when not), for the health checks of worker hosts.
    #[arg(long)]
    pub check: bool,
}

impl Cli {
    /// The worker options these flags ask for.
    pub fn options(&self) -> WorkerOptions {
        let defaults = WorkerOptions::with_concurrency(self.concurrency);
        let queues = self.queues.as_ref().map(|queues| {
            queues
                .iter()
                .map(|q| q.trim().to_owned())
                .filter(|q| !q.is_empty())
                .collect()
        });
        WorkerOptions {
            batch: self.batch.unwrap_or(defaults.batch),
            queues,
            grace: Duration::from_secs(self.grace_secs),
            dead_after: Duration::from_secs(self.dead_after_secs),
            recover_every: Duration::from_secs(self.recover_every_secs),
            ..defaults
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("hitjobs").chain(args.iter().copied()))
    }

    #[test]
    fn flags_become_worker_options() {
        let options = parse(&[
            "--concurrency",
            "3",
            "--queues",
            "mail, exports",
            "--grace-secs",
            "5",
            "--batch",
            "50",
        ])
        .expect("valid flags")
        .options();
        assert_eq!(options.concurrency, 3);
        assert_eq!(options.batch, 50);
        assert_eq!(
            options.queues,
            Some(vec!["mail".to_owned(), "exports".to_owned()])
        );
        assert_eq!(options.grace, Duration::from_secs(5));
    }

    #[test]
    fn without_flags_the_defaults_apply() {
        let options = parse(&[]).expect("no flags").options();
        assert_eq!(options.concurrency, 4);
        assert_eq!(options.batch, 500);
        assert_eq!(options.queues, None);
        assert_eq!(options.grace, Duration::from_secs(30));
    }

    #[test]
    fn check_is_off_unless_asked_for() {
        assert!(!parse(&[]).expect("no flags").check);
        assert!(parse(&["--check"]).expect("valid flags").check);
    }

    #[test]
    fn a_concurrency_of_zero_is_refused() {
        assert!(parse(&["--concurrency", "0"]).is_err());
        assert!(parse(&["--batch", "0"]).is_err());
    }

    #[test]
    fn recovery_times_come_from_flags_and_a_too_short_death_is_refused() {
        let options = parse(&["--dead-after-secs", "12", "--recover-every-secs", "2"])
            .expect("valid flags")
            .options();
        assert_eq!(options.dead_after, Duration::from_secs(12));
        assert_eq!(options.recover_every, Duration::from_secs(2));
        let defaults = parse(&[]).expect("no flags").options();
        assert_eq!(defaults.dead_after, Duration::from_secs(60));
        // Under two heartbeats a live worker could be taken for dead.
        assert!(parse(&["--dead-after-secs", "9"]).is_err());
    }
}
