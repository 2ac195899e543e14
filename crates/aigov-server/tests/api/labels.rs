//! `POST /v1/labels/verify`: uploads verified against the registry's own CA, CRL and
//! certificate records, over a real socket.

use std::io::Cursor;

use aigov_label::LabelKind;
use aigov_label::content::{Production, produce};
use aigov_label::format::Limits;
use aigov_label::sign::Signer;
use aigov_pki::KeyAlgorithm;
use aigov_testkit::png;
use serde_json::{Value, json};

use crate::helpers::*;

async fn upload(app: &TestApp, bytes: Vec<u8>, query: &str) -> Resp {
    let resp = app
        .http
        .post(format!("{}/v1/labels/verify{query}", app.base))
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let text = resp.text().await.unwrap();
    Resp {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

fn check<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["report"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name}: {v:#}"))
}

#[tokio::test]
async fn uploads_are_verified_against_the_registry() {
    let app = spawn_app().await;
    let (_org, provider, regulator) = app.provider().await;
    let sys = app
        .system(&provider, &example("spam-filter.toml"), None)
        .await;
    let id = sys["id"].as_str().unwrap().to_string();
    let s = app.transition(&provider, &id, "submitted").await.ok();
    app.transition(&regulator, &id, "registered").await.ok();
    let filing = s["filing_number"].as_str().unwrap();
    let key = aigov_pki::generate_key(KeyAlgorithm::EcdsaP256).unwrap();
    let csr = aigov_pki::make_csr(&key, "InboxGuard", filing).unwrap();
    let issued = app
        .post(
            &format!("/v1/systems/{id}/certificates"),
            Some(&provider),
            json!({"csr": csr}),
        )
        .await
        .expect(201);
    let cert = issued["certificate"].as_str().unwrap();
    let serial = issued["serial"].as_str().unwrap();
    let signer = Signer::from_pem(&key, Some(cert)).unwrap();
    let mut labelled = Vec::new();
    let production = Production {
        kind: LabelKind::AiGenerated,
        producer: "0011911000000000000000000X00001".into(),
        produce_id: "out-1".into(),
    };
    produce(
        &mut Cursor::new(png(20, 10, 3)),
        &mut labelled,
        &production,
        Some(&signer),
        &Limits::default(),
    )
    .unwrap();

    let v = upload(&app, labelled.clone(), "?name=out-1.png").await.ok();
    assert_eq!(v["verified"], true, "{v:#}");
    assert_eq!(v["file"], "out-1.png");
    assert_eq!(v["report"]["outcome"], "labelled");
    assert_eq!(v["report"]["producer"]["system_name"], "InboxGuard");
    assert_eq!(v["report"]["producer"]["registry"]["system"], id.as_str());
    assert_eq!(v["report"]["producer"]["registry"]["status"], "active");
    assert_eq!(check(&v, "producer.registry")["status"], "pass");
    assert_eq!(check(&v, "producer.revocation")["status"], "pass");

    // Tampered content.
    let mut tampered = labelled.clone();
    let other = png(20, 10, 4);
    let idat = |b: &[u8]| b.windows(4).position(|w| w == b"IDAT").unwrap();
    let (a, o) = (idat(&tampered), idat(&other));
    let len = u32::from_be_bytes(other[o - 4..o].try_into().unwrap()) as usize;
    let old_len = u32::from_be_bytes(tampered[a - 4..a].try_into().unwrap()) as usize;
    tampered.splice(
        a - 4..a + 4 + old_len + 4,
        other[o - 4..o + 4 + len + 4].iter().copied(),
    );
    let v = upload(&app, tampered, "").await.ok();
    assert_eq!(v["verified"], false);
    assert_eq!(check(&v, "producer.content_digest")["status"], "fail");

    // Revoked at the registry: both the CRL and the certificate record say so.
    app.post(
        &format!("/v1/certificates/{serial}/revoke"),
        Some(&provider),
        json!({"reason": "key_compromise"}),
    )
    .await
    .ok();
    let v = upload(&app, labelled.clone(), "").await.ok();
    assert_eq!(v["verified"], false);
    assert_eq!(check(&v, "producer.revocation")["status"], "fail");
    assert_eq!(check(&v, "producer.registry")["status"], "fail");
    assert_eq!(v["report"]["producer"]["registry"]["status"], "revoked");

    // An unlabelled upload declared as AI.
    let v = upload(&app, png(4, 4, 1), "?declared_ai=true").await.ok();
    assert_eq!(v["report"]["outcome"], "possibly_ai");
    assert_eq!(v["verified"], false);
}

#[tokio::test]
async fn bad_uploads_get_clear_errors() {
    let app = spawn_with(aigov_server::ServerConfig {
        max_label_upload: 4096,
        ..aigov_server::ServerConfig::default()
    })
    .await;
    let e = upload(&app, Vec::new(), "").await.expect(400);
    assert_eq!(e["error"]["code"], "invalid_request");
    let e = upload(&app, vec![0u8, 1, 2, 3, 0xff], "").await.expect(422);
    assert_eq!(e["error"]["code"], "unreadable_content");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unsupported"),
        "{e}"
    );
    let mut cut = png(20, 10, 3);
    cut.truncate(40);
    let e = upload(&app, cut, "").await.expect(422);
    assert!(
        e["error"]["message"].as_str().unwrap().contains("png"),
        "{e}"
    );
    let e = upload(&app, vec![b'a'; 10_000], "").await.expect(413);
    assert_eq!(e["error"]["code"], "payload_too_large");
    let e = upload(&app, png(4, 4, 1), "?bogus=1").await.expect(400);
    assert_eq!(e["error"]["code"], "invalid_request");
}
