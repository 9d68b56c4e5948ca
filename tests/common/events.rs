//! EventBridge in moto, observed: a bus per test whose rule (source
//! `spapi.lwa-token-service`) targets an SQS queue; the queue is read with
//! plain JSON-protocol requests (the crate has no SQS SDK, on purpose).

use super::{peers, World};
use lwa_token_service::aws::EventBridgePublisher;
use lwa_token_service::ports::SharedEvents;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// One test's bus and the queue its rule delivers to.
pub struct EventSink {
    /// The bus name (`EVENT_BUS_NAME`).
    pub bus: String,
    queue_url: String,
    http: reqwest::Client,
    seen: Mutex<Vec<Value>>,
}

impl EventSink {
    /// Creates the bus, the queue, and the rule with its target.
    pub async fn new(world: &World) -> EventSink {
        let http = reqwest::Client::new();
        let bus = format!("lwa-{}", world.ns);
        let queue = sqs(&http, "CreateQueue", json!({"QueueName": bus})).await;
        let queue_url = queue["QueueUrl"].as_str().expect("QueueUrl").to_owned();
        let attributes = sqs(
            &http,
            "GetQueueAttributes",
            json!({"QueueUrl": queue_url, "AttributeNames": ["QueueArn"]}),
        )
        .await;
        let queue_arn = attributes["Attributes"]["QueueArn"].as_str().unwrap();
        let events = aws_sdk_eventbridge::Client::new(&super::sdk_config(&peers().moto));
        events.create_event_bus().name(&bus).send().await.unwrap();
        events
            .put_rule()
            .name("seller-authorization")
            .event_bus_name(&bus)
            .event_pattern(json!({"source": ["spapi.lwa-token-service"]}).to_string())
            .send()
            .await
            .unwrap();
        events
            .put_targets()
            .rule("seller-authorization")
            .event_bus_name(&bus)
            .targets(
                aws_sdk_eventbridge::types::Target::builder()
                    .id("queue")
                    .arn(queue_arn)
                    .build()
                    .unwrap(),
            )
            .send()
            .await
            .unwrap();
        EventSink {
            bus,
            queue_url,
            http,
            seen: Mutex::new(Vec::new()),
        }
    }

    /// The refresher's publisher to this bus.
    pub fn publisher(&self, world: &World) -> SharedEvents {
        Arc::new(EventBridgePublisher::new(
            world.sdk.clone(),
            self.bus.clone(),
        ))
    }

    /// Every event delivered so far (the whole EventBridge envelope), in order.
    pub async fn events(&self) -> Vec<Value> {
        loop {
            let out = sqs(
                &self.http,
                "ReceiveMessage",
                json!({"QueueUrl": self.queue_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 600}),
            )
            .await;
            let messages = out["Messages"].as_array().cloned().unwrap_or_default();
            if messages.is_empty() {
                break;
            }
            let mut seen = self.seen.lock().unwrap();
            for m in messages {
                seen.push(serde_json::from_str(m["Body"].as_str().unwrap()).unwrap());
            }
        }
        self.seen.lock().unwrap().clone()
    }

    /// The detail-types delivered so far.
    pub async fn kinds(&self) -> Vec<String> {
        self.events()
            .await
            .iter()
            .map(|e| e["detail-type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

/// One SQS JSON-protocol call to moto (unsigned; moto reads the service
/// from the credential scope).
async fn sqs(http: &reqwest::Client, action: &str, body: Value) -> Value {
    let r = http
        .post(format!("{}/", peers().moto))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("AmazonSQS.{action}"))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=testing/20261201/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status.is_success(), "SQS {action}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}
