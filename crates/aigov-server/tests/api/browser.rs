//! The public verification page (`GET /verify`) in a real browser: headless Chromium driven
//! through chromedriver (Debian's `chromium` and `chromium-driver`; `.ci/run` installs them),
//! against a real server on a real socket.

use serde_json::Value;

use crate::helpers::*;
use crate::labels::{labelled_png, registered_signer};

fn page_results(base: &str, files: &[String]) -> Vec<Value> {
    let venv = aigov_testkit::Venv::get(
        "browser",
        "crates/aigov-server/tests/browser/requirements.txt",
    );
    let script = aigov_testkit::root().join("crates/aigov-server/tests/browser/verify_page.py");
    let mut args = vec![script.display().to_string(), base.to_string()];
    args.extend_from_slice(files);
    serde_json::from_str(venv.run(&args).trim()).unwrap()
}

#[tokio::test]
async fn anyone_checks_a_file_on_the_public_page() {
    let app = spawn_app().await;
    let (_id, _serial, _provider, signer) = registered_signer(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string()
    };
    // Label fields are the uploader's: markup in them must show as text and never run (an ID
    // is printable ASCII without spaces, which still allows a tag).
    let hostile = "<img/src=x/onerror=document.title='pwned'>";
    let files = [
        file("labelled.png", &labelled_png(&signer, "out-1")),
        format!(
            "{}::declared",
            file("plain.png", &aigov_testkit::png(4, 4, 1))
        ),
        file("hostile.png", &labelled_png(&signer, hostile)),
        file("junk.bin", &[0u8, 159, 146, 150]),
    ];
    let base = app.base.clone();
    let r = tokio::task::spawn_blocking(move || page_results(&base, &files))
        .await
        .unwrap();
    assert_eq!(r.len(), 4, "{r:#?}");
    for (i, item) in r.iter().enumerate() {
        // No script error or policy refusal; the browser logs only the junk file's 422.
        let console = item["console"].as_array().unwrap();
        let expected = |m: &Value| i == 3 && m.as_str().unwrap().contains("status of 422");
        assert!(console.iter().all(expected), "{item:#}");
        assert_eq!(item["title_after"], item["title_before"], "{item:#}");
        assert_eq!(item["injected"], 0, "{item:#}");
    }

    let labelled = &r[0];
    assert_eq!(labelled["outcome"], "labelled", "{labelled:#}");
    assert_eq!(labelled["verified"], "true", "{labelled:#}");
    assert_eq!(labelled["checks"]["producer.certificate"], "pass");
    assert_eq!(labelled["checks"]["producer.registry"], "pass");
    assert_eq!(labelled["registry"], serde_json::json!(["active"]));
    let text = labelled["text"].as_str().unwrap();
    assert!(text.contains("InboxGuard"), "{text}");
    assert!(text.contains("Labelled as AI-generated"), "{text}");

    let declared = &r[1];
    assert_eq!(declared["outcome"], "possibly_ai", "{declared:#}");
    assert_eq!(declared["verified"], "false");

    let hostile_item = &r[2];
    assert_eq!(hostile_item["outcome"], "labelled", "{hostile_item:#}");
    assert!(
        hostile_item["text"].as_str().unwrap().contains(hostile),
        "{hostile_item:#}"
    );

    let junk = &r[3];
    assert_eq!(junk["outcome"], Value::Null);
    let e = junk["error"].as_str().unwrap();
    assert!(
        e.contains("Cannot check this file") && e.contains("unsupported"),
        "{e}"
    );
}

/// The page and its assets come with a policy that allows only this server's own script and
/// style (no inline code).
#[tokio::test]
async fn the_page_is_served_with_a_strict_policy() {
    let app = spawn_app().await;
    for (path, kind) in [
        ("/verify", "text/html"),
        ("/assets/verify.js", "text/javascript"),
        ("/assets/verify.css", "text/css"),
    ] {
        let resp = app
            .http
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let h = resp.headers();
        assert!(
            h["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
    }
}
