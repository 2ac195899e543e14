//! The registration workflow end to end.

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn health_and_openapi() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz", None).await.ok()["status"], "ok");
    let doc = app.get("/openapi.json", None).await.ok();
    assert_eq!(doc["openapi"], "3.1.0");
    for path in [
        "/v1/systems",
        "/v1/systems/{id}/transitions",
        "/v1/public/systems",
        "/v1/classify",
    ] {
        assert!(doc["paths"][path].is_object(), "missing {path}");
    }
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = part.split('"').next().unwrap();
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    let e = app.get("/v1/nothing-here", None).await.expect(404);
    assert_eq!(e["error"]["code"], "not_found");
}

#[tokio::test]
async fn register_transition_update_and_public_search() {
    let app = spawn_app().await;
    let (_org, provider, regulator) = app.provider().await;
    let facts = example("public-chatbot.toml");

    let sys = app.system(&provider, &facts, None).await;
    let id = sys["id"].as_str().unwrap().to_string();
    assert_eq!(sys["state"], "draft");
    assert_eq!(sys["classification"]["tier"], "high");
    assert!(sys["filing_number"].is_null());

    // Not public while a draft.
    assert_eq!(
        app.get("/v1/public/systems?q=Lingxi", None).await.ok(),
        json!([])
    );

    let sub = app.transition(&provider, &id, "submitted").await.ok();
    let filing = sub["filing_number"].as_str().unwrap().to_string();
    assert!(filing.starts_with("AIG-2026-000001-"), "{filing}");

    // A provider cannot register its own system.
    let e = app
        .transition(&provider, &id, "registered")
        .await
        .expect(403);
    assert_eq!(e["error"]["code"], "forbidden");

    let reg = app.transition(&regulator, &id, "registered").await.ok();
    assert_eq!(reg["state"], "registered");

    // Anyone finds it, by name, provider, code and filing number, with public fields only.
    for q in [
        "q=lingxi%20chat",
        "provider=Lingxi",
        "provider=91110000600037341L",
        &format!("filing_number={filing}"),
    ] {
        let found = app.get(&format!("/v1/public/systems?{q}"), None).await.ok();
        assert_eq!(found.as_array().unwrap().len(), 1, "{q}: {found}");
        let s = &found[0];
        assert_eq!(s["filing_number"], filing.as_str());
        assert_eq!(s["provider"], "Lingxi Intelligence Co., Ltd.");
        assert!(s.get("facts").is_none() && s.get("id").is_none(), "{s}");
        assert!(s.get("training_compute_flop").is_none());
    }
    // LIKE wildcards in a query are literal text, not "match everything".
    for q in ["%25", "_", "%5C"] {
        let found = app
            .get(&format!("/v1/public/systems?q={q}"), None)
            .await
            .ok();
        assert_eq!(found, json!([]), "{q}");
    }
    let one = app
        .get(&format!("/v1/public/systems/{filing}"), None)
        .await
        .ok();
    assert_eq!(one["tier"], "high");

    // Updating a registered system files a change and records the obligation diff.
    let mut changed = facts.clone();
    changed.jurisdictions = Some(vec!["CN".into()]);
    changed.version = Some("3.1".into());
    let up = app
        .put(
            &format!("/v1/systems/{id}"),
            Some(&provider),
            json!({"facts": changed, "reason": "withdrawn from the EU"}),
        )
        .await
        .ok();
    assert_eq!(up["system"]["state"], "changed");
    assert_eq!(up["system"]["version"], "3.1");
    let removed: Vec<&str> = up["diff"]["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(removed.iter().any(|o| o.starts_with("eu.")), "{removed:?}");
    assert_eq!(up["diff"]["tier_before"], "high");

    // Still public (registered with a pending change), and the regulator approves it.
    assert_eq!(
        app.get(&format!("/v1/public/systems/{filing}"), None)
            .await
            .ok()["state"],
        "changed"
    );
    app.transition(&regulator, &id, "registered").await.ok();

    // History: create, submit, register, update, approve.
    let revs = app
        .get(&format!("/v1/systems/{id}/revisions"), Some(&provider))
        .await
        .ok();
    let actions: Vec<&str> = revs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["create", "transition", "transition", "update", "transition"]
    );

    // Suspension is public; cancellation is final.
    app.transition(&regulator, &id, "suspended").await.ok();
    assert_eq!(
        app.get(&format!("/v1/public/systems/{filing}"), None)
            .await
            .ok()["state"],
        "suspended"
    );
    app.transition(&regulator, &id, "cancelled").await.ok();
    let e = app
        .transition(&regulator, &id, "registered")
        .await
        .expect(409);
    assert_eq!(e["error"]["code"], "invalid_transition");
    assert_eq!(e["error"]["allowed"], json!([]));

    // The audit chain covers every step and is intact.
    let v = app.get("/v1/audit/verify", Some(&regulator)).await.ok();
    assert_eq!(v["ok"], true, "{v}");
    assert!(v["events"].as_u64().unwrap() >= 10);
}

