//! The `aigov` binary, run as a user would: offline commands, exit codes, and `serve --demo`
//! driven by the CLI client over a real socket.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aigov"));
    c.env_remove("AIGOV_TOKEN")
        .env_remove("AIGOV_SERVER")
        .env_remove("AIGOV_DATA_DIR");
    c
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn classify_prints_tier_obligations_and_questions() {
    let file = root().join("examples/systems/public-chatbot.toml");
    let o = run(&["classify", file.to_str().unwrap(), "--as-of", "2026-11-28"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("Tier:          high (complete)"), "{out}");
    assert!(out.contains("Registration:  MANDATORY"), "{out}");
    assert!(out.contains("Obligations ("), "{out}");

    let o = run(&["classify", file.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["tier"], "high");
    assert!(
        v["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| !o["source"].as_str().unwrap().is_empty())
    );

    // Missing facts are asked for, never assumed harmless.
    let dir = tempfile::tempdir().unwrap();
    let partial = dir.path().join("partial.toml");
    std::fs::write(
        &partial,
        "name = \"Mystery bot\"\njurisdictions = [\"EU\"]\n",
    )
    .unwrap();
    let o = run(&[
        "classify",
        partial.to_str().unwrap(),
        "--as-of",
        "2026-11-28",
    ]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("PROVISIONAL: could be up to prohibited"),
        "{out}"
    );
    assert!(
        out.contains("practices: Does the system perform any practice"),
        "{out}"
    );
}

#[test]
fn classify_as_of_a_date_and_with_parameters() {
    let file = root().join("examples/systems/cv-screening.toml");
    let f = file.to_str().unwrap();
    let tier = |args: &[&str]| {
        let mut all = vec!["classify", f, "--json"];
        all.extend_from_slice(args);
        let o = run(&all);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["tier"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(tier(&["--as-of", "2028-01-01"]), "high");
    assert_eq!(tier(&["--as-of", "2024-01-01"]), "minimal");

    // The registration threshold is configurable: lower it below the model's compute.
    let spam = root().join("examples/systems/spam-filter.toml");
    let reg = |params: &[&str]| {
        let mut all = vec!["classify", spam.to_str().unwrap(), "--json"];
        all.extend_from_slice(params);
        let o = run(&all);
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["registration"]["mandatory"]
            .as_bool()
            .unwrap()
    };
    assert!(!reg(&[]));
    assert!(reg(&[
        "--param",
        "registration-threshold.compute_threshold_flop=1e10",
        "--param",
        "registration-threshold.applies_in=['EU']"
    ]));
    let o = run(&[
        "classify",
        spam.to_str().unwrap(),
        "--param",
        "registration-threshold.nothing=1",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("has no parameter 'nothing'"));
    // A value of the wrong kind is refused, not silently turned into "unknown".
    for bad in [
        "registration-threshold.compute_threshold_flop='lots'",
        "registration-threshold.sectors=['underwater_basket_weaving']",
    ] {
        let o = run(&["classify", spam.to_str().unwrap(), "--param", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", text(&o));
        assert!(text(&o).contains("does not fit"), "{bad}: {}", text(&o));
    }
}

#[test]
fn a_closed_pipe_is_not_a_crash() {
    let file = root().join("examples/systems/public-chatbot.toml");
    let mut child = bin()
        .args(["classify", file.to_str().unwrap(), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the child writes (it first loads and evaluates the packs),
    // so its first write fails with a broken pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn bad_fact_files_name_the_place_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"x\"\nfunctions = [\"generation_synthesis\", \"telepathy\"]\n",
    )
    .unwrap();
    let o = run(&["classify", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let out = text(&o);
    assert!(out.contains("line 2") && out.contains("telepathy"), "{out}");

    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"name": "x", "provider": {"code": 7}}"#).unwrap();
    let o = run(&["classify", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("provider.code"), "{}", text(&o));

    let o = run(&["classify", "/nonexistent/system.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("failed to read /nonexistent/system.toml"));
}

#[test]
fn rules_check_lints_packs() {
    let o = run(&["rules", "check", root().join("rules").to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("0 error(s)"));
    // The example convention of docs/rule-packs.md stays valid.
    let o = run(&[
        "rules",
        "check",
        root().join("examples/rules").to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("0 error(s), 0 warning(s)"),
        "{}",
        text(&o)
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("acme.toml"),
        r#"[pack]
id = "acme"
version = "1"
title = "ACME self-regulation convention"
jurisdiction = "CN"

[[obligations]]
id = "acme.review"
title = "Ethics review before launch"
source = "ACME convention art. 3"

[[rules]]
id = "acme.generation"
title = "Generative services need an ethics review"
source = "ACME convention art. 2"
tier = "significant"
when = "functions has 'generation_synthesis' and users > 1000"
applies_from = "2026-01-01"
obligations = ["acme.review"]

[[rules]]
id = "eu.art5.a"
title = "clashes with a shipped rule id"
source = "ACME convention art. 9"
tier = "limited"
when = "public_facing"
applies_from = "2026-01-01"
"#,
    )
    .unwrap();
    let o = run(&["rules", "check", dir.path().to_str().unwrap(), "--json"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msgs: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("rule id 'eu.art5.a' is also used in pack 'eu-ai-act'")),
        "{msgs:?}"
    );

    // Fixed, the pack loads without recompiling and takes part in classification.
    let fixed = std::fs::read_to_string(dir.path().join("acme.toml"))
        .unwrap()
        .replace("eu.art5.a", "acme.public");
    std::fs::write(dir.path().join("acme.toml"), fixed).unwrap();
    let o = run(&["rules", "check", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let file = root().join("examples/systems/public-chatbot.toml");
    let o = run(&[
        "classify",
        file.to_str().unwrap(),
        "--json",
        "--rules",
        dir.path().to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(
        v["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == "acme.review"),
        "{v}"
    );
}

struct Server {
    child: Child,
    url: String,
    token: String,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Runs a client command against this server with the admin token.
    fn cli(&self, args: &[&str]) -> Output {
        bin()
            .args(args)
            .args(["--server", &self.url, "--token", &self.token])
            .output()
            .unwrap()
    }

    /// The id of a demo system, by name.
    fn system_id(&self, name: &str) -> String {
        let o = self.cli(&["system", "list", "--json"]);
        let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve_demo() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut child = bin()
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut token) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("aigov registry serving on ") {
            url = rest.trim().to_string();
        }
        if let Some((_, t)) = line.split_once("admin token (valid until the next start): ") {
            token = t.trim().to_string();
        }
        if line.contains("demo data seeded") {
            break;
        }
    }
    assert!(
        !url.is_empty() && !token.is_empty(),
        "server did not announce itself"
    );
    Server {
        child,
        url,
        token,
        _dir: dir,
    }
}

#[test]
fn serve_demo_and_drive_it_with_the_cli() {
    let s = serve_demo();
    let remote = |args: &[&str], token: Option<&str>| {
        let mut c = bin();
        c.args(args).arg("--server").arg(&s.url);
        if let Some(t) = token {
            c.arg("--token").arg(t);
        }
        c.output().unwrap()
    };

    // The public finds the registered demo systems without a token.
    let o = remote(&["search", "--json"], None);
    assert!(o.status.success(), "{}", text(&o));
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let names: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"Lingxi Chat") && names.contains(&"InboxGuard"),
        "{names:?}"
    );
    assert!(
        !names.contains(&"MoodMetrics"),
        "a draft is public: {names:?}"
    );
    let tiers: Vec<&str> = found
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["tier"].as_str().unwrap())
        .collect();
    assert!(
        tiers.contains(&"high") && tiers.contains(&"minimal"),
        "{tiers:?}"
    );

    // The admin sees all seven, including the prohibited draft: the demo exercises every tier.
    let o = remote(&["system", "list", "--json"], Some(&s.token));
    let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), 7, "{all}");
    let mut tiers: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["classification"]["tier"].as_str().unwrap())
        .collect();
    tiers.sort();
    tiers.dedup();
    assert_eq!(
        tiers,
        ["high", "limited", "minimal", "prohibited", "significant"]
    );
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .any(|s| s["classification"]["tier"] == "prohibited")
    );

    // Register, submit and move a new system through the CLI; a bad transition exits 4.
    let orgs = remote(&["org", "list", "--json"], Some(&s.token));
    let orgs: serde_json::Value = serde_json::from_slice(&orgs.stdout).unwrap();
    let org = orgs[0]["id"].as_str().unwrap().to_string();
    let file = root().join("examples/systems/spam-filter.toml");
    let o = remote(
        &[
            "system",
            "register",
            file.to_str().unwrap(),
            "--org",
            &org,
            "--submit",
            "--json",
        ],
        Some(&s.token),
    );
    assert!(o.status.success(), "{}", text(&o));
    let sys: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(sys["state"], "submitted");
    let id = sys["id"].as_str().unwrap();
    let o = remote(
        &[
            "system",
            "transition",
            id,
            "--to",
            "changed",
            "--reason",
            "x",
        ],
        Some(&s.token),
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("allowed: draft, registered, cancelled"),
        "{}",
        text(&o)
    );
    let o = remote(
        &[
            "system",
            "transition",
            id,
            "--to",
            "registered",
            "--reason",
            "approved",
        ],
        Some(&s.token),
    );
    assert!(o.status.success(), "{}", text(&o));
    let doc = s._dir.path().join("report.txt");
    std::fs::write(&doc, "model card v1").unwrap();
    let o = remote(
        &[
            "system",
            "evidence",
            id,
            "--kind",
            "model_card",
            "--title",
            "Model card",
            "--file",
            doc.to_str().unwrap(),
            "--upload",
            "--json",
        ],
        Some(&s.token),
    );
    assert!(o.status.success(), "{}", text(&o));
    let ev: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    use sha2::Digest;
    assert_eq!(
        ev["sha256"],
        hex::encode(sha2::Sha256::digest(b"model card v1"))
    );
    let o = remote(&["system", "history", id], Some(&s.token));
    assert!(text(&o).contains("#3"), "{}", text(&o));

    // No token: refused with exit 4; a dead server: exit 1.
    let o = remote(&["system", "list"], None);
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    let o = bin()
        .args(["search", "--server", "http://127.0.0.1:9"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    let o = remote(&["audit", "verify"], Some(&s.token));
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("audit chain intact"));
}

#[test]
fn log_verify_proves_growth_and_catches_tampering() {
    let s = serve_demo();
    let state = s._dir.path().join("log-state.json");
    let verify = |extra: &[&str]| {
        let mut c = bin();
        c.args(["log", "verify", "--json", "--server", &s.url, "--state"])
            .arg(&state)
            .args(extra);
        let o = c.output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
        (o.status.code(), v, text(&o))
    };
    let (code, v, out) = verify(&["--all", "--entry", "0", "--entry", "3"]);
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(v["ok"], true, "{v}");
    assert!(state.exists());

    // A new event: the receipt's proof verifies, and the log provably only grew.
    let orgs = bin()
        .args([
            "org", "list", "--json", "--server", &s.url, "--token", &s.token,
        ])
        .output()
        .unwrap();
    let orgs: serde_json::Value = serde_json::from_slice(&orgs.stdout).unwrap();
    let file = root().join("examples/systems/spam-filter.toml");
    let o = bin()
        .args([
            "system",
            "register",
            file.to_str().unwrap(),
            "--json",
            "--server",
            &s.url,
            "--token",
            &s.token,
            "--org",
        ])
        .arg(orgs[0]["id"].as_str().unwrap())
        .output()
        .unwrap();
    let rec: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let index = rec["log"]["index"].as_u64().unwrap();
    let size = rec["log"]["size"].as_u64().unwrap();
    assert_eq!(size, index + 1);
    let (code, v, out) = verify(&["--entry", &index.to_string()]);
    assert_eq!(code, Some(0), "{out}");
    let checks: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert!(
        checks.contains(&"consistency with the saved checkpoint"),
        "{checks:?}"
    );

    // The same checks work offline on a downloaded copy of the log's files.
    let mirror = s._dir.path().join("mirror");
    let fetch = |path: &str| {
        let o = Command::new("curl")
            .args(["-sf", &format!("{}/log/{path}", s.url)])
            .output()
            .unwrap();
        assert!(o.status.success(), "curl {path}");
        let file = mirror.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, o.stdout).unwrap();
    };
    fetch("checkpoint");
    fetch("key");
    let cp = std::fs::read_to_string(mirror.join("checkpoint")).unwrap();
    let n: u64 = cp.lines().nth(1).unwrap().parse().unwrap();
    fetch(&format!("tile/0/000.p/{n}"));
    fetch(&format!("tile/entries/000.p/{n}"));
    let offline = |extra: &[&str]| {
        let o = bin()
            .args(["log", "verify", "--tiles"])
            .arg(&mirror)
            .args(extra)
            .output()
            .unwrap();
        (o.status.code(), text(&o))
    };
    let (code, out) = offline(&["--all", "--entry", "1"]);
    assert_eq!(code, Some(0), "{out}");
    // A forged entry in the copy is caught.
    let bundle_path = mirror.join(format!("tile/entries/000.p/{n}"));
    let mut bytes = std::fs::read(&bundle_path).unwrap();
    let at = bytes.windows(10).position(|w| w == b"local:demo").unwrap();
    bytes[at..at + 10].copy_from_slice(b"local:evil");
    std::fs::write(&bundle_path, bytes).unwrap();
    let (code, out) = offline(&["--all"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("does not match the log's hash"), "{out}");

    // Someone edits a stored entry in the database: the auditor notices.
    let db = s._dir.path().join("data/aigov.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = aigov_store::SqliteStore::open(&db).await.unwrap();
        let err = store.execute_raw("UPDATE log_entries SET entry = X'00' WHERE idx = 3").await.unwrap_err();
        assert!(err.to_string().contains("append-only"), "{err}");
        store
            .execute_raw(
                "DROP TRIGGER log_entries_append_only_u; \
                 UPDATE log_entries SET entry = CAST(replace(CAST(entry AS TEXT), 'local:demo', 'local:evil') AS BLOB) WHERE idx = 3",
            )
            .await
            .unwrap();
        store.close().await;
    });
    let (code, v, out) = verify(&["--all", "--entry", "3"]);
    assert_eq!(code, Some(1), "{out}");
    let failed: Vec<String> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            format!(
                "{}: {}",
                c["check"].as_str().unwrap(),
                c["detail"].as_str().unwrap()
            )
        })
        .collect();
    assert!(
        failed.iter().any(|f| f.starts_with("inclusion of entry 3")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|f| f.contains("entry 3 does not match")),
        "{failed:?}"
    );

    // A checkpoint checked against another key is refused.
    let other = aigov_tlog::note::NoteSigner::from_seed("aigov-00000000", &[3; 32]).unwrap();
    let o = bin()
        .args([
            "log",
            "verify",
            "--server",
            &s.url,
            "--log-key",
            &other.verifier().encode(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("FAIL checkpoint signature"),
        "{}",
        text(&o)
    );
}

#[test]
fn cert_request_and_verify_against_the_registry() {
    let s = serve_demo();
    let run_cli = |args: &[&str]| s.cli(args);
    let id = |name: &str| s.system_id(name);
    let chatbot = id("Lingxi Chat");
    let out = s._dir.path().join("lingxi");
    let o = run_cli(&[
        "cert",
        "request",
        "--system",
        &chatbot,
        "--out",
        out.to_str().unwrap(),
        "--alg",
        "ed25519",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s._dir.path().join("lingxi.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let cert = s._dir.path().join("lingxi.pem");
    let o = run_cli(&["cert", "verify", cert.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["checks"].as_array().unwrap().len(), 4, "{v}");

    // A draft cannot get one; a suspended system's certificate no longer verifies.
    let draft = id("MoodMetrics");
    let o = run_cli(&[
        "cert",
        "request",
        "--system",
        &draft,
        "--out",
        s._dir.path().join("mood").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run_cli(&[
        "system",
        "transition",
        &chatbot,
        "--to",
        "suspended",
        "--reason",
        "inspection",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run_cli(&["cert", "verify", cert.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("FAIL revocation status: revoked"),
        "{}",
        text(&o)
    );
    // Verified against another registry's root, the chain fails.
    let other = aigov_pki::create_ca(
        "Elsewhere",
        aigov_pki::KeyAlgorithm::EcdsaP256,
        chrono::Utc::now(),
    )
    .unwrap();
    let other_root = s._dir.path().join("other-root.pem");
    std::fs::write(&other_root, other.root_cert).unwrap();
    let o = run_cli(&[
        "cert",
        "verify",
        cert.to_str().unwrap(),
        "--root",
        other_root.to_str().unwrap(),
    ]);
    assert!(
        text(&o).contains("FAIL chain to the registry root"),
        "{}",
        text(&o)
    );
}

fn run_in(dir: &std::path::Path, args: &[&str]) -> Output {
    bin().current_dir(dir).args(args).output().unwrap()
}

#[test]
fn pii_scan_gates_a_pipeline_with_exit_codes_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("clean.jsonl"), "{\"text\":\"nothing to see\"}\n").unwrap();
    std::fs::write(
        d.join("data.jsonl"),
        "{\"text\":\"手机13812345678\"}\n{\"text\":\"身份证11010519491231002X\"}\n",
    )
    .unwrap();
    // Clean input: exit 0 even with --fail-on.
    let o = run_in(d, &["pii", "scan", "clean.jsonl", "--fail-on", "0.5", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Findings at or above --fail-on: exit 1; findings JSONL without values unless asked.
    let o = run_in(
        d,
        &[
            "pii",
            "scan",
            "data.jsonl",
            "--fail-on",
            "0.9",
            "--findings",
            "f.jsonl",
            "--summary",
            "s.json",
            "--sarif",
            "r.sarif",
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let findings = std::fs::read_to_string(d.join("f.jsonl")).unwrap();
    assert_eq!(findings.lines().count(), 2);
    assert!(!findings.contains("13812345678"), "{findings}");
    let first: serde_json::Value = serde_json::from_str(findings.lines().next().unwrap()).unwrap();
    assert_eq!(first["entity_type"], "CN_MOBILE");
    assert_eq!(first["record"], 1);
    assert_eq!(first["field"], "$.text");
    assert_eq!(
        (first["start"].as_u64(), first["end"].as_u64()),
        (Some(6), Some(17))
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("s.json")).unwrap()).unwrap();
    assert_eq!(summary["format"], "aigov-pii-scan-summary/v1");
    assert_eq!(summary["by_entity"]["CN_RESIDENT_ID"]["count"], 1);
    assert_eq!(
        summary["by_entity"]["CN_MOBILE"]["samples"][0],
        "13*******78"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("r.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 2);
    // A mobile number alone scores 0.6: below --fail-on 0.9 it does not fail the gate.
    std::fs::write(d.join("m.jsonl"), "{\"text\":\"13812345678\"}\n").unwrap();
    let o = run_in(d, &["pii", "scan", "m.jsonl", "--fail-on", "0.9", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // --show-values puts them in; stdin works; --json prints the summary.
    let mut child = bin()
        .current_dir(d)
        .args([
            "pii",
            "scan",
            "-",
            "--format",
            "text",
            "--findings",
            "-",
            "--show-values",
            "-q",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"mail zhang@163.com\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("\"value\":\"zhang@163.com\""));
    // Malformed records: reported with their line, exit 2.
    std::fs::write(d.join("bad.jsonl"), "{\"text\":\"ok\"}\n{oops\n").unwrap();
    let o = run_in(d, &["pii", "scan", "bad.jsonl", "--json", "-q"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let s: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(s["error_list"][0]["record"], 2);
    // Usage errors: exit 2 with the reason.
    let o = run_in(d, &["pii", "scan", "data.jsonl", "--entities", "PERSON"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("unknown type \"PERSON\""), "{}", text(&o));
    let o = run_in(d, &["pii", "scan", "nope.jsonl"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn pii_redact_and_restore_round_trip_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let original = "id,phone,note\n1,13812345678,\"mail a.b@example.com, thanks\"\n2,none,\"card 4111 1111 1111 1111\"\n";
    std::fs::create_dir_all(d.join("in/sub")).unwrap();
    std::fs::write(d.join("in/sub/t.csv"), original).unwrap();
    std::fs::write(d.join("in/a.txt"), "call 13912345678\n").unwrap();
    let o = run_in(d, &["pii", "keygen", "k.key"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // A key file is never overwritten.
    assert_eq!(
        run_in(d, &["pii", "keygen", "k.key"]).status.code(),
        Some(1)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(d.join("k.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // A folder is mirrored under the output folder; per-type operators.
    let o = run_in(
        d,
        &[
            "pii",
            "redact",
            "in",
            "-o",
            "out",
            "--operator",
            "encrypt",
            "--operator-for",
            "CN_MOBILE=mask:4",
            "--key-file",
            "k.key",
            "-q",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let red = std::fs::read_to_string(d.join("out/sub/t.csv")).unwrap();
    assert!(
        red.starts_with("id,phone,note\n1,*******5678,\"mail <ENC:EMAIL_ADDRESS:"),
        "{red}"
    );
    assert_eq!(
        std::fs::read_to_string(d.join("out/a.txt")).unwrap(),
        "call *******5678\n"
    );
    // Restore gives the encrypted values back (masked ones stay masked).
    let o = run_in(
        d,
        &[
            "pii",
            "restore",
            "out/sub/t.csv",
            "-o",
            "back.csv",
            "--key-file",
            "k.key",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let back = std::fs::read_to_string(d.join("back.csv")).unwrap();
    assert_eq!(back, original.replace("13812345678", "*******5678"));
    // Never in place, and hmac/encrypt need a key.
    let o = run_in(d, &["pii", "redact", "in/a.txt", "-o", "in/a.txt"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("overwrite the input"), "{}", text(&o));
    let o = run_in(
        d,
        &[
            "pii",
            "redact",
            "in/a.txt",
            "-o",
            "x.txt",
            "--operator",
            "hmac",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("needs a key file"), "{}", text(&o));
    let o = run_in(d, &["pii", "redact", "in/a.txt"]);
    assert_eq!(o.status.code(), Some(2));
}

fn small_model(dir: &Path) {
    for (name, data) in [
        ("config.json", &b"{\"hidden_size\": 8}"[..]),
        (
            "weights/model.safetensors",
            &b"\x13\x00\x00\x00\x00\x00\x00\x00{\"__metadata__\":{}}"[..],
        ),
        ("tokenizer.json", &b"{}"[..]),
    ] {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, data).unwrap();
    }
}

#[test]
fn model_sign_verify_and_scan_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = d.join("my-model");
    small_model(&model);
    let o = run_in(d, &["model", "keygen", "k"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run_in(
        d,
        &[
            "model", "sign", "my-model", "--key", "k.key", "--json", "--quiet",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let signed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(model.join("model.sig").exists());
    let o = run_in(
        d,
        &[
            "model",
            "digest",
            "my-model",
            "--json",
            "--quiet",
            "--ignore-paths",
            "my-model/model.sig",
        ],
    );
    let digest: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(digest["root_digest"], signed["root_digest"], "{}", text(&o));
    assert_eq!(digest["resources"].as_array().unwrap().len(), 3);

    let o = run_in(
        d,
        &[
            "model",
            "verify",
            "my-model",
            "--public-key",
            "k.pub",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("verified my-model"), "{}", text(&o));
    // A changed and an added file: exit 1, both named.
    std::fs::write(model.join("config.json"), b"{\"hidden_size\": 9}").unwrap();
    std::fs::write(model.join("extra.py"), b"import os").unwrap();
    let o = run_in(
        d,
        &[
            "model",
            "verify",
            "my-model",
            "--public-key",
            "k.pub",
            "--quiet",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("config.json: content changed"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("extra.py: file is not covered"),
        "{}",
        text(&o)
    );
    let o = run_in(
        d,
        &[
            "model",
            "verify",
            "my-model",
            "--public-key",
            "k.pub",
            "--quiet",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], false);
    assert_eq!(v["differences"].as_array().unwrap().len(), 2);
    // Another key: exit 1. No mode, or a missing signature: exit 2.
    run_in(d, &["model", "keygen", "other", "--curve", "p384"]);
    let o = run_in(
        d,
        &["model", "verify", "my-model", "--public-key", "other.pub"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("key mismatch"), "{}", text(&o));
    let o = run_in(d, &["model", "verify", "my-model"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run_in(
        d,
        &[
            "model",
            "verify",
            "my-model",
            "--public-key",
            "k.pub",
            "--signature",
            "nope.sig",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run_in(d, &["model", "verify", "my-model", "--sigstore"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--trust-root"), "{}", text(&o));

    // Scanning: a raw pickle that calls os.system under a PyTorch name, beside clean files.
    std::fs::write(
        model.join("pytorch_model.bin"),
        b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.",
    )
    .unwrap();
    let o = run_in(
        d,
        &[
            "model",
            "scan",
            "my-model",
            "--quiet",
            "--sarif",
            "scan.sarif",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("CRITICAL") && text(&o).contains("posix.system"),
        "{}",
        text(&o)
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("scan.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "pickle.import");
    let o = run_in(
        d,
        &["model", "scan", "my-model/weights", "--quiet", "--json"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["files"][0]["format"], "safetensors");
    // --fail-on critical still fails; a missing path is exit 2.
    let o = run_in(
        d,
        &[
            "model",
            "scan",
            "my-model",
            "--quiet",
            "--fail-on",
            "critical",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = run_in(d, &["model", "scan", "missing", "--quiet"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run_in(d, &["model", "scan", "my-model", "--fail-on", "severe"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn a_registry_certificate_signs_a_model_that_the_reference_tool_verifies() {
    let s = serve_demo();
    let run_cli = |args: &[&str]| s.cli(args);
    let id = |name: &str| s.system_id(name);
    let upload = |system: &str, kind: &str, title: &str, file: &str| {
        s.cli(&[
            "system", "evidence", system, "--kind", kind, "--title", title, "--file", file,
            "--upload",
        ])
    };
    let chatbot = id("Lingxi Chat");
    let d = s._dir.path();
    let out = d.join("lingxi");
    let o = run_cli(&[
        "cert",
        "request",
        "--system",
        &chatbot,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let model = d.join("lingxi-model");
    small_model(&model);
    let key = d.join("lingxi.key");
    let cert = d.join("lingxi.pem");
    let chain = d.join("lingxi.chain.pem");
    let o = run_in(
        d,
        &[
            "model",
            "sign",
            "lingxi-model",
            "--quiet",
            "--key",
            key.to_str().unwrap(),
            "--cert",
            cert.to_str().unwrap(),
            "--chain",
            chain.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run_in(
        d,
        &[
            "model",
            "verify",
            "lingxi-model",
            "--quiet",
            "--ca",
            chain.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["signer"]["mode"], "certificate");

    // The reference tool verifies the registry-signed model against the registry's chain.
    let venv = aigov_testkit::Venv::get("supply", "bench/supply/requirements.txt");
    let o = venv
        .command()
        .args([
            "-m",
            "model_signing",
            "verify",
            "certificate",
            "--signature",
        ])
        .arg(model.join("model.sig"))
        .arg("--certificate_chain")
        .arg(&chain)
        .arg(&model)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    // The registry takes the signature as evidence only for the system it was issued to.
    let sig = model.join("model.sig");
    let o = upload(
        &chatbot,
        "model_signature",
        "release 1.0",
        sig.to_str().unwrap(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("document uploaded as evidence"),
        "{}",
        text(&o)
    );
    let other = id("MoodMetrics");
    let o = upload(&other, "model_signature", "stolen", sig.to_str().unwrap());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("not one the registry issued to this system"),
        "{}",
        text(&o)
    );
    // The AI-BOM of the release is evidence too; anything else under that kind is refused.
    let o = run_in(
        d,
        &[
            "bom",
            "generate",
            "lingxi-model",
            "--quiet",
            "--version",
            "1.0",
            "-o",
            "bom.json",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = upload(
        &chatbot,
        "ai_bom",
        "release 1.0 BOM",
        d.join("bom.json").to_str().unwrap(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = upload(&chatbot, "ai_bom", "not a BOM", cert.to_str().unwrap());
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    // A key-mode signature with a key the registry never certified is refused too.
    run_in(d, &["model", "keygen", "rogue"]);
    run_in(
        d,
        &[
            "model",
            "sign",
            "lingxi-model",
            "--quiet",
            "--key",
            "rogue.key",
            "--signature",
            "rogue.sig",
        ],
    );
    let o = upload(
        &chatbot,
        "model_signature",
        "rogue",
        d.join("rogue.sig").to_str().unwrap(),
    );
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(
        text(&o).contains("not made with the key of any active certificate"),
        "{}",
        text(&o)
    );
}

#[test]
fn bom_generate_and_diff_through_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let model = d.join("m");
    small_model(&model);
    std::fs::write(
        model.join("README.md"),
        "---\nlicense: mit\ndatasets: [allenai/c4]\n---\n# m\n",
    )
    .unwrap();
    let o = run_in(
        d,
        &[
            "bom",
            "generate",
            "m",
            "--quiet",
            "-o",
            "a.json",
            "--version",
            "1",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = run_in(d, &["bom", "generate", "m", "--quiet", "--format", "spdx3"]);
    assert!(o.status.success(), "{}", text(&o));
    let spdx: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        spdx["@context"],
        "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
    );
    let o = run_in(d, &["bom", "diff", "a.json", "a.json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    std::fs::write(model.join("config.json"), b"{}").unwrap();
    run_in(
        d,
        &[
            "bom",
            "generate",
            "m",
            "--quiet",
            "-o",
            "b.json",
            "--version",
            "2",
        ],
    );
    let o = run_in(d, &["bom", "diff", "a.json", "b.json"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("~ file config.json (hash changed)"),
        "{}",
        text(&o)
    );
    let o = run_in(d, &["bom", "diff", "a.json", "missing.json"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let o = run_in(d, &["bom", "generate", "m", "--format", "xml"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

#[test]
fn label_add_propagate_and_verify_through_the_cli() {
    let s = serve_demo();
    let d = s._dir.path().to_path_buf();
    let p = |name: &str| d.join(name).to_str().unwrap().to_string();
    for (system, prefix) in [
        ("Lingxi Chat", "lingxi"),
        ("Toutiao-style News Feed", "feed"),
    ] {
        let id = s.system_id(system);
        let o = s.cli(&["cert", "request", "--system", &id, "--out", &p(prefix)]);
        assert!(o.status.success(), "{}", text(&o));
    }
    std::fs::write(d.join("gen.png"), aigov_testkit::png(64, 32, 7)).unwrap();
    let keys = |prefix: &str| {
        vec![
            "--key".to_string(),
            p(&format!("{prefix}.key")),
            "--cert".into(),
            p(&format!("{prefix}.pem")),
            "--chain".into(),
            p(&format!("{prefix}.chain.pem")),
            "--c2pa".into(),
        ]
    };
    let run_with =
        |args: &[&str], extra: Vec<String>| bin().args(args).args(extra).output().unwrap();
    // The provider labels its output: AIGC metadata signed with the registry key, then C2PA.
    let o = run_with(
        &[
            "label",
            "add",
            &p("gen.png"),
            "--producer",
            "0011911000000000000000000X00001",
            "--produce-id",
            "gen-1",
            "-o",
            &p("labelled.png"),
            "--json",
        ],
        keys("lingxi"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["label"]["ProduceID"], "gen-1");
    assert_eq!(v["c2pa"], true);
    assert!(d.join("gen.png").exists(), "the input is left alone");

    // Anyone verifies it online against the registry.
    let verify = |file: &str, extra: &[&str]| {
        bin()
            .args(["label", "verify", &p(file), "--json"])
            .args(extra)
            .output()
            .unwrap()
    };
    let o = verify("labelled.png", &["--server", &s.url]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v[0]["report"];
    assert_eq!(v[0]["verified"], true, "{v:#}");
    assert_eq!(r["outcome"], "labelled");
    assert_eq!(r["producer"]["system_name"], "Lingxi Chat");
    assert_eq!(r["producer"]["registry"]["status"], "active");
    assert_eq!(r["c2pa"]["state"], "trusted");

    // A platform adds its propagation record and a manifest with the file as parent.
    let o = run_with(
        &[
            "label",
            "propagate",
            &p("labelled.png"),
            "--platform",
            "PLATFORM-FEED",
            "--propagate-id",
            "feed-9",
            "-o",
            &p("shared.png"),
            "--digest",
            "blake3",
        ],
        keys("feed"),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("shared.png", &["--server", &s.url]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = &v[0]["report"];
    assert_eq!(r["propagation"][0]["code"], "PLATFORM-FEED");
    // The platform bound the content with BLAKE3, the provider with SHA-256 (the default).
    let digest_check = |name: &str| {
        r["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| {
                (
                    c["status"].clone(),
                    c["detail"].as_str().unwrap().to_string(),
                )
            })
            .unwrap()
    };
    let (status, detail) = digest_check("propagator[0].content_digest");
    assert_eq!((status.as_str(), &detail[..7]), (Some("pass"), "blake3:"));
    let (status, detail) = digest_check("producer.content_digest");
    assert_eq!((status.as_str(), &detail[..7]), (Some("pass"), "sha256:"));
    let o = run_with(
        &[
            "label",
            "add",
            &p("gen.png"),
            "-o",
            &p("x.png"),
            "--digest",
            "md5",
        ],
        keys("lingxi"),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--digest"), "{}", text(&o));
    assert_eq!(
        r["propagation"][0]["system_name"],
        "Toutiao-style News Feed"
    );
    assert_eq!(r["c2pa"]["chain"].as_array().unwrap().len(), 2);

    // Offline, from a trust bundle; the table names every check.
    let o = bin()
        .args([
            "label",
            "verify",
            &p("shared.png"),
            "--trust",
            &p("lingxi.chain.pem"),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("outcome: labelled") && out.contains("[ok  ] producer.certificate"),
        "{out}"
    );

    // Text: labelled in place, then edited: tampering, exit 1.
    std::fs::write(d.join("answer.md"), "# Answer\n\nGenerated text.\n").unwrap();
    let o = run_with(
        &[
            "label",
            "add",
            &p("answer.md"),
            "--producer",
            "0011911000000000000000000X00001",
            "--in-place",
        ],
        keys("lingxi")[..6].to_vec(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("answer.md", &["--trust", &p("lingxi.chain.pem")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let body = std::fs::read_to_string(d.join("answer.md")).unwrap();
    std::fs::write(d.join("answer.md"), body.replace("Generated", "Edited")).unwrap();
    let o = verify("answer.md", &["--trust", &p("lingxi.chain.pem")]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // Visible and implicit together: the notice is drawn or written first, then the metadata.
    std::fs::write(d.join("photo.png"), aigov_testkit::png(320, 200, 7)).unwrap();
    let o = run_with(
        &[
            "label",
            "add",
            &p("gen.png"),
            "--producer",
            "X",
            "--visible",
            "-o",
            &p("small.png"),
        ],
        Vec::new(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("too small"), "{}", text(&o));
    let o = run_with(
        &[
            "label",
            "add",
            &p("photo.png"),
            "--producer",
            "0011911000000000000000000X00001",
            "--visible",
            "-o",
            &p("visible.png"),
        ],
        keys("lingxi")[..4].to_vec(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("visible.png", &["--trust", &p("lingxi.chain.pem")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_ne!(
        std::fs::read(d.join("visible.png")).unwrap(),
        std::fs::read(d.join("photo.png")).unwrap()
    );
    // The tone cue in FLAC (made by ffmpeg), then the signed metadata label.
    let venv = aigov_testkit::Venv::get("label", "bench/label/requirements.txt");
    let ff = venv.run(&[
        "-c",
        "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())",
    ]);
    let ffmpeg = |args: &[&str]| {
        let o = std::process::Command::new(ff.trim())
            .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
            .args(args)
            .output()
            .unwrap();
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "ffmpeg {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    ffmpeg(&[
        "-y",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3",
        "-c:a",
        "flac",
        &p("song.flac"),
    ]);
    let o = run_with(
        &[
            "label",
            "add",
            &p("song.flac"),
            "--producer",
            "0011911000000000000000000X00001",
            "--visible",
            "--cue-at-end",
            "-o",
            &p("song-labelled.flac"),
        ],
        keys("lingxi")[..4].to_vec(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("song-labelled.flac", &["--trust", &p("lingxi.chain.pem")]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    ffmpeg(&["-i", &p("song-labelled.flac"), "-f", "null", "-"]);
    assert_ne!(
        std::fs::read(d.join("song-labelled.flac")).unwrap(),
        std::fs::read(d.join("song.flac")).unwrap()
    );
    std::fs::write(d.join("reply.txt"), "Generated reply.\n").unwrap();
    let o = run_with(
        &[
            "label",
            "add",
            &p("reply.txt"),
            "--producer",
            "0011911000000000000000000X00001",
            "--visible",
            "--wording",
            "zh",
            "--notice-position",
            "both",
            "-o",
            &p("reply-labelled.txt"),
        ],
        Vec::new(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let labelled = std::fs::read_to_string(d.join("reply-labelled.txt")).unwrap();
    assert!(labelled.starts_with("---\nAIGC: '"), "{labelled}");
    assert_eq!(labelled.matches("AI生成").count(), 2, "{labelled}");
    let o = bin()
        .args(["label", "verify", &p("reply-labelled.txt")])
        .output()
        .unwrap();
    let out = text(&o);
    assert!(out.contains("[ok  ] label.explicit_mark"), "{out}");
    let o = run_with(
        &[
            "label",
            "add",
            &p("reply.txt"),
            "--producer",
            "X",
            "--visible",
            "--wording",
            "made by a model",
            "-o",
            &p("bad.txt"),
        ],
        Vec::new(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(!d.join("bad.txt").exists());

    // SM2 with SM3, as a bare key.
    let o = bin()
        .args(["label", "keygen", &p("sm2.key"), "--alg", "sm2"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let add_png = |producer: &str, out: &str, keys: &[&str]| {
        bin()
            .args(["label", "add", &p("gen.png"), "--producer", producer])
            .args(["-o", &p(out)])
            .args(keys)
            .output()
            .unwrap()
    };
    let o = add_png("X1", "sm2.png", &["--key", &p("sm2.key")]);
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("sm2.png", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(";a=SM2SM3;"), "{}", text(&o));

    // SM2 with a registry certificate: the producer resolves to the registered system.
    let id = s.system_id("Lingxi Chat");
    let o = s.cli(&[
        "cert",
        "request",
        "--system",
        &id,
        "--out",
        &p("sm2sys"),
        "--alg",
        "sm2",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let (key, cert) = (p("sm2sys.key"), p("sm2sys.pem"));
    let o = add_png(
        "0011911000000000000000000X00001",
        "sm2-cert.png",
        &["--key", &key, "--cert", &cert],
    );
    assert!(o.status.success(), "{}", text(&o));
    let o = verify("sm2-cert.png", &["--server", &s.url]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["verified"], true, "{v:#}");
    let r = &v[0]["report"];
    assert_eq!(r["producer"]["system_name"], "Lingxi Chat", "{v:#}");
    assert_eq!(r["producer"]["registry"]["status"], "active", "{v:#}");
    // C2PA has no SM2: asking for it fails naming why, and nothing is written.
    let chain = p("sm2sys.chain.pem");
    let o = add_png(
        "X1",
        "sm2-c2pa.png",
        &["--key", &key, "--cert", &cert, "--chain", &chain, "--c2pa"],
    );
    assert_ne!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("SM2"), "{}", text(&o));
    assert!(!d.join("sm2-c2pa.png").exists());

    // Unlabelled: 3. Unreadable: 2, with the reason.
    let o = verify("gen.png", &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    std::fs::write(d.join("junk.bin"), [0u8, 159, 146, 150]).unwrap();
    let o = verify("junk.bin", &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unsupported file format"), "{}", text(&o));
    // Usage errors: no output named.
    let o = bin()
        .args(["label", "add", &p("gen.png"), "--producer", "X"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
}

/// `aigov init` makes the data folder with a CA of the chosen algorithm; an algorithm the CA
/// cannot use is a usage error before anything is created.
#[test]
fn init_creates_the_ca_or_refuses_before_writing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_arg = data.to_str().unwrap();
    for alg in ["sm2", "rsa"] {
        let o = bin()
            .args(["init", "--data-dir", data_arg, "--ca-alg", alg])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(text(&o).contains("p256 or ed25519"), "{}", text(&o));
        assert!(!data.exists(), "nothing is created for {alg}");
    }
    let o = bin()
        .args(["init", "--data-dir", data_arg, "--ca-alg", "ed25519"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let root = std::fs::read_to_string(data.join("ca").join("root.pem")).unwrap();
    assert!(root.contains("BEGIN CERTIFICATE"), "{root}");
}
