//! The fleet run's metrics line (CloudWatch Embedded Metric Format).

use super::summary::FleetSummary;
use time::OffsetDateTime;

/// A CloudWatch Embedded Metric Format line for a fleet run: Refreshed,
/// Skipped, Failed, Deferred (Count) and MinTokenTtl (Seconds), namespace
/// `SpApiLwaTokenService`, dimension `FunctionName`
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>).
pub fn emf_line(summary: &FleetSummary, function_name: &str, now: OffsetDateTime) -> String {
    let mut metrics = vec![
        serde_json::json!({"Name": "Refreshed", "Unit": "Count"}),
        serde_json::json!({"Name": "Skipped", "Unit": "Count"}),
        serde_json::json!({"Name": "Failed", "Unit": "Count"}),
        serde_json::json!({"Name": "Deferred", "Unit": "Count"}),
    ];
    let mut line = serde_json::json!({
        "_aws": {
            "Timestamp": (now.unix_timestamp_nanos() / 1_000_000) as i64,
            "CloudWatchMetrics": [{
                "Namespace": "SpApiLwaTokenService",
                "Dimensions": [["FunctionName"]],
                "Metrics": [],
            }],
        },
        "FunctionName": function_name,
        "Refreshed": summary.refreshed,
        "Skipped": summary.skipped,
        "Failed": summary.failed,
        "Deferred": summary.deferred,
    });
    if let Some(ttl) = summary.min_ttl_seconds {
        metrics.push(serde_json::json!({"Name": "MinTokenTtl", "Unit": "Seconds"}));
        line["MinTokenTtl"] = serde_json::json!(ttl);
    }
    line["_aws"]["CloudWatchMetrics"][0]["Metrics"] = serde_json::Value::Array(metrics);
    line.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_shape() {
        let s = FleetSummary {
            outcome: "fleet",
            profiles: 2,
            refreshed: 1,
            skipped: 1,
            failed: 0,
            deferred: 0,
            min_ttl_seconds: Some(1234),
            token_requests: 1,
            failures: vec![],
        };
        let v: serde_json::Value = serde_json::from_str(&emf_line(
            &s,
            "fn",
            time::macros::datetime!(2026-11-30 12:00:00 UTC),
        ))
        .unwrap();
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Metrics"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(v["MinTokenTtl"], 1234);
        assert_eq!(v["Refreshed"], 1);
        assert_eq!(v["FunctionName"], "fn");
        assert_eq!(v["_aws"]["Timestamp"], 1_796_040_000_000i64);
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "SpApiLwaTokenService"
        );
    }
}
