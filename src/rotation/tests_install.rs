//! Installing the new secret Amazon sends: saved as AWSPENDING, verified with
//! LWA, promoted (AWSCURRENT re-read, a write meanwhile kept), the label
//! removed; not accepted yet (propagation delay), duplicates, late and older
//! notifications, a failed save or promotion.

use super::test_world::*;

#[tokio::test]
async fn new_secret_is_saved_then_verified_then_promoted() {
    let w = world();
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00.000Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    let log = journal(&w);
    let writes: Vec<&String> = log.iter().filter(|l| !l.starts_with("sm.get")).collect();
    assert_eq!(
        writes,
        [
            "sm.put AWSPENDING v2 secret=PLANTED-NEW",
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-NEW -> ok",
            "sm.put AWSCURRENT v3 secret=PLANTED-NEW",
            "sm.remove AWSPENDING v2",
        ]
    );
    // AWSCURRENT is read again between the check and the promotion.
    let verify = log.iter().position(|l| l.starts_with("lwa")).unwrap();
    let promote = log
        .iter()
        .position(|l| l.starts_with("sm.put AWSCURRENT"))
        .unwrap();
    assert!(
        log[verify..promote]
            .iter()
            .any(|l| l == "sm.get AWSCURRENT"),
        "{log:?}"
    );
    let cur = w.sm.current();
    assert_eq!(cur["client_secret"], NEW);
    assert_eq!(cur["client_secret_expires_at"], "2026-10-28T10:00:00Z");
    assert_eq!(cur["refresh_token"], "Atzr|PLANTED-RT");
    assert_eq!(cur["note"], json!({"kept": [1, 2.50]}));
    let prev: Value = serde_json::from_str(&w.sm.text(Stage::Previous).unwrap()).unwrap();
    assert_eq!(
        prev["client_secret"], OLD,
        "the old secret stays as AWSPREVIOUS"
    );
    assert!(w.sm.text(Stage::Pending).is_none());

    // The same notification again: nothing written, not retried.
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00.000Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.count(), 3);
}

