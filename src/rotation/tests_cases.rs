//! Every field case of tests/cases/notifications.json, in order, on one world.

use super::test_world::*;

/// Every case of tests/cases/notifications.json, in order, on one world.
#[tokio::test]
async fn field_cases() {
    let file: Value =
        serde_json::from_str(include_str!("../../tests/cases/notifications.json")).unwrap();
    let w = world_with(
        json!({"client_id": ME, "client_secret": "amzn1.oa2-cs.v1.<old>", "refresh_token": "Atzr|<rt>"}),
        datetime!(2026-04-01 0:00 UTC),
    );
    w.lwa
        .accepted
        .lock()
        .unwrap()
        .insert("amzn1.oa2-cs.v1.<new>".into());
    w.lwa
        .accepted
        .lock()
        .unwrap()
        .insert("amzn1.oa2-cs.v1.<old>".into());
    let mut previous_body = String::new();
    for case in file["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let now = case["given"]["now"]
            .as_str()
            .map(|s| super::notification::parse_time(s).unwrap())
            .unwrap_or(NOW);
        let body = match &case["given"] {
            Value::String(_) => previous_body.clone(), // "the case above delivered again"
            g => match &g["body"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                b => b.to_string(),
            },
        };
        journal(&w);
        let versions_before = w.sm.count();
        if name == "rotate-not-enrolled" {
            let a = &case["given"]["spapi_answer"]["body"]["errors"][0];
            w.app
                .script
                .lock()
                .unwrap()
                .push_back(RotateCallError::NotEnrolled {
                    message: a["message"].as_str().unwrap().into(),
                });
            let e = run(&w, json!({"action":"rotate","force":true}), now)
                .await
                .unwrap_err();
            assert_eq!(e.error_type(), "RotationNotEnrolled", "{name}");
            assert!(
                e.to_string().contains("Notification Preferences") && e.to_string().contains(QUEUE)
            );
            assert_eq!(w.sm.count(), versions_before, "{name}: secret unchanged");
            continue;
        }
        let out = run(
            &w,
            batch(&[
                &body,
                &expiry_body(
                    "amzn1.application-oa2-client.ffff",
                    "2026-05-02T00:00:00Z",
                    "x",
                ),
            ]),
            now,
        )
        .await
        .unwrap();
        let done = effects(&w);
        match name {
            "new-secret-for-this-app" => {
                assert!(failures(&out).is_empty(), "{name}");
                assert_eq!(done.len(), 4, "{name}: {done:?}");
                assert!(done[0].starts_with("sm.put AWSPENDING") && done[1].contains("-> ok"));
                let cur = w.sm.current();
                assert_eq!(cur["client_secret"], "amzn1.oa2-cs.v1.<new>");
                assert_eq!(cur["refresh_token"], "Atzr|<rt>");
                assert_eq!(cur["client_secret_expires_at"], "2026-10-28T10:00:00Z");
            }
            "same-new-secret-delivered-twice" | "new-secret-for-another-app" => {
                assert!(failures(&out).is_empty(), "{name}");
                assert!(done.is_empty(), "{name}: {done:?}");
            }
            "expiry-notice-10-days-out" => {
                // Recorded expiry is the new secret's; a notice that moves it earlier
                // is stale, so this case runs on a fresh world.
                let w2 = world_with(
                    json!({"client_id": ME, "client_secret": "amzn1.oa2-cs.v1.<old>"}),
                    datetime!(2026-04-01 0:00 UTC),
                );
                w2.lwa
                    .accepted
                    .lock()
                    .unwrap()
                    .insert("amzn1.oa2-cs.v1.<old>".into());
                let out = run(&w2, batch(&[&body]), now).await.unwrap();
                assert!(failures(&out).is_empty());
                assert_eq!(
                    w2.sm.current()["client_secret_expires_at"],
                    "2026-05-11T10:00:00Z"
                );
                let calls = |w: &W| {
                    effects(w)
                        .iter()
                        .filter(|l| l.starts_with("spapi.rotate"))
                        .count()
                };
                assert_eq!(calls(&w2), 1, "{name}: one rotate call");
                run(&w2, batch(&[&body]), now + time::Duration::hours(1))
                    .await
                    .unwrap();
                assert_eq!(calls(&w2), 0, "{name}: no second call within 24 h");
            }
            "expiry-notice-without-milliseconds-and-unknown-fields" => {
                assert!(failures(&out).is_empty(), "{name}");
                // Earlier than the recorded expiry of the newly installed secret: kept as is.
                assert_eq!(
                    w.sm.current()["client_secret_expires_at"],
                    "2026-10-28T10:00:00Z"
                );
                let fresh = world();
                let out = run(&fresh, batch(&[&body]), now).await.unwrap();
                assert!(failures(&out).is_empty());
                assert_eq!(
                    fresh.sm.current()["client_secret_expires_at"],
                    "2026-08-01T10:00:00Z"
                );
            }
            "not-a-notification" => {
                assert_eq!(failures(&out), ["m0"], "{name}");
                assert!(done.is_empty());
            }
            other => panic!("case {other} has no test: add one"),
        }
        previous_body = body;
    }
}