#[tokio::test]
async fn filing_numbers_are_never_reused() {
    let app = spawn_app().await;
    let (_org, provider, _reg) = app.provider().await;
    let facts = example("news-recommender.toml");
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let id = app.system(&provider, &facts, None).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let s = app.transition(&provider, &id, "submitted").await.ok();
        numbers.push(s["filing_number"].as_str().unwrap().to_string());
        // Withdrawing and cancelling keeps the number with the system; the next one is new.
        app.transition(&provider, &id, "draft").await.ok();
        let again = app.transition(&provider, &id, "submitted").await.ok();
        assert_eq!(again["filing_number"], numbers.last().unwrap().as_str());
        app.transition(&provider, &id, "cancelled").await.ok();
    }
    numbers.dedup();
    assert_eq!(numbers.len(), 3, "{numbers:?}");
}

#[tokio::test]
async fn open_questions_block_filing_and_prohibited_systems_cannot_register() {
    let app = spawn_app().await;
    let (_org, provider, regulator) = app.provider().await;
    let mut facts = example("public-chatbot.toml");
    facts.training_compute_flop = None;
    let sys = app.system(&provider, &facts, None).await;
    assert_eq!(sys["classification"]["complete"], false);
    assert_eq!(sys["classification"]["worst_case_tier"], "high");
    let id = sys["id"].as_str().unwrap().to_string();
    let e = app
        .transition(&provider, &id, "submitted")
        .await
        .expect(409);
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("open questions") && msg.contains("training_compute_flop"),
        "{e}"
    );

    let prohibited = example("emotion-at-work.toml");
    let pid = app.system(&provider, &prohibited, None).await;
    assert_eq!(pid["classification"]["tier"], "prohibited");
    let pid = pid["id"].as_str().unwrap();
    let e = app
        .transition(&provider, pid, "submitted")
        .await
        .expect(409);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("prohibited"),
        "{e}"
    );
    // The regulator cannot register it either.
    let e = app
        .transition(&regulator, pid, "registered")
        .await
        .expect(409);
    assert_eq!(e["error"]["code"], "invalid_transition");
}