#[tokio::test]
async fn new_secret_not_accepted_yet_stays_pending_and_is_retried() {
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    let body = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert_eq!(
        effects(&w),
        [
            "sm.put AWSPENDING v2 secret=PLANTED-NEW",
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-NEW -> refused"
        ]
    );
    assert_eq!(
        w.sm.current()["client_secret"],
        OLD,
        "the current secret stays"
    );
    // Status shows the waiting secret.
    let status = run(&w, json!({"action":"status"}), NOW).await.unwrap();
    assert_eq!(status["pending_secret"], true);
    journal(&w);
    // Amazon accepts it; the redelivery promotes without saving it again.
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    let out = run(&w, batch(&[&body]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert_eq!(
        effects(&w),
        [
            "lwa sellingpartnerapi::client_credential:rotation secret=PLANTED-NEW -> ok",
            "sm.put AWSCURRENT v3 secret=PLANTED-NEW",
            "sm.remove AWSPENDING v2"
        ]
    );
}

#[tokio::test]
async fn a_write_between_verify_and_promote_is_kept() {
    let w = world();
    let sm = w.sm.clone();
    *w.lwa.after_success.lock().unwrap() = Some(Box::new(move || {
        let doc = json!({"client_id": ME, "client_secret": OLD, "refresh_token": "Atzr|PLANTED-RT2", "note": 1});
        sm.write(&doc.to_string(), Stage::Current);
    }));
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert!(failures(&out).is_empty());
    let cur = w.sm.current();
    assert_eq!(cur["client_secret"], NEW);
    assert_eq!(
        cur["refresh_token"], "Atzr|PLANTED-RT2",
        "the refresher's write is not reverted"
    );
}

#[tokio::test]
async fn a_late_older_notification_never_replaces_a_newer_secret() {
    let w = world();
    run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    journal(&w);
    let older = new_secret_body(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-OLDER",
        "2026-06-01T00:00:00Z",
        "n-0",
    );
    let out = run(&w, batch(&[&older]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.current()["client_secret"], NEW);
}

#[tokio::test]
async fn an_older_notification_waits_for_a_newer_pending_secret_and_is_not_lost() {
    // A newer secret waits as AWSPENDING (LWA does not accept it yet).
    let w = world();
    w.lwa.accepted.lock().unwrap().remove(NEW);
    let newer = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    run(&w, batch(&[&newer]), NOW).await.unwrap();
    journal(&w);
    // An older one arrives: nothing written, and it is retried, not dropped.
    let older = new_secret_body(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-OLDER",
        "2026-06-01T00:00:00Z",
        "n-0",
    );
    let out = run(&w, batch(&[&older]), NOW).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    assert_eq!(w.sm.current()["client_secret"], OLD);
    // Once the newer one is promoted, the older is stale and acknowledged.
    w.lwa.accepted.lock().unwrap().insert(NEW.into());
    run(&w, batch(&[&newer]), NOW).await.unwrap();
    journal(&w);
    let out = run(&w, batch(&[&older]), NOW).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty());
    assert_eq!(w.sm.current()["client_secret"], NEW);
}

#[tokio::test]
async fn a_failed_save_writes_nothing_and_is_retried() {
    let w = world();
    *w.sm.fail_put.lock().unwrap() = Some(Stage::Pending);
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert!(
        !effects(&w).iter().any(|l| l.starts_with("lwa")),
        "not verified before it is saved"
    );
    assert_eq!(w.sm.current()["client_secret"], OLD);
    // A failed promotion leaves the secret saved as AWSPENDING.
    *w.sm.fail_put.lock().unwrap() = Some(Stage::Current);
    let out = run(
        &w,
        batch(&[&new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1")]),
        NOW,
    )
    .await
    .unwrap();
    assert_eq!(failures(&out), ["m0"]);
    assert_eq!(w.sm.current()["client_secret"], OLD);
    let pending: Value = serde_json::from_str(&w.sm.text(Stage::Pending).unwrap()).unwrap();
    assert_eq!(pending["client_secret"], NEW);
}

/// A duplicate of the notification whose secret is already current removes a
/// leftover AWSPENDING label only when it holds that same secret; a newer
/// secret waiting as AWSPENDING keeps its label.
#[tokio::test]
async fn a_duplicate_clears_only_a_leftover_pending_of_the_current_secret() {
    let w = world();
    let dup = new_secret_body(ME, NEW, "2026-10-28T10:00:00Z", "n-1");
    run(&w, batch(&[&dup]), NOW).await.unwrap();
    // A leftover label on a version holding the current secret: removed.
    let leftover =
        w.sm.write(&w.sm.text(Stage::Current).unwrap(), Stage::Pending);
    journal(&w);
    run(&w, batch(&[&dup]), NOW).await.unwrap();
    assert_eq!(effects(&w), [format!("sm.remove AWSPENDING {leftover}")]);
    assert!(w.sm.text(Stage::Pending).is_none());
    // A newer secret waits (LWA does not accept it yet): the duplicate leaves it.
    // (Published after NEW was stored, as a later rotation's would be.)
    let newer = new_secret_published(
        ME,
        "amzn1.oa2-cs.v1.PLANTED-NEWER",
        "2026-10-29T00:00:00Z",
        "n-2",
        Some("2026-05-01T10:00:30Z"),
    );
    let later = NOW + time::Duration::minutes(1);
    let out = run(&w, batch(&[&newer]), later).await.unwrap();
    assert_eq!(failures(&out), ["m0"]);
    journal(&w);
    let out = run(&w, batch(&[&dup]), later).await.unwrap();
    assert!(failures(&out).is_empty());
    assert!(effects(&w).is_empty(), "{:?}", effects(&w));
    let waiting: Value = serde_json::from_str(&w.sm.text(Stage::Pending).unwrap()).unwrap();
    assert_eq!(waiting["client_secret"], "amzn1.oa2-cs.v1.PLANTED-NEWER");
}
