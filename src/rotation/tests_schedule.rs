//! Rotating before the secret expires: the expiry notice (recorded, rotating
//! once in 24 h), the rotate action and its refusals (not enrolled, SP-API
//! and LWA errors), the daily check (promoting a waiting secret, rotating
//! when due) and the status (recorded or estimated expiry).

use super::test_world::*;

#[tokio::test]
async fn check_promotes_a_waiting_secret() {
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(
        (out["promoted"].clone(), out["pending_secret"].clone()),
        (json!(false), json!(true))
    );
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    journal(&w);
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(out["promoted"], true);
    assert_eq!(out["pending_secret"], false);
    assert_eq!(out["client_secret_expires_at"], "2026-10-28T10:00:00Z");
    assert_eq!(out["rotated"], false, "178 days left: no rotation");
    assert_eq!(w.sm.current()["client_secret"], NEW);
    assert!(!effects(&w).iter().any(|l| l.starts_with("spapi")));
}

#[tokio::test]
async fn expiry_notice_records_and_rotates_once_in_24_hours() {
    let w = world();
    let out = run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-11T10:00:00Z", "n-3")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    assert_eq!(
        effects(&w),
        [
            "sm.put AWSCURRENT v2 secret=PLANTED-OLD",
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-OLD -> ok",
            "spapi.rotate token=grantless -> 204",
            "sm.put AWSCURRENT v3 secret=PLANTED-OLD",
        ]
    );
    let cur = w.sm.current();
    assert_eq!(cur["client_secret_expires_at"], "2026-05-11T10:00:00Z");
    assert_eq!(
        cur["client_secret_rotation_requested_at"],
        "2026-05-01T10:00:00Z"
    );
    // A second notice within 24 h: no call; 25 h later: a new request.
    let later = NOW + time::Duration::hours(23);
    run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-11T10:00:00Z", "n-3b")]),
        later,
    )
    .await
    .unwrap();
    assert!(!effects(&w).iter().any(|l| l.starts_with("spapi")));
    let out = run(&w, json!({"action":"rotate"}), later).await.unwrap();
    assert_eq!(out["rotated"], false);
    assert!(
        out["reason"]
            .as_str()
            .unwrap()
            .contains("2026-05-01T10:00:00Z"),
        "{out}"
    );
    assert!(out["reason"].as_str().unwrap().contains("force"), "{out}");
    assert!(effects(&w).is_empty());
    let out = run(&w, json!({"action":"rotate","force":true}), later)
        .await
        .unwrap();
    assert_eq!(out["rotated"], true);
    assert!(effects(&w)
        .iter()
        .any(|l| l == "spapi.rotate token=grantless -> 204"));
    let out = run(
        &w,
        json!({"action":"check"}),
        NOW + time::Duration::hours(48),
    )
    .await
    .unwrap();
    assert_eq!(
        out["rotated"], true,
        "due and the last request is over 24 h old: {out}"
    );
}

#[tokio::test]
async fn expiry_notice_far_out_is_only_recorded() {
    let w = world();
    let body = json!({"notificationType":"APPLICATION_OAUTH_CLIENT_SECRET_EXPIRY","payloadVersion":"2030-01-01",
        "payload":{"applicationOAuthClientSecretExpiry":{"clientId":ME,"clientSecretExpiryTime":"2026-08-01T10:00:00Z",
        "clientSecretExpiryReason":"SOMETHING_NEW","extra":{"a":1}}}}).to_string();
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert_eq!(effects(&w), ["sm.put AWSCURRENT v2 secret=PLANTED-OLD"]);
    let status = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(status["expiry_source"], "recorded");
    assert_eq!(status["days_left"], 92);
    // Foreign expiry notices are ignored.
    run(
        &w,
        batch(&[&expiry_body(
            "amzn1.application-oa2-client.ffff",
            "2026-05-02T00:00:00Z",
            "n",
        )]),
        NOW,
    )
    .await
    .unwrap();
    assert!(effects(&w).is_empty());
}

#[tokio::test]
async fn status_estimates_from_the_oldest_version_holding_the_secret() {
    let w = world(); // created 2026-04-01
                     // An unrelated write later (a rotated refresh token) does not move it.
    *w.sm.now.lock().unwrap() = datetime!(2026-04-20 0:00 UTC);
    w.sm.write(
        &json!({"client_id": ME, "client_secret": OLD, "refresh_token": "Atzr|PLANTED-RT2"})
            .to_string(),
        Stage::Current,
    );
    let status = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(
        status,
        json!({"client_id": ME, "client_secret_expires_at": "2026-09-28T00:00:00Z", "expiry_source": "estimated",
               "days_left": 149, "rotation_requested_at": null, "pending_secret": false})
    );
    // The check rotates once the estimate is within 30 days.
    let out = run(
        &w,
        json!({"action":"check"}),
        datetime!(2026-08-30 0:00 UTC),
    )
    .await
    .unwrap();
    assert_eq!(out["rotated"], true);
    assert_eq!(out["rotation_requested_at"], "2026-08-30T00:00:00Z");
}

