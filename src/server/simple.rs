//! The simple query protocol, and writing results of every kind to the client.

use super::Connection;
use super::encode::{copy_row, data_row, error_info, field_infos};
use crate::coord::client::SubscribeStream;
use crate::coord::{AdapterError, ExecuteResponse, TransactionStatus};
use crate::repr::copy_format::{BINARY_HEADER, BINARY_TRAILER, write_header};
use crate::repr::{RelationDesc, Row, ScalarType};
use async_trait::async_trait;
use bytes::Bytes;
use futures::{Sink, SinkExt};
use pgwire::api::query::SimpleQueryHandler;
use pgwire::api::results::{FieldFormat, Response};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyInResponse, CopyOutResponse};
use pgwire::messages::response::{
    CommandComplete, EmptyQueryResponse, ReadyForQuery, TransactionStatus as WireStatus,
};
use pgwire::messages::simplequery::Query;
use pgwire::messages::startup::ParameterStatus;
use std::fmt::Debug;

pub(super) fn wire_status(status: TransactionStatus) -> WireStatus {
    match status {
        TransactionStatus::Idle => WireStatus::Idle,
        TransactionStatus::InBlock => WireStatus::Transaction,
        TransactionStatus::Failed => WireStatus::Error,
    }
}

/// What writing a result ended with.
pub(super) enum Written {
    Done,
    /// `COPY ... FROM STDIN` started: the client sends its data next.
    CopyIn(Box<crate::sql::plan::CopyFromTarget>),
    /// The statement failed (after possibly sending some rows): the error was sent.
    Failed,
}

/// Sends the NOTICEs the session's statements made (before their results, as PostgreSQL
/// does).
pub(super) async fn send_notices<C>(
    client: &mut C,
    session: &mut crate::coord::Session,
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    for notice in session.take_notices() {
        let info = pgwire::error::ErrorInfo::new("NOTICE".into(), "00000".into(), notice);
        client
            .feed(PgWireBackendMessage::NoticeResponse(info.into()))
            .await?;
    }
    Ok(())
}

/// Writes one statement's result. `describe` sends a RowDescription first (simple protocol);
/// `formats` gives each column's format (extended protocol).
pub(super) async fn write_response<C>(
    client: &mut C,
    response: ExecuteResponse,
    describe: bool,
    formats: &(dyn Fn(usize) -> FieldFormat + Sync),
) -> PgWireResult<Written>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    match response {
        ExecuteResponse::CopyIn { target } => {
            let columns = target.columns.len();
            let format = target.format.is_binary() as i16;
            client
                .send(PgWireBackendMessage::CopyInResponse(CopyInResponse::new(
                    format as i8,
                    columns as i16,
                    vec![format; columns],
                )))
                .await?;
            return Ok(Written::CopyIn(Box::new(target)));
        }
        ExecuteResponse::Command { tag } => {
            client
                .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                    tag,
                )))
                .await?;
        }
        ExecuteResponse::Rows { desc, rows, tag } => {
            let (types, column_formats) = columns(&desc, formats);
            if describe {
                send_row_description(client, &desc, formats).await?;
            }
            for row in &rows {
                client
                    .feed(PgWireBackendMessage::DataRow(data_row(
                        row,
                        &types,
                        &column_formats,
                    )))
                    .await?;
            }
            client
                .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                    tag,
                )))
                .await?;
        }
        ExecuteResponse::Subscribe { desc, stream } => {
            let (types, column_formats) = columns(&desc, formats);
            if describe {
                send_row_description(client, &desc, formats).await?;
            }
            client.flush().await?;
            let encode =
                |row: &Row| PgWireBackendMessage::DataRow(data_row(row, &types, &column_formats));
            let Some(count) = stream_rows(client, stream, encode).await? else {
                return Ok(Written::Failed);
            };
            client
                .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                    format!("SUBSCRIBE {count}"),
                )))
                .await?;
        }
        ExecuteResponse::CopyOut { desc, stream } => {
            let types: Vec<ScalarType> = desc.types.iter().map(|t| t.scalar_type.clone()).collect();
            let format = stream.copy_format().clone();
            let binary = format.is_binary();
            let columns = desc.arity();
            client
                .send(PgWireBackendMessage::CopyOutResponse(CopyOutResponse::new(
                    binary as i8,
                    columns as i16,
                    vec![binary as i16; columns],
                )))
                .await?;
            let copy_data =
                |bytes: Vec<u8>| PgWireBackendMessage::CopyData(CopyData::new(Bytes::from(bytes)));
            // Binary data starts with a header, in the same CopyData as the first tuple (as
            // PostgreSQL sends it: clients read whole tuples from each message).
            let mut header = Vec::new();
            if binary {
                header.extend_from_slice(BINARY_HEADER);
            } else {
                write_header(&desc.names, &format, &mut header);
                if !header.is_empty() {
                    client.feed(copy_data(std::mem::take(&mut header))).await?;
                }
            }
            let encode = |row: &Row| {
                let mut data = std::mem::take(&mut header);
                data.extend(copy_row(row, &types, &format));
                copy_data(data)
            };
            let Some(count) = stream_rows(client, stream, encode).await? else {
                return Ok(Written::Failed);
            };
            if binary {
                let mut trailer = if count == 0 {
                    BINARY_HEADER.to_vec()
                } else {
                    Vec::new()
                };
                trailer.extend_from_slice(BINARY_TRAILER);
                client.feed(copy_data(trailer)).await?;
            }
            client
                .feed(PgWireBackendMessage::CopyDone(CopyDone::new()))
                .await?;
            client
                .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                    format!("COPY {count}"),
                )))
                .await?;
        }
    }
    Ok(Written::Done)
}

