//! The HTTP API of the aigov registry (axum). Handlers only extract, call the registry service
//! and serialise; errors become responses in one place ([`error`]). This crate knows no SQL.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod api;
pub mod error;
pub mod extract;
pub mod openapi;
pub mod pages;

use std::sync::Arc;

use aigov_registry::Registry;
use aigov_registry::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use crate::error::ApiError;

/// Server settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Largest JSON request body accepted, in bytes (413 beyond).
    pub max_body: usize,
    /// Largest uploaded evidence document, in bytes (413 beyond).
    pub max_upload: usize,
    /// Largest file accepted by `POST /v1/labels/verify`, in bytes (413 beyond); the upload
    /// is streamed to a temporary file, never held in memory.
    pub max_label_upload: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_body: 1024 * 1024,
            max_upload: 64 * 1024 * 1024,
            max_label_upload: 1024 * 1024 * 1024,
        }
    }
}

/// Source of the current time (tests pin it).
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Shared state of the handlers.
pub struct AppState<S> {
    /// The registry service.
    pub registry: Arc<Registry<S>>,
    /// The clock.
    pub clock: Clock,
    /// Settings.
    pub config: Arc<ServerConfig>,
    openapi: Arc<String>,
}

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            registry: self.registry.clone(),
            clock: self.clock.clone(),
            config: self.config.clone(),
            openapi: self.openapi.clone(),
        }
    }
}

impl<S: Store> AppState<S> {
    /// Builds the state.
    pub fn new(registry: Registry<S>, clock: Clock, config: ServerConfig) -> Self {
        AppState {
            registry: Arc::new(registry),
            clock,
            config: Arc::new(config),
            openapi: Arc::new(openapi::document().to_string()),
        }
    }
}

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
}

/// The application's routes.
pub fn router<S: Store>(state: AppState<S>) -> Router {
    let max_body = state.config.max_body;
    let max_upload = state.config.max_upload;
    let v1 = Router::new()
        .route("/whoami", get(api::whoami))
        .route("/classify", post(api::classify::<S>))
        .route("/classify/toml", post(api::classify_toml::<S>))
        .route("/rules", get(api::rules::<S>))
        .route("/public/systems", get(api::public_search::<S>))
        .route(
            "/public/systems/{filing_number}",
            get(api::public_system::<S>),
        )
        .route(
            "/organisations",
            get(api::organisations::<S>).post(api::create_organisation::<S>),
        )
        .route(
            "/systems",
            get(api::systems::<S>).post(api::create_system::<S>),
        )
        .route(
            "/systems/{id}",
            get(api::system::<S>).put(api::update_system::<S>),
        )
        .route("/systems/{id}/transitions", post(api::transition::<S>))
        .route("/systems/{id}/stage", post(api::stage::<S>))
        .route("/systems/{id}/revisions", get(api::revisions::<S>))
        .route(
            "/systems/{id}/evidence",
            get(api::evidence::<S>).post(api::add_evidence::<S>),
        )
        .route(
            "/systems/{id}/evidence/upload",
            post(api::upload_evidence::<S>).layer(DefaultBodyLimit::max(max_upload)),
        )
        .route(
            "/systems/{id}/evidence/{evidence}/document",
            get(api::evidence_document::<S>),
        )
        .route(
            "/systems/{id}/certificates",
            get(api::certificates_of::<S>).post(api::issue_certificate::<S>),
        )
        .route("/certificates/{serial}", get(api::certificate::<S>))
        .route(
            "/certificates/{serial}/revoke",
            post(api::revoke_certificate::<S>),
        )
        .route("/labels/verify", post(api::verify_label::<S>))
        .route("/audit", get(api::audit::<S>))
        .route("/audit/verify", get(api::audit_verify::<S>))
        .route(
            "/tokens",
            get(api::tokens::<S>).post(api::create_token::<S>),
        )
        .route(
            "/tokens/{id}",
            axum::routing::delete(api::revoke_token::<S>),
        );
    Router::new()
        .route("/healthz", get(api::health))
        .route(
            "/openapi.json",
            get(
                |axum::extract::State(st): axum::extract::State<AppState<S>>| async move {
                    (
                        [(header::CONTENT_TYPE, "application/json")],
                        st.openapi.to_string(),
                    )
                        .into_response()
                },
            ),
        )
        .route("/verify", get(pages::verify))
        .route("/assets/verify.js", get(pages::verify_js))
        .route("/assets/verify.css", get(pages::verify_css))
        .route("/ca/root.pem", get(api::ca_root::<S>))
        .route("/ca/chain.pem", get(api::ca_chain::<S>))
        .route("/ca/crl", get(api::ca_crl::<S>))
        .route("/log/checkpoint", get(api::log_checkpoint::<S>))
        .route("/log/key", get(api::log_key::<S>))
        .route("/log/tile/{*path}", get(api::log_tile::<S>))
        .nest("/v1", v1)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes.
pub async fn serve<S: Store>(
    listener: tokio::net::TcpListener,
    state: AppState<S>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
