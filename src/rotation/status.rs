//! The status answer (never a secret) and the `ClientSecretDaysLeft` metric.

use crate::rotation::rules::{days_left, Expiry};
use crate::token::rfc3339;
use serde_json::{json, Value};
use time::OffsetDateTime;

/// What `{"action":"status"}` answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The app's LWA client ID (not a secret).
    pub client_id: String,
    /// When the current client secret expires, and how that is known.
    pub expiry: Expiry,
    /// Whole days left, rounded down.
    pub days_left: i64,
    /// `client_secret_rotation_requested_at`, when recorded.
    pub rotation_requested_at: Option<OffsetDateTime>,
    /// A new secret waits as `AWSPENDING` for LWA to accept it.
    pub pending_secret: bool,
}

impl Status {
    /// Builds the status at `now`.
    pub fn new(
        client_id: &str,
        expiry: Expiry,
        rotation_requested_at: Option<OffsetDateTime>,
        pending_secret: bool,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            client_id: client_id.to_owned(),
            expiry,
            days_left: days_left(expiry.at, now),
            rotation_requested_at,
            pending_secret,
        }
    }

    /// The contract's JSON:
    /// `{"client_id","client_secret_expires_at","expiry_source","days_left","rotation_requested_at","pending_secret"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "client_id": self.client_id,
            "client_secret_expires_at": rfc3339(self.expiry.at),
            "expiry_source": self.expiry.source.as_str(),
            "days_left": self.days_left,
            "rotation_requested_at": self.rotation_requested_at.map(rfc3339),
            "pending_secret": self.pending_secret,
        })
    }

    /// The `ClientSecretDaysLeft` metric line for this status.
    pub fn emf_line(&self, function_name: &str, now: OffsetDateTime) -> String {
        emf_days_left(self.days_left, function_name, now)
    }
}

/// A CloudWatch Embedded Metric Format line with `ClientSecretDaysLeft`
/// (Count), namespace `SpApiLwaTokenService`, dimension `FunctionName`
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
pub fn emf_days_left(days_left: i64, function_name: &str, now: OffsetDateTime) -> String {
    json!({
        "_aws": {
            "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": "SpApiLwaTokenService",
                "Dimensions": [["FunctionName"]],
                "Metrics": [{"Name": "ClientSecretDaysLeft", "Unit": "Count"}],
            }],
        },
        "FunctionName": function_name,
        "ClientSecretDaysLeft": days_left,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rotation::rules::ExpirySource;
    use time::macros::datetime;

    #[test]
    fn json_and_metric() {
        let now = datetime!(2026-12-01 0:00 UTC);
        let s = Status::new(
            "amzn1.application-oa2-client.A",
            Expiry {
                at: datetime!(2027-05-30 0:00 UTC),
                source: ExpirySource::Recorded,
            },
            None,
            false,
            now,
        );
        assert_eq!(
            s.to_json(),
            json!({"client_id":"amzn1.application-oa2-client.A","client_secret_expires_at":"2027-05-30T00:00:00Z",
                   "expiry_source":"recorded","days_left":180,"rotation_requested_at":null,"pending_secret":false})
        );
        let m: Value = serde_json::from_str(&s.emf_line("f", now)).unwrap();
        assert_eq!(m["ClientSecretDaysLeft"], 180);
        assert_eq!(
            m["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "SpApiLwaTokenService"
        );
    }
}