/// How long a subscription with nothing to send waits before checking that its client is
/// still there.
const KEEPALIVE: std::time::Duration = std::time::Duration::from_secs(2);

/// Sends each batch of a subscription as it arrives (one flush per batch) until the stream
/// ends; returns the number of rows, or `None` if it ended with an error (sent to the client).
/// A failed write means the client is gone: returning drops the stream, which stops the
/// subscription.
async fn stream_rows<C>(
    client: &mut C,
    mut stream: SubscribeStream,
    mut encode: impl FnMut(&Row) -> PgWireBackendMessage,
) -> PgWireResult<Option<usize>>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let mut count = 0usize;
    loop {
        let batch = match tokio::time::timeout(KEEPALIVE, stream.recv()).await {
            Ok(Some(batch)) => batch,
            Ok(None) => break,
            Err(_) => {
                // Nothing to send: a ParameterStatus (which clients must accept at any time)
                // is the only way to learn that an idle client has gone.
                let status = ParameterStatus::new("client_encoding".into(), "UTF8".into());
                client
                    .send(PgWireBackendMessage::ParameterStatus(status))
                    .await?;
                continue;
            }
        };
        match batch {
            Ok(rows) => {
                for row in &rows {
                    client.feed(encode(row)).await?;
                }
                count += rows.len();
                client.flush().await?;
            }
            Err(e) => {
                send_error(client, &e).await?;
                return Ok(None);
            }
        }
    }
    Ok(Some(count))
}

fn columns(
    desc: &RelationDesc,
    formats: &(dyn Fn(usize) -> FieldFormat + Sync),
) -> (Vec<ScalarType>, Vec<FieldFormat>) {
    let types = desc.types.iter().map(|t| t.scalar_type.clone()).collect();
    let formats = (0..desc.arity()).map(formats).collect();
    (types, formats)
}

async fn send_row_description<C>(
    client: &mut C,
    desc: &RelationDesc,
    formats: &(dyn Fn(usize) -> FieldFormat + Sync),
) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    let fields = field_infos(desc, formats);
    let description =
        pgwire::messages::data::RowDescription::new(fields.iter().map(Into::into).collect());
    client
        .feed(PgWireBackendMessage::RowDescription(description))
        .await?;
    Ok(())
}

/// Whether `stmt` is a COPY whose data this connection streams itself (`FROM STDIN` or
/// `TO STDOUT`).
pub(super) fn is_copy(stmt: &crate::sql::Statement) -> bool {
    matches!(stmt, crate::sql::Statement::Sql(s) if matches!(s.as_ref(), sqlparser::ast::Statement::Copy { .. }))
}

