//! A small client of the registry API, used by the CLI.

use anyhow::{Context, Result};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The server refused a request (4xx) or failed (5xx).
#[derive(Debug)]
pub struct ApiFailure {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code from the error body.
    pub code: String,
    /// Message.
    pub message: String,
    /// Offending field.
    pub field: Option<String>,
    /// Allowed states, for invalid transitions.
    pub allowed: Vec<String>,
    /// Missing evidence, for stage changes.
    pub missing: Vec<String>,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server answered {} ({}): {}",
            self.status.as_u16(),
            self.code,
            self.message
        )?;
        if let Some(field) = &self.field {
            write!(f, " [field: {field}]")?;
        }
        if !self.allowed.is_empty() {
            write!(f, " [allowed: {}]", self.allowed.join(", "))?;
        }
        if !self.missing.is_empty() {
            write!(f, " [missing evidence: {}]", self.missing.join(", "))?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiFailure {}

/// A registry client.
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
}

impl Client {
    /// A client of the server at `base` (e.g. `http://127.0.0.1:8080`).
    pub fn new(base: &str, token: Option<String>) -> Result<Client> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .context("failed to build the HTTP client")?;
        Ok(Client {
            base: base.trim_end_matches('/').to_string(),
            token,
            http,
        })
    }

    /// Sends a request and decodes the JSON answer.
    pub async fn call<B: Serialize, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<T> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.base));
        if let Some(b) = body {
            req = req.json(b);
        }
        self.send(method, path, req).await
    }

    /// POSTs raw bytes (an upload) and decodes the JSON answer.
    pub async fn upload<T: DeserializeOwned>(&self, path: &str, bytes: Vec<u8>) -> Result<T> {
        let req = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .body(bytes);
        self.send(Method::POST, path, req).await
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        mut req: reqwest::RequestBuilder,
    ) -> Result<T> {
        let url = format!("{}{path}", self.base);
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("failed to reach {url}"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .with_context(|| format!("failed to read the answer of {url}"))?;
        if !status.is_success() {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let e = &v["error"];
            let list = |k: &str| -> Vec<String> {
                e[k].as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            return Err(ApiFailure {
                status,
                code: e["code"].as_str().unwrap_or("unknown").to_string(),
                message: e["message"].as_str().map_or_else(
                    || String::from_utf8_lossy(&bytes).into_owned(),
                    String::from,
                ),
                field: e["field"].as_str().map(String::from),
                allowed: list("allowed"),
                missing: list("missing"),
            }
            .into());
        }
        serde_json::from_slice(&bytes)
            .with_context(|| format!("failed to decode the answer of {method} {url}"))
    }

    /// GET raw bytes (tiles, notes); a non-success status is an error with the body.
    pub async fn get_bytes(&self, path: &str) -> Result<Vec<u8>> {
        let url = format!("{}{path}", self.base);
        let resp = self
            .http
            .get(&url)
            .send()
            .await
            .with_context(|| format!("failed to reach {url}"))?;
        let status = resp.status();
        let body = resp
            .bytes()
            .await
            .with_context(|| format!("failed to read {url}"))?;
        if !status.is_success() {
            anyhow::bail!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        Ok(body.to_vec())
    }

    /// GET a text document (PEM, notes).
    pub async fn get_text(&self, path: &str) -> Result<String> {
        let bytes = self.get_bytes(path).await?;
        String::from_utf8(bytes).with_context(|| format!("{path} is not UTF-8 text"))
    }

    /// GET.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.call::<(), T>(Method::GET, path, None).await
    }
}
