//! Bad input: precise 4xx, never a 500, nothing half-written.

use aigov_server::ServerConfig;
use serde_json::json;

use crate::helpers::*;

async fn raw(
    app: &TestApp,
    path: &str,
    token: &str,
    body: &'static str,
) -> (u16, serde_json::Value) {
    let resp = app
        .http
        .post(format!("{}{path}", app.base))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or_default())
}

#[tokio::test]
async fn malformed_bodies_name_the_field() {
    let app = spawn_app().await;
    let (_org, provider, _regulator) = app.provider().await;

    let (s, e) = raw(
        &app,
        "/v1/systems",
        &provider,
        "{\"facts\": {\"name\": \"x\", ",
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("malformed JSON at line 1"),
        "{e}"
    );

    let (s, e) = raw(
        &app,
        "/v1/systems",
        &provider,
        r#"{"facts": {"name": "x", "functions": ["generation_synthesis", "mind_reading"]}}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["field"], "facts.functions[1]");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("mind_reading")
    );

    let (s, e) = raw(
        &app,
        "/v1/systems",
        &provider,
        r#"{"facts": {"name": "x", "colour": "blue"}}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `colour`"),
        "{e}"
    );

    let (s, e) = raw(
        &app,
        "/v1/systems",
        &provider,
        r#"{"facts": {"name": "x", "users": -5}}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["field"], "facts.users");

    let (s, e) = raw(
        &app,
        "/v1/systems",
        &provider,
        r#"{"facts": {"version": "1"}}"#,
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["field"], "facts.name");

    let (s, e) = raw(&app, "/v1/organisations", &app.admin, r#"{"name": "Bad Code Co.", "kind": "provider", "country": "CN", "code": "91110000600037341M"}"#).await;
    assert_eq!(s, 400);
    assert_eq!(e["error"]["field"], "code");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expected 'L'"),
        "{e}"
    );

    let e = app
        .get("/v1/systems/not-a-uuid", Some(&provider))
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "id");
    let e = app
        .get("/v1/systems?state=flying", Some(&provider))
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "state");
    let e = app
        .get("/v1/public/systems?limit=lots", None)
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "limit");
    let e = app
        .get("/v1/public/systems/AIG-2026-000001-0", None)
        .await
        .expect(400);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("check character"),
        "{e}"
    );
    let e = app
        .post("/v1/classify?as_of=2026-02-30", None, json!({}))
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "as_of");

    // Wrong content type.
    let resp = app
        .http
        .post(format!("{}/v1/classify", app.base))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);

    // Transition requests need a reason and a known state.
    let id = app
        .system(&provider, &example("spam-filter.toml"), None)
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = app
        .post(
            &format!("/v1/systems/{id}/transitions"),
            Some(&provider),
            json!({"to": "submitted", "reason": " "}),
        )
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "reason");
    let e = app
        .post(
            &format!("/v1/systems/{id}/transitions"),
            Some(&provider),
            json!({"to": "approved", "reason": "x"}),
        )
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "to");
    let e = app
        .transition(&provider, &id, "registered")
        .await
        .expect(409);
    assert_eq!(e["error"]["allowed"], json!(["submitted", "cancelled"]));
}

#[tokio::test]
async fn oversized_bodies_get_413_and_nothing_is_half_written() {
    let app = spawn_with(ServerConfig {
        max_body: 4096,
        max_upload: 8192,
        max_label_upload: 8192,
    })
    .await;
    let (_org, provider, regulator) = app.provider().await;
    let mut facts = example("spam-filter.toml");
    facts.intended_purpose = Some("x".repeat(10_000));
    let e = app
        .post("/v1/systems", Some(&provider), json!({"facts": facts}))
        .await
        .expect(413);
    assert_eq!(e["error"]["code"], "payload_too_large");
    assert_eq!(
        app.get("/v1/systems", Some(&regulator)).await.ok(),
        json!([])
    );

    // Uploads have their own limit.
    let id = app
        .system(&provider, &example("spam-filter.toml"), None)
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let upload = |n: usize| {
        app.http
            .post(format!(
                "{}/v1/systems/{id}/evidence/upload?kind=test_report&title=Tests",
                app.base
            ))
            .bearer_auth(&provider)
            .body(vec![b'x'; n])
            .send()
    };
    assert_eq!(upload(6000).await.unwrap().status(), 201);
    let resp = upload(9000).await.unwrap();
    assert_eq!(resp.status(), 413);
    let e: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "payload_too_large");

    // A failure inside a write transaction leaves no trace: the audit log only has what succeeded.
    let before = app
        .get("/v1/audit?limit=500", Some(&regulator))
        .await
        .ok()
        .as_array()
        .unwrap()
        .len();
    app.post(
        "/v1/systems",
        Some(&provider),
        json!({"facts": {"name": "x", "jurisdictions": ["eu"]}}),
    )
    .await
    .expect(400);
    let after = app
        .get("/v1/audit?limit=500", Some(&regulator))
        .await
        .ok()
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_detected() {
    let app = spawn_app().await;
    let (_org, provider, regulator) = app.provider().await;
    app.system(&provider, &example("spam-filter.toml"), None)
        .await;
    assert_eq!(
        app.get("/v1/audit/verify", Some(&regulator)).await.ok()["ok"],
        true
    );
    // The store refuses updates to the audit table…
    let err = app
        .store
        .execute_raw("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    // …and someone who bypasses that is caught by the hash chain.
    app.store
        .execute_raw("DROP TRIGGER audit_events_no_update; UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
        .await
        .unwrap();
    let v = app.get("/v1/audit/verify", Some(&regulator)).await.ok();
    assert_eq!(v["ok"], false);
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .starts_with("event 2: content does not match"),
        "{v}"
    );
}