/// The prepared statement `DEALLOCATE [PREPARE] name` names (not `ALL`).
fn deallocated(stmt: &crate::sql::Statement) -> Option<String> {
    let crate::sql::Statement::Sql(s) = stmt else {
        return None;
    };
    let sqlparser::ast::Statement::Deallocate { name, .. } = s.as_ref() else {
        return None;
    };
    let all = name.quote_style.is_none() && name.value.eq_ignore_ascii_case("all");
    (!all).then(|| name.value.clone())
}

fn is_copy_from_stdin(stmt: &crate::sql::Statement) -> bool {
    matches!(stmt, crate::sql::Statement::Sql(s) if matches!(s.as_ref(), sqlparser::ast::Statement::Copy { to: false, .. }))
}

pub(super) async fn send_error<C>(client: &mut C, e: &AdapterError) -> PgWireResult<()>
where
    C: Sink<PgWireBackendMessage> + Unpin + Send,
    C::Error: Debug,
    PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
{
    client
        .feed(PgWireBackendMessage::ErrorResponse(error_info(e).into()))
        .await?;
    Ok(())
}

#[async_trait]
impl SimpleQueryHandler for Connection {
    /// Runs each statement of the query in order, writing its result as it goes, and stops
    /// at the first error, as PostgreSQL does.
    async fn on_query<C>(&self, client: &mut C, query: Query) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
            return Err(PgWireError::NotReadyForQuery);
        }
        client.set_state(PgWireConnectionState::QueryInProgress);
        let mut guard = self.lock_session().await;
        let Some(session) = guard.as_mut() else {
            return Err(PgWireError::NotReadyForQuery);
        };
        match crate::coord::client::parse(&query.query) {
            Err(e) => {
                // A statement that does not parse fails the open block, as one that runs
                // and fails does.
                session.fail_block();
                send_error(client, &e).await?
            }
            Ok(statements) if statements.is_empty() => {
                client
                    .feed(PgWireBackendMessage::EmptyQueryResponse(
                        EmptyQueryResponse::new(),
                    ))
                    .await?;
            }
            Ok(statements) => {
                for (i, stmt) in statements.iter().enumerate() {
                    if is_copy_from_stdin(stmt) && i + 1 < statements.len() {
                        let e = AdapterError::Plan(crate::sql::PlanError::unsupported(
                            "statements after COPY FROM STDIN in the same query string",
                        ));
                        send_error(client, &e).await?;
                        break;
                    }
                    let result = session.execute(stmt, &[]).await;
                    send_notices(client, session).await?;
                    let written = match result {
                        Ok(response) => {
                            if let Some(name) = deallocated(stmt) {
                                // The protocol layer holds prepared statements. (DEALLOCATE
                                // ALL leaves them: a driver prepares anew under new names, or
                                // replaces them under the same ones.)
                                client.portal_store().rm_statement(&name);
                            }
                            write_response(client, response, true, &|_| FieldFormat::Text).await?
                        }
                        Err(e) => {
                            send_error(client, &e).await?;
                            Written::Failed
                        }
                    };
                    match written {
                        Written::Failed => break,
                        Written::CopyIn(target) => {
                            // The data arrives as CopyData messages (see `copy.rs`); the
                            // ReadyForQuery follows the CopyDone.
                            *self.copy.lock().await = Some(super::copy::PendingCopy::new(*target));
                            drop(guard);
                            client.set_state(PgWireConnectionState::CopyInProgress(false));
                            return Ok(());
                        }
                        Written::Done => {}
                    }
                }
            }
        }
        let status = wire_status(session.transaction_status());
        drop(guard);
        client.set_state(PgWireConnectionState::ReadyForQuery);
        client.set_transaction_status(status);
        client
            .send(PgWireBackendMessage::ReadyForQuery(ReadyForQuery::new(
                status,
            )))
            .await?;
        Ok(())
    }

    async fn do_query<C>(&self, _client: &mut C, _query: &str) -> PgWireResult<Vec<Response>>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        // `on_query` above handles the whole simple protocol.
        Err(PgWireError::ApiError(
            "simple queries are handled by on_query".into(),
        ))
    }
}