#[tokio::test]
async fn rotate_not_enrolled_and_failed() {
    let w = world();
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::NotEnrolled {
            message: "Application is not enrolled for rotation notification".into(),
        });
    let e = run(&w, json!({"action":"rotate"}), NOW).await.unwrap_err();
    assert_eq!(e.error_type(), "RotationNotEnrolled");
    let m = e.to_string();
    assert!(
        m.contains("Notification Preferences") && m.contains(QUEUE) && m.contains("not enrolled"),
        "{m}"
    );
    assert_eq!(w.sm.count(), 1, "the secret is unchanged");
    // From an expiry notice it is reported, not retried.
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::NotEnrolled {
            message: "not enrolled".into(),
        });
    let out = run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-11T10:00:00Z", "n-3")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::Rejected {
            status: 403,
            code: "Unauthorized".into(),
            message: "Access to requested resource is denied.".into(),
        });
    let e = run(&w, json!({"action":"rotate","force":true}), NOW)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "RotationFailed");
    assert!(
        e.to_string()
            .contains("HTTP 403 Unauthorized: Access to requested resource is denied."),
        "{e}"
    );
    // 5xx exhausted: retried from SQS.
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::Unavailable {
            attempts: 3,
            last: "HTTP 503".into(),
        });
    let out = run(
        &w,
        batch(&[&expiry_body(ME, "2026-05-12T10:00:00Z", "n-4")]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    // LWA refusing the current secret for the grantless token.
    w.lwa.script.lock().unwrap().push_back(invalid_client());
    let e = run(&w, json!({"action":"rotate","force":true}), NOW)
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "LwaInvalidClient");
}

/// A rotate call sent and not answered may have gone through: it counts as
/// requested, so neither the expiry notice delivered again nor the daily
/// check makes a second call (which would replace the secret just issued)
/// within 24 h; `force` still can.
#[tokio::test]
async fn an_unanswered_rotate_call_counts_as_requested_for_24_hours() {
    let w = world();
    w.app
        .script
        .lock()
        .unwrap()
        .push_back(RotateCallError::NoAnswer {
            attempts: 1,
            detail: "no answer within 10000 ms".into(),
        });
    let notice = expiry_body(ME, "2026-05-11T10:00:00Z", "n-3");
    let out = run(&w, batch(&[&notice]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"], "the notice is retried");
    assert_eq!(
        w.sm.current()["client_secret_rotation_requested_at"],
        "2026-05-01T10:00:00Z"
    );
    let calls = |w: &W| {
        effects(w)
            .iter()
            .filter(|l| l.starts_with("spapi.rotate"))
            .count()
    };
    assert_eq!(calls(&w), 1);
    let later = NOW + time::Duration::minutes(6);
    let out = run(&w, batch(&[&notice]), later).await.unwrap();
    assert!(failures(&out).is_empty(), "acknowledged on redelivery");
    let out = run(&w, json!({"action":"check"}), later).await.unwrap();
    assert_eq!(out["rotated"], false);
    assert_eq!(calls(&w), 0, "no second call within 24 h");
    let out = run(&w, json!({"action":"rotate","force":true}), later)
        .await
        .unwrap();
    assert_eq!(out["rotated"], true);
    assert_eq!(calls(&w), 1);
}

/// The daily check and a waiting `AWSPENDING` version: one holding the
/// current secret is a leftover label (removed, no LWA request, nothing
/// "promoted"); one for another client ID is never verified nor promoted;
/// one without a recorded expiry is promoted with 180 days from now (not a
/// date in the past that would trigger another rotation at once).
#[tokio::test]
async fn check_and_the_kinds_of_waiting_version() {
    let w = world();
    let current = w.sm.text(Stage::Current).unwrap();
    let leftover = w.sm.write(&current, Stage::Pending);
    journal(&w);
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(out["promoted"], false);
    assert_eq!(effects(&w), [format!("sm.remove AWSPENDING {leftover}")]);

    let foreign = json!({"client_id": "amzn1.application-oa2-client.other", "client_secret": NEW})
        .to_string();
    w.sm.write(&foreign, Stage::Pending);
    journal(&w);
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(out["promoted"], false);
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], OLD);

    let mine = json!({"client_id": ME, "client_secret": NEW}).to_string();
    w.sm.write(&mine, Stage::Pending);
    journal(&w);
    let out = run(&w, json!({"action":"check"}), NOW).await.unwrap();
    assert_eq!(out["promoted"], true);
    assert_eq!(out["rotated"], false, "180 days left: no rotation");
    let cur = w.sm.current();
    assert_eq!(cur["client_secret"], NEW);
    assert_eq!(cur["client_secret_expires_at"], "2026-10-28T10:00:00Z");
}

/// An expiry notice equal to the recorded date is not earlier: nothing to
/// place, so the version history is not read.
#[tokio::test]
async fn an_expiry_notice_equal_to_the_recorded_date_reads_no_history() {
    let w = world_with(
        json!({"client_id": ME, "client_secret": OLD, "client_secret_expires_at": "2026-09-01T00:00:00Z"}),
        datetime!(2026-04-01 0:00 UTC),
    );
    let notice = expiry_body(ME, "2026-09-01T00:00:00Z", "n-3");
    let out = run(&w, batch(&[&notice]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    let seen = journal(&w);
    assert!(!seen.iter().any(|l| l == "sm.get-list"), "{seen:?}");
    assert!(!seen.iter().any(|l| l.starts_with("sm.put")), "{seen:?}");
}

/// An AWSPENDING version for another client ID is not this app's waiting
/// secret: the status does not report one, and it does not hold back a
/// rotation that is due.
#[tokio::test]
async fn a_foreign_pending_version_is_not_a_waiting_secret() {
    let w = world();
    let foreign = json!({"client_id": "amzn1.application-oa2-client.other", "client_secret": NEW})
        .to_string();
    w.sm.write(&foreign, Stage::Pending);
    let out = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(out["pending_secret"], false);
    journal(&w);
    let notice = expiry_body(ME, "2026-05-11T10:00:00Z", "n-3");
    let out = run(&w, batch(&[&notice]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(
        effects(&w).iter().any(|l| l.starts_with("spapi.rotate")),
        "{:?}",
        effects(&w)
    );
}
