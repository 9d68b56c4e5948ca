//! Placing a notification in time when the recorded expiry disagrees: a
//! hand-set `client_secret_expires_at` later than the truth never makes
//! Amazon's new secret or expiry notice look stale; an old notification
//! delivered late is still never installed; one that cannot be placed is
//! kept for the operator (retried into the dead-letter queue), never
//! dropped; a new secret Amazon cannot have issued is never saved.

use super::test_world::*;

/// The current secret with a hand-set expiry far later than the truth,
/// stored on 2026-04-01.
fn world_with_a_wrong_hand_set_expiry() -> W {
    world_with(
        json!({"client_id": ME, "client_secret": OLD, "client_secret_expires_at": "2027-06-01T00:00:00Z"}),
        datetime!(2026-04-01 0:00 UTC),
    )
}

#[tokio::test]
async fn a_wrong_hand_set_expiry_does_not_make_amazons_new_secret_stale() {
    let w = world_with_a_wrong_hand_set_expiry();
    let body = new_secret_published(
        ME,
        NEW,
        "2026-10-28T10:00:00Z",
        "n-1",
        Some("2026-05-01T09:59:00Z"),
    );
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    let cur = w.sm.current();
    assert_eq!(cur["client_secret"], NEW);
    assert_eq!(cur["client_secret_expires_at"], "2026-10-28T10:00:00Z");
}

#[tokio::test]
async fn a_late_notification_published_before_the_current_secret_was_stored_is_stale() {
    let w = world();
    let newer = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-2");
    run(&w, batch(&[&newer]), NOW).await.unwrap();
    journal(&w);
    // Published a day before NEW was stored, expiring before it: acknowledged, nothing written.
    let older = new_secret_published(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-OLDER",
        "2026-10-27T10:00:00Z",
        "n-1",
        Some("2026-04-30T10:00:00Z"),
    );
    let later = NOW + time::Duration::hours(1);
    let out = run(&w, batch(&[&older]), later).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], NEW);
}

#[tokio::test]
async fn an_older_notification_that_cannot_be_placed_is_kept_not_dropped() {
    let w = world_with_a_wrong_hand_set_expiry();
    let body = new_secret_published(ME, NEW, "2026-10-28T10:00:00Z", "n-1", None);
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert_eq!(
        failures(&out),
        ["m0"],
        "retried, so it ends in the dead-letter queue"
    );
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    let n = super::notification::parse(&body).unwrap();
    let e = w
        .rotator
        .on_notification(&n, NOW, deadline(&w))
        .await
        .unwrap_err();
    assert_eq!(e.error_type(), "InvalidEvent");
    let text = e.to_string();
    assert!(
        text.contains("correct or remove it and redrive the message")
            && text.contains("2027-06-01T00:00:00Z"),
        "{text}"
    );
    assert!(!text.contains("PLANTED"), "{text}");
}

#[tokio::test]
async fn a_new_secret_living_longer_than_amazon_allows_is_never_saved() {
    let w = world();
    let body = new_secret_body(ME, NEW, "2026-10-29T10:00:01Z", "n-1");
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert!(w.sm.text(Stage::Pending).is_none());
}

#[tokio::test]
async fn a_malformed_new_secret_is_never_saved() {
    let w = world();
    for (i, secret) in [
        "amzn1.oa2-cs.v1.PLANTED\r\nX-Injected: 1".to_owned(),
        "PLANTED-no-prefix".to_owned(),
        format!("amzn1.oa2-cs.v1.{}", "A".repeat(100_000)),
    ]
    .iter()
    .enumerate()
    {
        let body = new_secret_body(ME, secret, "2026-10-28T10:00:00Z", &format!("n-{i}"));
        let out = run(&w, batch(&[&body]), NOW).await.unwrap();
        assert_eq!(failures(&out), ["m0"], "secret {i}");
    }
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.count(), 1);
}

