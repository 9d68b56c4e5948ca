//! EventBridge adapter: [`EventPublish`] by `PutEvents` on the bus
//! `EVENT_BUS_NAME` (default `default`), source [`EVENT_SOURCE`]
//! (<https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html>).
//! `PutEvents` can answer 200 with a failed entry: that is a failure here.

use super::sdk::LazySdkConfig;
use super::sdk_error::{describe_sdk_error, AwsFailure};
use crate::ports::{AuthorizationEvent, EventPublish, PublishError, EVENT_SOURCE};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::OnceCell;
use tokio::time::Instant;

/// Publishes authorization events to one EventBridge bus.
pub struct EventBridgePublisher {
    sdk: Arc<LazySdkConfig>,
    client: OnceCell<aws_sdk_eventbridge::Client>,
    bus: String,
}

impl EventBridgePublisher {
    /// A publisher to `bus` (name or ARN), sharing `sdk`.
    pub fn new(sdk: Arc<LazySdkConfig>, bus: String) -> Self {
        Self {
            sdk,
            client: OnceCell::new(),
            bus,
        }
    }

    async fn client(&self) -> &aws_sdk_eventbridge::Client {
        self.client
            .get_or_init(|| async { aws_sdk_eventbridge::Client::new(self.sdk.get().await) })
            .await
    }

    async fn put(&self, event: &AuthorizationEvent) -> Result<(), PublishError> {
        let detail = serde_json::to_string(&event.detail).expect("plain values serialize");
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(event.kind.detail_type())
            .detail(detail)
            .build();
        let out = self
            .client()
            .await
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| {
                let f = describe_sdk_error(&e);
                let fix = if f.kind == AwsFailure::AccessDenied {
                    format!(
                        " (the token-refresher needs events:PutEvents on the event bus `{}`)",
                        self.bus
                    )
                } else if f.kind == AwsFailure::NotFound {
                    format!(
                        " (check EVENT_BUS_NAME: the event bus `{}` does not exist)",
                        self.bus
                    )
                } else {
                    String::new()
                };
                PublishError {
                    detail: format!("PutEvents to `{}`: {}{fix}", self.bus, f.detail),
                }
            })?;
        if out.failed_entry_count() > 0 {
            let entry = out.entries().first();
            return Err(PublishError {
                detail: format!(
                    "PutEvents to `{}` refused the event: {}: {}",
                    self.bus,
                    entry.and_then(|e| e.error_code()).unwrap_or("UnknownError"),
                    entry
                        .and_then(|e| e.error_message())
                        .unwrap_or("no message"),
                ),
            });
        }
        Ok(())
    }
}

impl EventPublish for EventBridgePublisher {
    fn publish<'a>(
        &'a self,
        event: &'a AuthorizationEvent,
        deadline: Instant,
    ) -> Pin<Box<dyn Future<Output = Result<(), PublishError>> + Send + 'a>> {
        Box::pin(async move {
            match tokio::time::timeout_at(deadline, self.put(event)).await {
                Ok(result) => result,
                Err(_) => Err(PublishError {
                    detail: format!(
                        "PutEvents to `{}` did not finish before the Lambda deadline; the next run publishes",
                        self.bus
                    ),
                }),
            }
        })
    }
}
