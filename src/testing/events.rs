//! [`FakeEvents`]: an in-memory [`EventPublish`] that records what it
//! published and can be told to fail. Test-only.

use super::journal::{Call, Journal};
use crate::ports::{AuthorizationEvent, EventPublish, PublishError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use tokio::time::Instant;

/// Records published events on a [`Journal`]; the next `fail_next`
/// publishes fail.
#[derive(Default)]
pub struct FakeEvents {
    journal: Journal,
    published: Mutex<Vec<AuthorizationEvent>>,
    fail_next: Mutex<u32>,
}

impl FakeEvents {
    /// No events yet, writing to `journal`.
    pub fn new(journal: &Journal) -> Self {
        Self {
            journal: journal.clone(),
            ..Self::default()
        }
    }

    /// The next `n` publishes fail (as an AccessDenied would).
    pub fn fail_next(&self, n: u32) {
        *self.fail_next.lock().unwrap_or_else(|p| p.into_inner()) = n;
    }

    /// Every event published so far, in order.
    pub fn published(&self) -> Vec<AuthorizationEvent> {
        self.published
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

impl EventPublish for FakeEvents {
    fn publish<'a>(
        &'a self,
        event: &'a AuthorizationEvent,
        _deadline: Instant,
    ) -> Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>> {
        Box::pin(async move {
            self.journal
                .push(Call::EventPublished(event.kind.detail_type().to_owned()));
            let mut fail = self.fail_next.lock().unwrap_or_else(|p| p.into_inner());
            if *fail > 0 {
                *fail -= 1;
                return Err(PublishError {
                    detail:
                        "AccessDeniedException: not authorized to perform events:PutEvents (fake)"
                            .into(),
                });
            }
            self.published
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(event.clone());
            Ok(())
        })
    }
}