#[tokio::test]
async fn lifecycle_stages_need_the_evidence_of_their_tier() {
    let app = spawn_app().await;
    let (_org, provider, _regulator) = app.provider().await;
    let mut facts = example("public-chatbot.toml");
    facts.lifecycle_stage = Some(aigov_policy::LifecycleStage::Design);
    let sys = app.system(&provider, &facts, None).await;
    let id = sys["id"].as_str().unwrap();
    let stage = |to: &str| json!({"to": to, "reason": "next stage"});

    let e = app
        .post(
            &format!("/v1/systems/{id}/stage"),
            Some(&provider),
            stage("development"),
        )
        .await
        .expect(409);
    assert_eq!(e["error"]["code"], "missing_evidence");
    let missing: Vec<String> = serde_json::from_value(e["error"]["missing"].clone()).unwrap();
    assert!(
        missing.contains(&"risk_assessment".to_string()),
        "{missing:?}"
    );

    for kind in &missing {
        app.post(
            &format!("/v1/systems/{id}/evidence"),
            Some(&provider),
            json!({"kind": kind, "title": format!("{kind} v1"), "sha256": "a".repeat(64)}),
        )
        .await
        .expect(201);
    }
    // An uploaded document is stored under its SHA-256 and comes back byte for byte.
    let doc = b"%PDF-1.7 red-team report".to_vec();
    let resp = app
        .http
        .post(format!(
            "{}/v1/systems/{id}/evidence/upload?kind=red_team_report&title=Red%20team&stage=testing&filename=rt.pdf",
            app.base
        ))
        .bearer_auth(&provider)
        .body(doc.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let ev: serde_json::Value = resp.json().await.unwrap();
    let sha = ev["sha256"].as_str().unwrap().to_string();
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(&doc)));
    assert_eq!(ev["uri"], format!("aigov:blob/sha256/{sha}"));
    assert_eq!(ev["stage"], "testing");
    let doc_path = format!(
        "/v1/systems/{id}/evidence/{}/document",
        ev["id"].as_str().unwrap()
    );
    let resp = app
        .http
        .get(format!("{}{doc_path}", app.base))
        .bearer_auth(&provider)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-content-sha256"], sha.as_str());
    assert_eq!(resp.bytes().await.unwrap().to_vec(), doc);
    // Another organisation's provider cannot fetch it; an empty upload is refused.
    let other_org = app.org("Other Co.", "DE", None).await;
    let other = app.token("provider", Some(other_org)).await;
    app.get(&doc_path, Some(&other)).await.expect(404);
    let resp = app
        .http
        .post(format!(
            "{}/v1/systems/{id}/evidence/upload?kind=x&title=y",
            app.base
        ))
        .bearer_auth(&provider)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // A PII scan summary is accepted as dataset evidence; anything else under that kind is not.
    let upload = |body: Vec<u8>| {
        app.http
            .post(format!(
                "{}/v1/systems/{id}/evidence/upload?kind=pii_scan&title=Training%20data%20scan&filename=summary.json",
                app.base
            ))
            .bearer_auth(&provider)
            .body(body)
            .send()
    };
    let mut summary = aigov_pii::report::Summary::new("aigov test", 0.4);
    summary.add_file("train.jsonl", 1000, 10, None);
    let resp = upload(serde_json::to_vec(&summary).unwrap()).await.unwrap();
    assert_eq!(resp.status(), 201);
    let resp = upload(b"{\"format\": \"something else\"}".to_vec())
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("aigov pii scan"),
        "{body}"
    );

    let listed = app
        .get(&format!("/v1/systems/{id}/evidence"), Some(&provider))
        .await
        .ok();
    assert_eq!(listed["missing"], json!([]));
    let moved = app
        .post(
            &format!("/v1/systems/{id}/stage"),
            Some(&provider),
            stage("development"),
        )
        .await
        .ok();
    assert_eq!(moved["stage"], "development");
    // Jumping ahead needs the evidence of every stage passed.
    let e = app
        .post(
            &format!("/v1/systems/{id}/stage"),
            Some(&provider),
            stage("operation"),
        )
        .await
        .expect(409);
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("stage development"),
        "{e}"
    );
    // An update cannot move the stage behind the evidence check's back.
    let mut sneaky = facts.clone();
    sneaky.lifecycle_stage = Some(aigov_policy::LifecycleStage::Operation);
    let e = app
        .put(
            &format!("/v1/systems/{id}"),
            Some(&provider),
            json!({"facts": sneaky}),
        )
        .await
        .expect(400);
    assert_eq!(e["error"]["field"], "facts.lifecycle_stage");
    // Going back to rework does not.
    app.post(
        &format!("/v1/systems/{id}/stage"),
        Some(&provider),
        stage("design"),
    )
    .await
    .ok();
}

