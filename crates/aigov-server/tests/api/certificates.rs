//! Certificates for registered systems: issuance, refusal, revocation, CRL, log entries.

use aigov_pki::KeyAlgorithm;
use serde_json::json;

use crate::helpers::*;

async fn registered(app: &TestApp, provider: &str, regulator: &str) -> (String, String) {
    let sys = app
        .system(provider, &example("spam-filter.toml"), None)
        .await;
    let id = sys["id"].as_str().unwrap().to_string();
    let s = app.transition(provider, &id, "submitted").await.ok();
    app.transition(regulator, &id, "registered").await.ok();
    (id, s["filing_number"].as_str().unwrap().to_string())
}

fn csr(name: &str, filing: &str) -> String {
    let key = aigov_pki::generate_key(KeyAlgorithm::EcdsaP256).unwrap();
    aigov_pki::make_csr(&key, name, filing).unwrap()
}

#[tokio::test]
async fn registered_systems_get_certificates_that_verify_and_can_be_revoked() {
    let app = spawn_app().await;
    let (_org, provider, regulator) = app.provider().await;
    let (id, filing) = registered(&app, &provider, &regulator).await;
    let path = format!("/v1/systems/{id}/certificates");

    let issued = app
        .post(
            &path,
            Some(&provider),
            json!({"csr": csr("InboxGuard", &filing)}),
        )
        .await
        .expect(201);
    let serial = issued["serial"].as_str().unwrap().to_string();
    assert_eq!(issued["filing_number"], filing.as_str());
    assert_eq!(issued["status"], "active");
    let pem = issued["certificate"].as_str().unwrap();
    let info = aigov_pki::inspect(pem).unwrap();
    assert_eq!(info.filing_number.as_deref(), Some(filing.as_str()));
    assert_eq!(info.tier.as_deref(), Some("minimal"));
    // It chains to the root the server publishes.
    let root = app
        .http
        .get(format!("{}/ca/root.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let chain = app
        .http
        .get(format!("{}/ca/chain.pem", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let issuing = chain
        .split_inclusive("-----END CERTIFICATE-----\n")
        .next()
        .unwrap();
    aigov_pki::verify(pem, issuing, &root, chrono::Utc::now()).unwrap();
    // Issuance is a log entry, and the certificate record names it.
    assert_eq!(issued["log_index"], issued["log"]["index"]);

    // Anyone can check its status; the provider revokes it; the CRL lists it.
    let status = app
        .get(&format!("/v1/certificates/{serial}"), None)
        .await
        .ok();
    assert_eq!(status["status"], "active");
    let e = app
        .post(
            &format!("/v1/certificates/{serial}/revoke"),
            Some(&provider),
            json!({"reason": "lost"}),
        )
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "reason");
    let revoked = app
        .post(
            &format!("/v1/certificates/{serial}/revoke"),
            Some(&provider),
            json!({"reason": "key_compromise"}),
        )
        .await
        .ok();
    assert_eq!(revoked["status"], "revoked");
    assert_eq!(
        app.get(&format!("/v1/certificates/{serial}"), None)
            .await
            .ok()["revocation_reason"],
        "key_compromise"
    );
    app.post(
        &format!("/v1/certificates/{serial}/revoke"),
        Some(&provider),
        json!({"reason": "key_compromise"}),
    )
    .await
    .expect(409);
    let crl = app
        .http
        .get(format!("{}/ca/crl", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(crl.headers()["content-type"], "application/pkix-crl");
    let crl = crl.bytes().await.unwrap();
    let serial_bytes = hex::decode(&serial).unwrap();
    assert!(
        crl.windows(serial_bytes.len())
            .any(|w| w == serial_bytes.as_slice()),
        "serial not in the CRL"
    );

    // Suspending the system revokes its other certificates.
    let second = app
        .post(
            &path,
            Some(&provider),
            json!({"csr": csr("InboxGuard", &filing)}),
        )
        .await
        .expect(201);
    app.transition(&regulator, &id, "suspended").await.ok();
    let s2 = app
        .get(
            &format!("/v1/certificates/{}", second["serial"].as_str().unwrap()),
            None,
        )
        .await
        .ok();
    assert_eq!(s2["status"], "revoked");
    assert_eq!(s2["revocation_reason"], "certificate_hold");
    let audit = app.get("/v1/audit?limit=500", Some(&regulator)).await.ok();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "certificate.issue")
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "certificate.revoke")
            .count(),
        2
    );
}

#[tokio::test]
async fn certificate_requests_are_refused_with_a_reason() {
    let app = spawn_app().await;
    let (_org, provider, regulator) = app.provider().await;
    // Not registered yet.
    let draft = app
        .system(&provider, &example("spam-filter.toml"), None)
        .await;
    let e = app
        .post(
            &format!("/v1/systems/{}/certificates", draft["id"].as_str().unwrap()),
            Some(&provider),
            json!({"csr": csr("x", "AIG-2026-000009-0")}),
        )
        .await
        .expect(409);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("registered systems"),
        "{e}"
    );

    let (id, filing) = registered(&app, &provider, &regulator).await;
    let path = format!("/v1/systems/{id}/certificates");
    // Another organisation's provider, and a reviewer, cannot.
    let other_org = app.org("Other Co.", "DE", None).await;
    let other = app.token("provider", Some(other_org)).await;
    app.post(&path, Some(&other), json!({"csr": csr("x", &filing)}))
        .await
        .expect(404);
    let reviewer = app.token("reviewer", None).await;
    app.post(&path, Some(&reviewer), json!({"csr": csr("x", &filing)}))
        .await
        .expect(403);
    // Garbage and over-long validity.
    let e = app.post(&path, Some(&provider), json!({"csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"})).await.expect(400);
    assert_eq!(e["error"]["field"], "csr");
    let e = app
        .post(
            &path,
            Some(&provider),
            json!({"csr": csr("x", &filing), "days": 4000}),
        )
        .await
        .expect(400);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("validity"),
        "{e}"
    );
    app.get("/v1/certificates/00ff", None).await.expect(404);
}
