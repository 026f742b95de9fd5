//! [`MemoryMailer`]: keeps every message it is given, for tests and for a
//! process that has no transport configured yet.

use std::sync::Mutex;

use super::{Delivery, Mailer, OutgoingMail, SendError};

/// Accepts every recipient and keeps the messages in memory.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
}

impl MemoryMailer {
    /// An empty mailer.
    pub fn new() -> MemoryMailer {
        MemoryMailer::default()
    }

    /// The messages sent so far, oldest first.
    pub fn sent(&self) -> Vec<OutgoingMail> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Returns the messages sent so far and forgets them.
    pub fn take(&self) -> Vec<OutgoingMail> {
        self.sent
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default()
    }
}

impl Mailer for MemoryMailer {
    fn send_with_handover(
        &self,
        mail: &OutgoingMail,
        handing_over: &mut dyn FnMut(&Delivery) -> anyhow::Result<()>,
    ) -> Result<Delivery, SendError> {
        let delivery = Delivery {
            accepted: mail.envelope.to.clone(),
            refused: Vec::new(),
        };
        if delivery.accepted.is_empty() {
            return Ok(delivery);
        }
        handing_over(&delivery).map_err(SendError::Aborted)?;
        let mut sent = self
            .sent
            .lock()
            .map_err(|_| SendError::Temporary("the memory mailer's lock is poisoned".to_owned()))?;
        sent.push(mail.clone());
        Ok(delivery)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Envelope;

    fn mail(to: &[&str]) -> OutgoingMail {
        OutgoingMail {
            envelope: Envelope {
                from: Some("list@lists.example.test".to_owned()),
                to: to.iter().map(|s| (*s).to_owned()).collect(),
            },
            message: b"Subject: hi\r\n\r\nhello\r\n".to_vec(),
        }
    }

    #[test]
    fn sent_messages_are_kept_in_order() {
        let mailer = MemoryMailer::new();
        mailer.send(&mail(&["a@example.test"])).expect("sent");
        mailer.send(&mail(&["b@example.test"])).expect("sent");
        let to: Vec<_> = mailer.sent().into_iter().map(|m| m.envelope.to).collect();
        assert_eq!(to, vec![vec!["a@example.test"], vec!["b@example.test"]]);
        assert_eq!(mailer.take().len(), 2);
        assert!(mailer.sent().is_empty());
    }

    #[test]
    fn a_refused_handover_keeps_nothing() {
        let mailer = MemoryMailer::new();
        let result = mailer.send_with_handover(&mail(&["a@example.test"]), &mut |_| {
            Err(anyhow::anyhow!("database is down"))
        });
        assert!(matches!(result, Err(SendError::Aborted(_))));
        assert!(mailer.sent().is_empty());
    }
}
