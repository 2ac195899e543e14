//! What each role may see and do.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn every_role_sees_only_its_scope() {
    let app = spawn_app().await;
    let (org_a, prov_a, regulator) = app.provider().await;
    let org_b = app.org("EuroHire GmbH", "DE", None).await;
    let prov_b = app.token("provider", Some(org_b)).await;
    let reviewer = app.token("reviewer", None).await;

    let a = app
        .system(&prov_a, &example("news-recommender.toml"), None)
        .await;
    let a_id = a["id"].as_str().unwrap().to_string();
    let b = app
        .system(&prov_b, &example("cv-screening.toml"), None)
        .await;
    let b_id = b["id"].as_str().unwrap().to_string();
    assert_eq!(b["organisation"], org_b.to_string());

    // Providers see their own drafts only; another organisation's draft does not exist for them.
    app.get(&format!("/v1/systems/{a_id}"), Some(&prov_a))
        .await
        .ok();
    let e = app
        .get(&format!("/v1/systems/{b_id}"), Some(&prov_a))
        .await
        .expect(404);
    assert_eq!(e["error"]["code"], "not_found");
    let list = app.get("/v1/systems", Some(&prov_a)).await.ok();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let list = app
        .get(&format!("/v1/systems?organisation={org_b}"), Some(&prov_a))
        .await
        .ok();
    assert_eq!(list, json!([]));

    // … nor change it, nor create systems for it.
    app.put(
        &format!("/v1/systems/{b_id}"),
        Some(&prov_a),
        json!({"facts": example("cv-screening.toml")}),
    )
    .await
    .expect(404);
    app.transition(&prov_a, &b_id, "submitted")
        .await
        .expect(404);
    let e = app
        .post(
            "/v1/systems",
            Some(&prov_a),
            json!({"organisation": org_b, "facts": example("spam-filter.toml")}),
        )
        .await
        .expect(403);
    assert_eq!(e["error"]["code"], "forbidden");
    let orgs = app.get("/v1/organisations", Some(&prov_a)).await.ok();
    assert_eq!(orgs.as_array().unwrap().len(), 1);
    assert_eq!(orgs[0]["id"], org_a.to_string());

    // Reviewers see nothing in draft, then the submitted filing; they may return it, not register it.
    assert_eq!(
        app.get("/v1/systems", Some(&reviewer)).await.ok(),
        json!([])
    );
    app.get(&format!("/v1/systems/{a_id}"), Some(&reviewer))
        .await
        .expect(404);
    app.transition(&prov_a, &a_id, "submitted").await.ok();
    assert_eq!(
        app.get("/v1/systems", Some(&reviewer))
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.transition(&reviewer, &a_id, "registered")
        .await
        .expect(403);
    app.put(
        &format!("/v1/systems/{a_id}"),
        Some(&reviewer),
        json!({"facts": example("news-recommender.toml")}),
    )
    .await
    .expect(403);
    app.transition(&reviewer, &a_id, "draft").await.ok();
    // Returned to draft, it is the provider's again and out of the reviewer's sight.
    app.get(&format!("/v1/systems/{a_id}"), Some(&reviewer))
        .await
        .expect(404);

    // Regulators see everything, register, but do not edit filings or manage tokens.
    assert_eq!(
        app.get("/v1/systems", Some(&regulator))
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    app.put(
        &format!("/v1/systems/{a_id}"),
        Some(&regulator),
        json!({"facts": example("news-recommender.toml")}),
    )
    .await
    .expect(403);
    app.get("/v1/tokens", Some(&regulator)).await.expect(403);
    app.post(
        "/v1/tokens",
        Some(&prov_a),
        json!({"name": "x", "role": "admin"}),
    )
    .await
    .expect(403);
    app.get("/v1/audit", Some(&prov_a)).await.expect(403);
    app.get("/v1/audit", Some(&regulator)).await.ok();

    // The anonymous public: no registry internals.
    for path in [
        "/v1/systems",
        "/v1/organisations",
        "/v1/audit",
        "/v1/tokens",
        &format!("/v1/systems/{a_id}"),
    ] {
        let e = app.get(path, None).await.expect(401);
        assert_eq!(e["error"]["code"], "unauthenticated", "{path}");
    }
    app.post(
        "/v1/organisations",
        None,
        json!({"name": "x", "kind": "provider", "country": "DE"}),
    )
    .await
    .expect(401);
    // Providers may not create organisations.
    app.post(
        "/v1/organisations",
        Some(&prov_a),
        json!({"name": "x", "kind": "provider", "country": "DE"}),
    )
    .await
    .expect(403);
}

#[tokio::test]
async fn tokens_are_hashed_revocable_and_checked() {
    let app = spawn_app().await;
    let (_org, provider, _regulator) = app.provider().await;
    let who = app.get("/v1/whoami", Some(&provider)).await.ok();
    assert_eq!(who["role"], "provider");
    let tokens = app.get("/v1/tokens", Some(&app.admin)).await.ok();
    let id = tokens
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["role"] == "provider")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !tokens.to_string().contains(&provider),
        "a secret leaked into the token list"
    );

    app.call(
        reqwest::Method::DELETE,
        &format!("/v1/tokens/{id}"),
        Some(&app.admin),
        None,
    )
    .await
    .ok();
    let e = app.get("/v1/whoami", Some(&provider)).await.expect(401);
    assert_eq!(e["error"]["code"], "unauthenticated");
    app.get("/v1/systems", Some("aigov_not-a-real-token"))
        .await
        .expect(401);
    // A malformed header is refused, not treated as anonymous.
    let resp = app
        .http
        .get(format!("{}/v1/whoami", app.base))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    // Revoking twice is a conflict; a provider token needs an organisation.
    app.call(
        reqwest::Method::DELETE,
        &format!("/v1/tokens/{id}"),
        Some(&app.admin),
        None,
    )
    .await
    .expect(409);
    let e = app
        .post(
            "/v1/tokens",
            Some(&app.admin),
            json!({"name": "p", "role": "provider"}),
        )
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "organisation");
}