#[tokio::test]
async fn an_earlier_expiry_notice_about_the_current_secret_corrects_a_wrong_hand_set_date() {
    let w = world_with_a_wrong_hand_set_expiry();
    let body = expiry_published(ME, "2026-05-20T00:00:00Z", "n-3", "2026-05-01T09:00:00Z");
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    let cur = w.sm.current();
    assert_eq!(cur["client_secret_expires_at"], "2026-05-20T00:00:00Z");
    assert_eq!(
        cur["client_secret_rotation_requested_at"], "2026-05-01T10:00:00Z",
        "19 days left: rotated"
    );
}

#[tokio::test]
async fn an_earlier_expiry_notice_published_before_the_current_secret_was_stored_is_ignored() {
    let w = world_with_a_wrong_hand_set_expiry();
    for (id, published) in [("n-3", Some("2026-03-31T23:00:00Z")), ("n-4", None)] {
        let body = match published {
            Some(at) => expiry_published(ME, "2026-05-20T00:00:00Z", id, at),
            None => expiry_body(ME, "2026-05-20T00:00:00Z", id),
        };
        let out = run(&w, batch(&[&body]), NOW).await.unwrap();
        assert!(failures(&out).is_empty());
    }
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(
        w.sm.current()["client_secret_expires_at"],
        "2027-06-01T00:00:00Z"
    );
}

/// Two rotations, then Amazon's expiry notice for the current secret moves
/// the recorded date earlier (hand-set dates can too): the dates no longer
/// order the secrets, but the history does.
async fn two_rotations_then_an_earlier_expiry(w: &W) -> &'static str {
    const NEWER: &str = "amzn1.oa2-cs.v1.PLANTED-NEWER";
    w.lwa.accepted.lock().unwrap().insert(NEWER.into());
    let first = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    run(w, batch(&[&first]), NOW).await.unwrap();
    let second = new_secret_published(
        ME,
        NEWER,
        "2026-10-28T10:01:00Z",
        "n-2",
        Some("2026-05-01T10:00:30Z"),
    );
    let out = run(w, batch(&[&second]), NOW + time::Duration::minutes(1))
        .await
        .unwrap();
    assert!(failures(&out).is_empty());
    let notice = expiry_published(ME, "2026-05-20T00:00:00Z", "n-3", "2026-05-01T10:02:30Z");
    run(w, batch(&[&notice]), NOW + time::Duration::minutes(3))
        .await
        .unwrap();
    assert_eq!(
        w.sm.current()["client_secret_expires_at"],
        "2026-05-20T00:00:00Z"
    );
    journal(w);
    NEWER
}

#[tokio::test]
async fn a_replaced_secret_delivered_again_is_stale_whatever_the_recorded_date() {
    let w = world();
    let newer = two_rotations_then_an_earlier_expiry(&w).await;
    let first = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = run(&w, batch(&[&first]), NOW + time::Duration::minutes(4))
        .await
        .unwrap();
    assert!(failures(&out).is_empty(), "acknowledged");
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], newer);
}

#[tokio::test]
async fn an_older_secret_never_stored_is_stale_by_the_date_first_stored_with_the_current_one() {
    let w = world();
    let newer = two_rotations_then_an_earlier_expiry(&w).await;
    // Published before NEWER was stored, expiring before NEWER's own date
    // (though after the recorded date, which the notice moved).
    let never = new_secret_published(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-NEVER",
        "2026-10-28T10:00:10Z",
        "n-0",
        Some("2026-05-01T10:00:10Z"),
    );
    let out = run(&w, batch(&[&never]), NOW + time::Duration::minutes(4))
        .await
        .unwrap();
    assert!(failures(&out).is_empty(), "acknowledged as stale");
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], newer);
}

