//! SQS events as the rotator reads them: record by record, leniently, so one
//! record of the wrong shape (a `body` that is not a string, a `messageId`
//! that is a number) fails only itself, not the batch, and the answer for a
//! batch (`batchItemFailures`, the event source mapping's
//! `ReportBatchItemFailures`).
//!
//! Lambda's documented semantics of that answer ("Handling errors for an SQS
//! event source in Lambda", partial batch responses,
//! <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>):
//! an empty or null `batchItemFailures` means every record succeeded; an
//! `itemIdentifier` that is empty, null or not a message ID of the batch
//! makes Lambda treat the whole batch as failed (every message is delivered
//! again). A record that must be retried but has no usable `messageId`
//! therefore cannot be listed: the rotator then answers the whole batch
//! failed on purpose ([`BatchAnswer::WholeBatch`], an `InvalidEvent` error),
//! never by an accidental `"itemIdentifier": ""`.

use crate::rotation::error::RotatorError;
use serde_json::{json, Value};

/// What the rotator accepts, for `InvalidEvent` messages.
pub const ACCEPTED: &str =
    "expected an SQS event, {\"action\":\"check\"}, {\"action\":\"status\"}, \
                            {\"action\":\"rotate\"} or {\"action\":\"rotate\",\"force\":true}";

/// One SQS record, read leniently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqsRecord {
    /// `messageId`, when it is a non-empty string: the only name Lambda
    /// accepts in `batchItemFailures`.
    pub message_id: Option<String>,
    /// `body`, when it is a string; `None` when missing or of another JSON
    /// type (such a record is retried until it reaches the dead-letter queue).
    pub body: Option<String>,
}

/// `Some` when `event` is an SQS event (`Records` is a list whose every
/// entry has `eventSource` = `aws:sqs`); `Err` (`InvalidEvent`) when it has
/// `Records` but not that. Each record's other fields are read one by one.
pub fn sqs_records(event: &Value) -> Option<Result<Vec<SqsRecord>, RotatorError>> {
    let records = event.get("Records")?;
    let Some(list) = records.as_array().filter(|r| {
        r.iter()
            .all(|m| m.get("eventSource").and_then(Value::as_str) == Some("aws:sqs"))
    }) else {
        return Some(Err(RotatorError::InvalidEvent(format!(
            "`Records` is not a list of SQS messages (eventSource aws:sqs); {ACCEPTED}"
        ))));
    };
    Some(Ok(list
        .iter()
        .map(|r| SqsRecord {
            message_id: r
                .get("messageId")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            body: r.get("body").and_then(Value::as_str).map(str::to_owned),
        })
        .collect()))
}

/// How a batch is answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchAnswer {
    /// `{"batchItemFailures":[{"itemIdentifier":…}…]}` listing only these
    /// message IDs (empty: every record done).
    Retry(Vec<String>),
    /// Some records to retry have no usable `messageId`: the whole batch is
    /// reported failed (a function error), so Lambda delivers every message
    /// again; the ones already handled change nothing the second time.
    WholeBatch {
        /// How many records to retry could not be named.
        unnamed: usize,
    },
}

impl BatchAnswer {
    /// The answer from the records to retry (`None` = a record without a
    /// usable `messageId`).
    pub fn from_retries(retries: Vec<Option<String>>) -> Self {
        let unnamed = retries.iter().filter(|r| r.is_none()).count();
        if unnamed > 0 {
            BatchAnswer::WholeBatch { unnamed }
        } else {
            BatchAnswer::Retry(retries.into_iter().flatten().collect())
        }
    }

    /// The function's answer: the partial batch response, or `InvalidEvent`.
    pub fn into_result(self) -> Result<Value, RotatorError> {
        match self {
            BatchAnswer::Retry(ids) => {
                let failures: Vec<Value> =
                    ids.iter().map(|id| json!({ "itemIdentifier": id })).collect();
                Ok(json!({ "batchItemFailures": failures }))
            }
            BatchAnswer::WholeBatch { unnamed } => Err(RotatorError::InvalidEvent(format!(
                "{unnamed} SQS record(s) to retry have no `messageId` (a non-empty string), so they \
                 cannot be listed in batchItemFailures: the whole batch is reported failed and Lambda \
                 delivers all of its messages again (the ones already handled change nothing). \
                 Records from Lambda's SQS event source always carry one: check what invoked the function"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_one_by_one() {
        let event = json!({"Records": [
            {"eventSource": "aws:sqs", "messageId": "m0", "body": "{}"},
            {"eventSource": "aws:sqs", "messageId": "m1", "body": 7},
            {"eventSource": "aws:sqs", "messageId": 2, "body": "x"},
            {"eventSource": "aws:sqs", "messageId": "", "body": null},
            {"eventSource": "aws:sqs", "body": {"a": 1}},
        ]});
        let records = sqs_records(&event).unwrap().unwrap();
        let got: Vec<(Option<&str>, Option<&str>)> = records
            .iter()
            .map(|r| (r.message_id.as_deref(), r.body.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some("m0"), Some("{}")),
                (Some("m1"), None),
                (None, Some("x")),
                (None, None),
                (None, None),
            ]
        );
        assert!(sqs_records(&json!({"action": "check"})).is_none());
        for bad in [
            json!({"Records": [{"eventSource": "aws:s3"}]}),
            json!({"Records": [{"eventSource": "aws:sqs"}, 1]}),
            json!({"Records": {"eventSource": "aws:sqs"}}),
        ] {
            let e = sqs_records(&bad).unwrap().unwrap_err();
            assert_eq!(e.error_type(), "InvalidEvent", "{bad}");
        }
        assert_eq!(sqs_records(&json!({"Records": []})).unwrap().unwrap(), []);
    }

    #[test]
    fn answers() {
        let named = BatchAnswer::from_retries(vec![Some("m1".into()), Some("m3".into())]);
        assert_eq!(named, BatchAnswer::Retry(vec!["m1".into(), "m3".into()]));
        assert_eq!(
            named.into_result().unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]})
        );
        assert_eq!(
            BatchAnswer::from_retries(vec![]).into_result().unwrap(),
            json!({"batchItemFailures": []})
        );
        let whole = BatchAnswer::from_retries(vec![Some("m1".into()), None, None]);
        assert_eq!(whole, BatchAnswer::WholeBatch { unnamed: 2 });
        let e = whole.into_result().unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
        assert!(e.to_string().contains("messageId"), "{e}");
    }
}
