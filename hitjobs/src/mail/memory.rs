//! [`MemoryMailer`]: keeps every message it is given, for tests and for a
//! process that has no transport configured yet.

use std::sync::Mutex;

use super::{Delivery, Mailer, OutgoingMail, SendError};

/// Accepts every recipient and keeps the messages in memory; tests can
/// make it defer the messages for some addresses.
#[derive(Debug, Default)]
pub struct MemoryMailer {
    sent: Mutex<Vec<OutgoingMail>>,
    deferred: Mutex<Vec<String>>,
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

    /// From now on, answers a message with an envelope recipient `address`
    /// with a temporary failure (as a 4xx reply would), keeping nothing.
    pub fn defer(&self, address: &str) {
        if let Ok(mut d) = self.deferred.lock() {
            d.push(address.to_owned());
        }
    }

    /// Accepts every address again.
    pub fn accept_all(&self) {
        if let Ok(mut d) = self.deferred.lock() {
            d.clear();
        }
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
        let is_deferred = self
            .deferred
            .lock()
            .map(|d| mail.envelope.to.iter().any(|to| d.contains(to)))
            .unwrap_or(false);
        if is_deferred {
            return Err(SendError::Temporary("deferred for a test".to_owned()));
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
    fn deferred_addresses_fail_temporarily_and_keep_nothing() {
        let mailer = MemoryMailer::new();
        mailer.defer("b@example.test");
        let result = mailer.send(&mail(&["a@example.test", "b@example.test"]));
        assert!(matches!(result, Err(SendError::Temporary(_))), "{result:?}");
        mailer.send(&mail(&["a@example.test"])).expect("sent");
        assert_eq!(mailer.sent().len(), 1);
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