/// Two rotations a minute apart, both delivered late in one batch, older
/// first: the newer one is installed after the older, though it was
/// published before the older one was stored.
#[tokio::test]
async fn two_late_notifications_in_one_batch_end_with_the_newer_secret() {
    const NEWER: &str = "amzn1.oa2-cs.v1.PLANTED-NEWER";
    let w = world();
    w.lwa.accepted.lock().unwrap().insert(NEWER.into());
    let a = new_secret_published(
        ME,
        NEW,
        "2026-10-28T10:00:00Z",
        "n-a",
        Some("2026-05-01T10:00:00Z"),
    );
    let b = new_secret_published(
        ME,
        NEWER,
        "2026-10-28T10:01:01Z",
        "n-b",
        Some("2026-05-01T10:01:01Z"),
    );
    let out = run(&w, batch(&[&a, &b]), NOW + time::Duration::minutes(5))
        .await
        .unwrap();
    assert!(failures(&out).is_empty(), "{out}");
    assert_eq!(w.sm.current()["client_secret"], NEWER);
    // The older one delivered again changes nothing.
    journal(&w);
    let out = run(&w, batch(&[&a]), NOW + time::Duration::minutes(6))
        .await
        .unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], NEWER);
}

/// A new secret waits as AWSPENDING (LWA does not accept it yet); the
/// operator then pastes another secret into AWSCURRENT. The daily check does
/// not promote the older waiting one over it.
#[tokio::test]
async fn check_never_promotes_a_waiting_secret_over_a_newer_pasted_one() {
    const PASTED: &str = "amzn1.oa2-cs.v1.PLANTED-PASTED";
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    let body = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    let later = NOW + time::Duration::minutes(10);
    at(&w, later);
    w.sm.write(
        &json!({"client_id": ME, "client_secret": PASTED, "refresh_token": "Atzr|PLANTED-RT", "note": {"kept": [1, 2.50]}})
            .to_string(),
        Stage::Current,
    );
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    w.lwa.accepted.lock().unwrap().insert(PASTED.into());
    journal(&w);
    let out = run(&w, json!({"action":"check"}), later).await.unwrap();
    assert_eq!(out["promoted"], false);
    assert_eq!(w.sm.current()["client_secret"], PASTED);
    assert!(w.sm.text(Stage::Pending).is_none(), "label removed");
    assert!(
        !effects(&w)
            .iter()
            .any(|l| l.starts_with("sm.put") || l.starts_with("lwa")),
        "{:?}",
        effects(&w)
    );
}

/// Amazon's clock may run a little ahead of ours: a newer secret installed a
/// moment ago, then an older one published "after" it by less than the
/// clock skew, is stale; a publish time far in the future is not trusted.
#[tokio::test]
async fn a_publish_time_within_the_clock_skew_or_in_the_future_places_nothing() {
    const NEWER: &str = "amzn1.oa2-cs.v1.PLANTED-NEWER";
    let w = world();
    w.lwa.accepted.lock().unwrap().insert(NEWER.into());
    let b = new_secret_published(
        ME,
        NEWER,
        "2026-10-28T10:00:00.400Z",
        "n-b",
        Some("2026-05-01T10:00:00.400Z"),
    );
    let a = new_secret_published(
        ME,
        NEW,
        "2026-10-28T10:00:00.300Z",
        "n-a",
        Some("2026-05-01T10:00:00.300Z"),
    );
    let out = run(&w, batch(&[&b, &a]), NOW).await.unwrap();
    assert!(failures(&out).is_empty(), "{out}");
    assert_eq!(w.sm.current()["client_secret"], NEWER);
    journal(&w);
    let future = new_secret_published(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-FUTURE",
        "2026-10-28T09:00:00Z",
        "n-f",
        Some("2099-01-01T00:00:00Z"),
    );
    let out = run(&w, batch(&[&future]), NOW + time::Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(failures(&out), ["m0"], "kept, not installed");
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
}

#[tokio::test]
async fn an_expiry_notice_more_than_181_days_out_is_not_recorded() {
    let w = world();
    let notice = expiry_published(ME, "2099-01-01T00:00:00Z", "n-3", "2026-05-01T09:00:00Z");
    let out = run(&w, batch(&[&notice]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
}
