//! Batches and direct events: a mixed batch (foreign, other type, malformed),
//! hostile input (records of the wrong shape, nameless records, malformed
//! notifications for another app), invalid events, and the deadline (records
//! not started without time left, stalled Secrets Manager calls cut off).

use super::test_world::*;

#[tokio::test]
async fn foreign_other_type_and_malformed_in_one_batch() {
    let w = world();
    let foreign = new_secret_body(
        "amzn1.application-oa2-client.ffff",
        NEW,
        "2026-10-28T10:00:00Z",
        "n-2",
    );
    let other = r#"{"notificationType":"ANY_OFFER_CHANGED","payload":{}}"#;
    let good = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-3");
    let out = run(
        &w,
        batch(&[
            &foreign,
            "{\"Message\": \"hello\"",
            other,
            &format!("{{{NEW}"),
            &good,
        ]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(
        failures(&out),
        ["m1", "m3"],
        "only the malformed bodies are retried"
    );
    assert_eq!(
        w.sm.current()["client_secret"],
        NEW,
        "the good record after the bad ones was processed"
    );
}

#[tokio::test]
async fn no_record_is_started_without_time_left() {
    let w = world();
    let out = handle(
        &w.rotator,
        &batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        w.clock.instant() + Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(effects(&w).is_empty());
}

#[tokio::test]
async fn invalid_events() {
    let w = world();
    for e in [
        json!({"action":"refresh"}),
        json!("x"),
        json!({"Records": [{"eventSource": "aws:sns"}]}),
    ] {
        assert_eq!(
            run(&w, e, NOW).await.unwrap_err().error_type(),
            "InvalidEvent"
        );
    }
}

/// A malformed new-secret or expiry notification whose client ID is another
/// app's is acknowledged (never retried into the dead-letter queue); one for
/// this app is retried.
#[tokio::test]
async fn a_malformed_notification_for_another_app_is_ignored() {
    let w = world();
    let other = "amzn1.application-oa2-client.ffff";
    let new_secret = |client: &str, fields: Value| {
        let mut p = json!({"clientId": client});
        p.as_object_mut()
            .unwrap()
            .extend(fields.as_object().unwrap().clone());
        json!({"notificationType":"APPLICATION_OAUTH_CLIENT_NEW_SECRET",
            "payload":{"applicationOAuthClientNewSecret": p},"notificationMetadata":{"notificationId":"n-x"}})
        .to_string()
    };
    let foreign_no_secret = new_secret(
        other,
        json!({"newClientSecretExpiryTime": "2026-10-28T10:00:00Z"}),
    );
    let foreign_bad_time = new_secret(
        other,
        json!({"newClientSecret": NEW, "newClientSecretExpiryTime": 5}),
    );
    let foreign_expiry = json!({"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY",
        "payload":{"applicationOAuthClientSecretExpiry":{"clientId":other,"clientSecretExpiryTime":"soon"}}})
    .to_string();
    let mine_bad_time = new_secret(
        ME,
        json!({"newClientSecret": NEW, "newClientSecretExpiryTime": "soon"}),
    );
    let out = run(
        &w,
        batch(&[
            &foreign_no_secret,
            &foreign_bad_time,
            &foreign_expiry,
            &mine_bad_time,
        ]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(
        failures(&out),
        ["m3"],
        "only this app's malformed one is retried"
    );
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.count(), 1);
}

/// Records are read one by one: a `body` that is not a string fails only its
/// own record; the good ones are processed.
#[tokio::test]
async fn a_record_of_the_wrong_shape_fails_only_itself() {
    let w = world();
    let good = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = run(
        &w,
        raw_batch(json!([
            {"messageId": "m0", "body": 42},
            {"messageId": "m1", "body": {"notificationType": "APPLICATION_OAUTH_CLIENT_NEW_SECRET"}},
            {"messageId": "m2", "body": null},
            {"messageId": "m3"},
            {"messageId": "m4", "body": good, "attributes": 7},
        ])),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0", "m1", "m2", "m3"]);
    assert_eq!(
        w.sm.current()["client_secret"],
        NEW,
        "the good record was installed"
    );
}

/// A record to retry that cannot be named (no `messageId`, or not a string)
/// fails the whole batch on purpose (Lambda redelivers all of it), never by
/// an empty `itemIdentifier`; a nameless record that succeeds needs no name.
#[tokio::test]
async fn a_nameless_record_to_retry_fails_the_whole_batch() {
    let w = world();
    let good = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    for nameless in [
        json!({"body": "not json"}),
        json!({"messageId": 5, "body": "not json"}),
        json!({"messageId": "", "body": "not json"}),
        json!({"messageId": null, "body": 1}),
    ] {
        let e = run(
            &w,
            raw_batch(json!([{"messageId": "m0", "body": good}, nameless])),
            NOW,
        )
        .await
        .unwrap_err();
        assert_eq!(e.error_type(), "InvalidEvent");
        assert!(e.to_string().contains("whole batch"), "{e}");
    }
    assert_eq!(
        w.sm.current()["client_secret"],
        NEW,
        "the good record was installed"
    );
    let out = run(
        &w,
        raw_batch(json!([{"body": good}, {"messageId": 5, "body": good}])),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty(), "{out}");
}

/// Secrets Manager calls carry only the SDK's own timeouts: a stalled one is
/// cut off before the Lambda deadline. A direct action answers
/// `CredentialsUnavailable`; in a batch, the record (and any not started) is
/// retried.
#[tokio::test]
async fn a_stalled_secrets_manager_call_is_cut_off_before_the_deadline() {
    let w = world();
    *w.sm.stall_reads.lock().unwrap() = true;
    let by = deadline(&w);
    let e = handle(&w.rotator, &json!({"action":"status"}), by)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "CredentialsUnavailable");
    assert!(e.to_string().contains("Lambda deadline"), "{e}");
    assert!(w.clock.instant() < by, "answered before the deadline");

    let w = world();
    *w.sm.stall_reads.lock().unwrap() = true;
    let by = deadline(&w);
    let body = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = handle(&w.rotator, &batch(&[&body, &body]), by)
        .await
        .unwrap();
    assert_eq!(failures(&out), ["m0", "m1"]);
    assert!(w.clock.instant() < by, "answered before the deadline");
}