#[tokio::test]
async fn classify_is_public_and_dated() {
    let app = spawn_app().await;
    let facts = example("cv-screening.toml");
    let now = app
        .post("/v1/classify", None, serde_json::to_value(&facts).unwrap())
        .await
        .ok();
    let later = app
        .post(
            "/v1/classify?as_of=2028-01-01",
            None,
            serde_json::to_value(&facts).unwrap(),
        )
        .await
        .ok();
    assert_eq!(now["as_of"], "2026-11-28");
    assert_eq!(later["tier"], "high");
    assert!(
        now["upcoming"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["rule"].as_str().unwrap().starts_with("eu."))
    );
    let toml = std::fs::read_to_string(examples().join("spam-filter.toml")).unwrap();
    let resp = app
        .http
        .post(format!("{}/v1/classify/toml", app.base))
        .header("content-type", "application/toml")
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let packs = app.get("/v1/rules", None).await.ok();
    assert_eq!(packs.as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn the_server_clock_dates_every_classification() {
    let app = spawn_app().await;
    let (_org, provider, _regulator) = app.provider().await;
    let facts = example("cv-screening.toml");
    let before = app.system(&provider, &facts, None).await;
    *app.now.lock().unwrap() =
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2028, 1, 1, 0, 0, 0).unwrap();
    let after = app.system(&provider, &facts, None).await;
    assert_eq!(before["classification"]["as_of"], "2026-11-28");
    assert_eq!(after["classification"]["as_of"], "2028-01-01");
    assert_eq!(after["classification"]["tier"], "high");
    assert_eq!(after["created_at"], "2028-01-01T00:00:00Z");
}

#[tokio::test]
async fn every_recorded_event_comes_with_a_verifiable_log_receipt() {
    use aigov_tlog::checkpoint::Checkpoint;
    use aigov_tlog::note::Verifier;
    let app = spawn_app().await;
    let (_org, provider, _regulator) = app.provider().await;
    let sys = app
        .system(&provider, &example("spam-filter.toml"), None)
        .await;
    let log = &sys["log"];
    let index = log["index"].as_u64().unwrap();
    let size = log["size"].as_u64().unwrap();
    assert_eq!(size, index + 1);

    // The checkpoint is signed by the log key the server publishes, and names the receipt's root.
    let key = app
        .http
        .get(format!("{}/log/key", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = Verifier::parse(&key).unwrap();
    let cp = Checkpoint::open(log["checkpoint"].as_str().unwrap(), &key).unwrap();
    assert_eq!(
        (cp.size, cp.root.to_hex()),
        (size, log["root"].as_str().unwrap().to_string())
    );
    let latest = app
        .http
        .get(format!("{}/log/checkpoint", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(latest.headers()["cache-control"], "no-cache");
    assert_eq!(
        latest.text().await.unwrap(),
        log["checkpoint"].as_str().unwrap()
    );

    // The entry, fetched from the entry bundle, is included under that root by the proof.
    let bundle = app
        .http
        .get(format!("{}/log/tile/entries/000.p/{size}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
    assert_eq!(bundle.headers()["cache-control"], "public, max-age=60");
    let entries = aigov_tlog::tile::unbundle(&bundle.bytes().await.unwrap()).unwrap();
    let entry: serde_json::Value = serde_json::from_slice(&entries[index as usize]).unwrap();
    assert_eq!(entry["action"], "system.create");
    assert_eq!(entry["seq"], index + 1);
    let proof: Vec<Vec<u8>> = log["inclusion_proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = aigov_tlog::leaf_hash(&entries[index as usize]);
    aigov_tlog::rfc9162::verify_inclusion(index, size, &leaf.0, &proof, &cp.root.0).unwrap();

    // Level-0 tile hashes are the entries' leaf hashes; tiles beyond the log are 404, bad paths 400.
    let tile = app
        .http
        .get(format!("{}/log/tile/0/000.p/{size}", app.base))
        .send()
        .await
        .unwrap();
    let hashes = aigov_tlog::tile::tile_hashes(&tile.bytes().await.unwrap()).unwrap();
    assert_eq!(hashes[index as usize], leaf);
    let resp = app
        .http
        .get(format!("{}/log/tile/0/000", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let resp = app
        .http
        .get(format!("{}/log/tile/0/5", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // An index whose tile would end past u64::MAX is refused cleanly, not by overflowing.
    let huge = "tile/0/x072/x057/x594/x037/x927/935";
    let resp = app
        .http
        .get(format!("{}/log/{huge}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);

    // Transitions are logged too, each in its own entry.
    let id = sys["id"].as_str().unwrap();
    let next = app.transition(&provider, id, "submitted").await.ok();
    assert_eq!(next["log"]["index"], index + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writes_each_get_their_own_verifiable_receipt() {
    let app = std::sync::Arc::new(spawn_app().await);
    let (_org, provider, _regulator) = app.provider().await;
    let facts = example("spam-filter.toml");
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (app, provider, facts) = (app.clone(), provider.clone(), facts.clone());
        handles.push(tokio::spawn(async move {
            app.system(&provider, &facts, None).await
        }));
    }
    let mut receipts = Vec::new();
    for h in handles {
        receipts.push(h.await.unwrap()["log"].clone());
    }
    let mut indices: Vec<u64> = receipts
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    indices.sort();
    indices.dedup();
    assert_eq!(
        indices.len(),
        16,
        "two writes share a log index: {indices:?}"
    );

    // Every receipt's proof includes the entry stored at its index under the receipt's root.
    let key = app
        .http
        .get(format!("{}/log/key", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let key = aigov_tlog::note::Verifier::parse(&key).unwrap();
    let cp = app
        .http
        .get(format!("{}/log/checkpoint", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cp = aigov_tlog::checkpoint::Checkpoint::open(&cp, &key).unwrap();
    let bundle = app
        .http
        .get(format!("{}/log/tile/entries/000.p/{}", app.base, cp.size))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let entries = aigov_tlog::tile::unbundle(&bundle).unwrap();
    let leaves: Vec<_> = entries.iter().map(|e| aigov_tlog::leaf_hash(e)).collect();
    assert_eq!(aigov_tlog::rfc9162::root(&leaves), cp.root);
    for r in &receipts {
        let (index, size) = (r["index"].as_u64().unwrap(), r["size"].as_u64().unwrap());
        let signed =
            aigov_tlog::checkpoint::Checkpoint::open(r["checkpoint"].as_str().unwrap(), &key)
                .unwrap();
        assert_eq!(signed.size, size);
        let proof: Vec<Vec<u8>> = r["inclusion_proof"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| hex::decode(h.as_str().unwrap()).unwrap())
            .collect();
        aigov_tlog::rfc9162::verify_inclusion(
            index,
            size,
            &leaves[index as usize].0,
            &proof,
            &signed.root.0,
        )
        .unwrap_or_else(|e| panic!("receipt of entry {index}: {e}"));
    }
}
