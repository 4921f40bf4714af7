//! The PostgreSQL wire protocol server (pgwire): startup with trust authentication, the
//! simple and extended query protocols, streaming SUBSCRIBE and `COPY (SUBSCRIBE ...) TO
//! STDOUT`, COPY TO STDOUT and FROM STDIN (text, CSV, binary), and cancel requests.
//!
//! Each connection gets its own handler holding its `Session`. Streaming results are written
//! to the socket as they arrive, one flush per batch; when the client is gone the write fails,
//! the stream is dropped, and the coordinator stops the subscription.
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | accept loop, startup, cancel, session slot |
//! | `simple.rs` | simple query protocol, and writing every kind of result |
//! | `copy.rs` | COPY FROM STDIN: collecting the data, decoding binary data, then one write |
//! | `extended.rs` | Parse / Bind / Describe / Execute |
//! | `encode.rs` | OIDs, text and binary encodings, COPY rows, ErrorResponse fields |
//! | `decode.rs` | bound parameters |

mod copy;
mod decode;
mod encode;
mod extended;
mod simple;

use crate::coord::{CancelKey, Client, Session};
use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::{
    ServerParameterProvider, StartupHandler, finish_authentication, protocol_negotiation,
    save_startup_parameters_to_metadata,
};
use pgwire::api::cancel::CancelHandler;
use pgwire::api::{ClientInfo, PgWireServerHandlers};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::cancel::CancelRequest;
use pgwire::messages::startup::SecretKey;
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Serves pgwire connections on `listener` until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, client: Client) -> std::io::Result<()> {
    loop {
        let (socket, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let handler = Arc::new(Connection {
            client: client.clone(),
            param_types: Default::default(),
            parse_failed: Default::default(),
            session: Mutex::new(None),
            copy: Mutex::new(None),
        });
        tokio::spawn(async move {
            if let Err(e) =
                pgwire::tokio::process_socket(socket, None, ConnectionHandlers(handler)).await
            {
                tracing::debug!(%addr, error = %e, "connection ended with an error");
            }
        });
    }
}

/// One client connection.
pub struct Connection {
    client: Client,
    session: Mutex<Option<Session>>,
    /// The COPY FROM STDIN in progress, if any.
    copy: Mutex<Option<copy::PendingCopy>>,
    /// Parameter types of prepared statements already described (see `extended.rs`).
    param_types: std::sync::Mutex<extended::ParamTypeCache>,
    /// Set when a Parse message's SQL did not parse (the parser has no session): the open
    /// transaction block fails, as the statement's failure would fail it.
    parse_failed: Arc<std::sync::atomic::AtomicBool>,
}

impl Connection {
    /// The session, locked, with the failure of a statement that did not parse since
    /// applied to its block.
    async fn lock_session(&self) -> tokio::sync::MutexGuard<'_, Option<Session>> {
        let mut guard = self.session.lock().await;
        if self
            .parse_failed
            .swap(false, std::sync::atomic::Ordering::AcqRel)
            && let Some(session) = guard.as_mut()
        {
            session.fail_block();
        }
        guard
    }
}

struct ConnectionHandlers(Arc<Connection>);

impl PgWireServerHandlers for ConnectionHandlers {
    fn simple_query_handler(&self) -> Arc<impl pgwire::api::query::SimpleQueryHandler> {
        self.0.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl pgwire::api::query::ExtendedQueryHandler> {
        self.0.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.0.clone()
    }

    fn copy_handler(&self) -> Arc<impl pgwire::api::copy::CopyHandler> {
        self.0.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.0.clone()
    }
}

/// The session's ParameterStatus values.
struct SessionParameters(Vec<(String, String)>);

impl ServerParameterProvider for SessionParameters {
    fn server_parameters<C>(&self, _client: &C) -> Option<HashMap<String, String>>
    where
        C: ClientInfo,
    {
        Some(self.0.iter().cloned().collect())
    }
}

fn user_error(message: &str) -> PgWireError {
    PgWireError::UserError(Box::new(pgwire::error::ErrorInfo::new(
        "FATAL".into(),
        "08006".into(),
        message.into(),
    )))
}

#[async_trait]
impl StartupHandler for Connection {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let PgWireFrontendMessage::Startup(startup) = message else {
            return Ok(());
        };
        protocol_negotiation(client, &startup).await?;
        save_startup_parameters_to_metadata(client, &startup);
        let user = startup
            .parameters
            .get("user")
            .cloned()
            .unwrap_or_else(|| "freshet".into());
        let database = startup
            .parameters
            .get("database")
            .cloned()
            .unwrap_or_else(|| user.clone());
        let session = self
            .client
            .connect(&user, &database)
            .await
            .map_err(|e| user_error(&e.to_string()))?;
        let key = session.cancel_key();
        client.set_pid_and_secret_key(key.conn_id as i32, SecretKey::I32(key.secret as i32));
        let parameters = SessionParameters(session.startup_parameters());
        *self.session.lock().await = Some(session);
        finish_authentication(client, &parameters).await
    }
}

#[async_trait]
impl CancelHandler for Connection {
    async fn on_cancel_request(&self, request: CancelRequest) {
        let secret = match request.secret_key {
            SecretKey::I32(s) => s as u32,
            SecretKey::Bytes(b) if b.len() == 4 => u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
            SecretKey::Bytes(_) => return,
        };
        self.client.cancel(CancelKey {
            conn_id: request.pid as u32,
            secret,
        });
    }
}
