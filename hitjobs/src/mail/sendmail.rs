//! [`SendmailMailer`]: hands each message to a local sendmail binary
//! (`SENDMAIL`), through lettre's sendmail transport.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use lettre::Transport;
use lettre::address::Envelope as LettreEnvelope;
use lettre::transport::sendmail::SendmailTransport;
use tracing::instrument;

use super::{Delivery, Mailer, OutgoingMail, RefusedRecipient, SendError, scrub_reply};

/// Runs `sendmail -i -f <sender> -- <recipients>` once per message.
///
/// Limitations: sendmail queues locally and reports no per-recipient
/// answers, so every valid address counts as accepted; a failed run is
/// reported as temporary (lettre does not pass the exit status on, and the
/// usual causes, a missing binary or a full queue, pass). lettre's
/// transport waits for the binary without a time-out.
// TODO: a time-out for a hanging sendmail would need running the binary
// ourselves (std::process with a wait deadline) instead of lettre's call.
#[derive(Debug)]
pub struct SendmailMailer {
    path: PathBuf,
    transport: SendmailTransport,
}

impl SendmailMailer {
    /// A mailer that runs the binary at `path`.
    pub fn new(path: impl Into<PathBuf>) -> SendmailMailer {
        let path = path.into();
        SendmailMailer {
            transport: SendmailTransport::new_with_command(path.as_os_str()),
            path,
        }
    }

    /// The binary it runs.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Mailer for SendmailMailer {
    #[instrument(skip_all, fields(mail.recipients = mail.envelope.to.len()))]
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        let from = match mail.envelope.from.as_deref().filter(|f| !f.is_empty()) {
            None => None,
            Some(from) => Some(lettre::Address::from_str(from).map_err(|_| {
                SendError::Permanent("the envelope sender is no valid address".to_owned())
            })?),
        };
        let (delivery, to) = split_valid(&mail.envelope.to);
        if to.is_empty() {
            return Ok(delivery);
        }
        let envelope = LettreEnvelope::new(from, to)
            .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
        handing_over(&delivery).map_err(SendError::Aborted)?;
        self.transport
            .send_raw(&envelope, &mail.message)
            .map_err(|e| {
                SendError::Temporary(format!("sendmail: {}", scrub_reply(&e.to_string())))
            })?;
        Ok(delivery)
    }
}

/// The recipients that are valid addresses (accepted) and those that are
/// not (refused as 553 without running anything).
pub(super) fn split_valid(to: &[String]) -> (Delivery, Vec<lettre::Address>) {
    let mut delivery = Delivery::default();
    let mut valid = Vec::new();
    for address in to {
        match lettre::Address::from_str(address) {
            Ok(parsed) => {
                valid.push(parsed);
                delivery.accepted.push(address.clone());
            }
            Err(_) => delivery.refused.push(RefusedRecipient {
                address: address.clone(),
                code: 553,
                is_permanent: true,
                reply: "not a valid address; not handed over".to_owned(),
            }),
        }
    }
    (delivery, valid)
}
