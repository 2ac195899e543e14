use std::path::Path;
use std::sync::{Arc, Mutex};

use aigov_policy::SystemFacts;
use aigov_registry::model::*;
use aigov_registry::{Config, Registry};
use aigov_server::{AppState, ServerConfig};
use aigov_store::SqliteStore;
use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin: String,
    pub store: SqliteStore,
    pub now: Arc<Mutex<DateTime<Utc>>>,
    _dir: tempfile::TempDir,
    _shutdown: tokio::sync::oneshot::Sender<()>,
}

pub fn examples() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/systems"
    ))
}

pub fn example(name: &str) -> SystemFacts {
    let text = std::fs::read_to_string(examples().join(name)).unwrap();
    aigov_policy::parse_facts(&text, aigov_policy::FactFormat::Toml).unwrap()
}

/// Starts the server on port 0 with a fresh database and a pinned clock.
pub async fn spawn_app() -> TestApp {
    spawn_with(ServerConfig::default()).await
}

pub async fn spawn_with(config: ServerConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("aigov.db"))
        .await
        .unwrap();
    let classifier = Arc::new(aigov_policy::builtin::classifier().unwrap());
    let log_key = aigov_tlog::note::NoteSigner::from_seed("test.aigov/log", &[9; 32]).unwrap();
    // Nanoseconds on purpose: stores keep microseconds, and the audit chain must survive that.
    let now = Arc::new(Mutex::new(
        Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0).unwrap()
            + chrono::Duration::nanoseconds(123_456_789),
    ));
    let start = *now.lock().unwrap();
    // The CA exists before the pinned clock starts, as it would in a real registry.
    let ca = aigov_pki::create_ca(
        "Test Registry",
        aigov_pki::KeyAlgorithm::EcdsaP256,
        start - chrono::Duration::days(1),
    )
    .unwrap();
    let registry = Registry::new(store.clone(), classifier, log_key, Config::default()).with_ca(ca);
    let admin = registry
        .create_token(
            &Principal::local_admin("test"),
            NewToken {
                name: "test admin".into(),
                role: Role::Admin,
                organisation: None,
            },
            start,
        )
        .await
        .unwrap()
        .value
        .secret;
    let clock_now = now.clone();
    let state = AppState::new(
        registry,
        Arc::new(move || *clock_now.lock().unwrap()),
        config,
    );
    tokio::spawn(
        state
            .registry
            .clone()
            .run_sequencer(std::time::Duration::from_millis(1), std::future::pending()),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(aigov_server::serve(listener, state, async {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        admin,
        store,
        now,
        _dir: dir,
        _shutdown: tx,
    }
}

pub struct Resp {
    pub status: StatusCode,
    pub body: Value,
}

impl Resp {
    pub fn ok(self) -> Value {
        assert!(
            self.status.is_success(),
            "expected success, got {}: {}",
            self.status,
            self.body
        );
        self.body
    }
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self.body
    }
}

impl TestApp {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp { status, body }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Resp {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Resp {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    pub async fn org(&self, name: &str, country: &str, code: Option<&str>) -> Uuid {
        let body = self
            .post(
                "/v1/organisations",
                Some(&self.admin),
                json!({"name": name, "kind": "provider", "country": country, "code": code}),
            )
            .await
            .expect(201);
        body["id"].as_str().unwrap().parse().unwrap()
    }

    pub async fn token(&self, role: &str, org: Option<Uuid>) -> String {
        let body = self
            .post(
                "/v1/tokens",
                Some(&self.admin),
                json!({"name": format!("{role} token"), "role": role, "organisation": org}),
            )
            .await
            .expect(201);
        body["secret"].as_str().unwrap().to_string()
    }

    pub async fn system(&self, token: &str, facts: &SystemFacts, org: Option<Uuid>) -> Value {
        self.post(
            "/v1/systems",
            Some(token),
            json!({"organisation": org, "facts": facts}),
        )
        .await
        .expect(201)
    }

    pub async fn transition(&self, token: &str, id: &str, to: &str) -> Resp {
        self.post(
            &format!("/v1/systems/{id}/transitions"),
            Some(token),
            json!({"to": to, "reason": format!("test: to {to}")}),
        )
        .await
    }

    /// A provider organisation with a provider token and a regulator token.
    pub async fn provider(&self) -> (Uuid, String, String) {
        let org = self
            .org(
                "Lingxi Intelligence Co., Ltd.",
                "CN",
                Some("91110000600037341L"),
            )
            .await;
        let provider = self.token("provider", Some(org)).await;
        let regulator = self.token("regulator", None).await;
        (org, provider, regulator)
    }
}
