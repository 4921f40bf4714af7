//! The extended query protocol: Parse (one statement), Describe (parameter types inferred by
//! the planner, result columns), Bind (parameters in text or binary format), Execute.
//! SUBSCRIBE and COPY (SUBSCRIBE ...) stream from `on_execute`; everything else goes through
//! pgwire's portal machinery (which also handles `max_rows` suspension).

use super::Connection;
use super::decode::decode_param;
use super::encode::{data_row, error_info, field_infos, pg_type, scalar_type_of_oid};
use super::simple::{send_error, wire_status, write_response};
use crate::coord::{AdapterError, ExecuteResponse};
use crate::repr::{Datum, ScalarType};
use crate::sql::{PlanError, Statement};
use async_trait::async_trait;
use futures::{Sink, stream};
use pgwire::api::portal::{Format, Portal};
use pgwire::api::query::ExtendedQueryHandler;
use pgwire::api::results::{
    DescribePortalResponse, DescribeStatementResponse, FieldFormat, FieldInfo, QueryResponse,
    Response, Tag,
};
use pgwire::api::stmt::{QueryParser, StoredStatement};
use pgwire::api::store::PortalStore;
use pgwire::api::{ClientInfo, ClientPortalStore, PgWireConnectionState, Type};
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::extendedquery::Execute;
use std::fmt::Debug;
use std::sync::Arc;

/// Parses the SQL of Parse messages; a failure is noted in `parse_failed` (see `Connection`).
pub struct StatementParser {
    parse_failed: Arc<std::sync::atomic::AtomicBool>,
}

fn pg_error(e: &AdapterError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(e)))
}

#[async_trait]
impl QueryParser for StatementParser {
    type Statement = Statement;

    async fn parse_sql<C>(
        &self,
        _client: &C,
        sql: &str,
        _types: &[Option<Type>],
    ) -> PgWireResult<Option<Statement>>
    where
        C: ClientInfo + Unpin + Send + Sync,
    {
        let mut statements = crate::coord::client::parse(sql)
            .inspect_err(|_| {
                self.parse_failed
                    .store(true, std::sync::atomic::Ordering::Release)
            })
            .map_err(|e| pg_error(&e))?;
        match statements.len() {
            0 => Ok(None),
            1 => Ok(statements.pop()),
            _ => Err(pg_error(&AdapterError::Plan(PlanError::Syntax(
                "cannot insert multiple commands into a prepared statement".into(),
            )))),
        }
    }

    fn get_parameter_types(&self, _stmt: &Statement) -> PgWireResult<Vec<Type>> {
        // Describe is answered by the session (the planner infers the types).
        Ok(vec![])
    }

    fn get_result_schema(
        &self,
        _stmt: &Statement,
        _format: Option<&Format>,
    ) -> PgWireResult<Vec<FieldInfo>> {
        Ok(vec![])
    }
}

fn declared_types(types: &[Option<Type>]) -> Vec<Option<ScalarType>> {
    types
        .iter()
        .map(|t| t.as_ref().and_then(|t| scalar_type_of_oid(t.oid())))
        .collect()
}

/// Statements whose Execute this module handles itself: streams and COPY FROM STDIN.
fn is_streaming(stmt: &Statement) -> bool {
    matches!(stmt, Statement::Subscribe(_) | Statement::CopySubscribe(_))
        || super::simple::is_copy(stmt)
}

/// Parameter types of the statements this connection has prepared, so that Bind + Execute of a
/// prepared statement asks the planner once, not twice. An entry is keyed by the address of
/// the stored statement and keeps that statement alive (so the address cannot be reused by
/// another), and is valid only in the catalog generation it was described in. Bounded: it
/// is cleared when full, which costs one more describe per statement.
#[derive(Default)]
pub struct ParamTypeCache {
    entries: std::collections::HashMap<usize, ParamTypes>,
}

/// The statement (kept alive), the catalog generation, the types.
type ParamTypes = (Arc<StoredStatement<Statement>>, u64, Vec<ScalarType>);

const PARAM_TYPE_CACHE_ENTRIES: usize = 256;

impl ParamTypeCache {
    fn get(
        &self,
        stmt: &Arc<StoredStatement<Statement>>,
        generation: u64,
    ) -> Option<Vec<ScalarType>> {
        let (_, g, types) = self.entries.get(&(Arc::as_ptr(stmt) as usize))?;
        (*g == generation).then(|| types.clone())
    }

    fn insert(
        &mut self,
        stmt: &Arc<StoredStatement<Statement>>,
        generation: u64,
        types: Vec<ScalarType>,
    ) {
        if self.entries.len() >= PARAM_TYPE_CACHE_ENTRIES {
            self.entries.clear();
        }
        self.entries.insert(
            Arc::as_ptr(stmt) as usize,
            (stmt.clone(), generation, types),
        );
    }
}

impl Connection {
    /// Describes `stmt` through the session.
    async fn describe(
        &self,
        stmt: &Statement,
        declared: &[Option<Type>],
    ) -> PgWireResult<crate::coord::StatementDesc> {
        let mut guard = self.lock_session().await;
        let session = guard.as_mut().ok_or(PgWireError::NotReadyForQuery)?;
        session
            .describe(stmt, &declared_types(declared))
            .await
            .map_err(|e| pg_error(&e))
    }

    /// Decodes the portal's parameters into datums of the types the planner infers (the
    /// client's declared ones where it declared them); returns them with those types.
    async fn bound_params(
        &self,
        session: &mut crate::coord::Session,
        portal: &Portal<Statement>,
    ) -> Result<(Vec<Datum>, Vec<ScalarType>), AdapterError> {
        if portal.parameters.is_empty() {
            return Ok((vec![], vec![]));
        }
        let generation = self.client.catalog_generation();
        let cached = self
            .param_types
            .lock()
            .ok()
            .and_then(|cache| cache.get(&portal.statement, generation));
        let param_types = match cached {
            Some(types) => types,
            None => {
                let types = session
                    .describe(
                        &portal.statement.statement,
                        &declared_types(&portal.statement.parameter_types),
                    )
                    .await?
                    .param_types;
                if let Ok(mut cache) = self.param_types.lock() {
                    cache.insert(&portal.statement, generation, types.clone());
                }
                types
            }
        };
        let mut types = Vec::with_capacity(portal.parameters.len());
        let params = portal
            .parameters
            .iter()
            .enumerate()
            .map(|(i, bytes)| {
                let typ = param_types.get(i).cloned().unwrap_or(ScalarType::String);
                let binary = matches!(portal.parameter_format.format_for(i), FieldFormat::Binary);
                let datum = decode_param(bytes.as_deref(), &typ, binary);
                types.push(typ);
                datum
            })
            .collect::<Result<_, _>>()
            // A parameter that does not decode fails the statement, so it aborts the block.
            .inspect_err(|_| session.fail_block())?;
        Ok((params, types))
    }
}

#[async_trait]
impl ExtendedQueryHandler for Connection {
    type Statement = Statement;
    type QueryParser = StatementParser;

    fn query_parser(&self) -> Arc<StatementParser> {
        Arc::new(StatementParser {
            parse_failed: self.parse_failed.clone(),
        })
    }

    async fn on_execute<C>(&self, client: &mut C, message: Execute) -> PgWireResult<()>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let name = message
            .name
            .clone()
            .unwrap_or_else(|| pgwire::api::DEFAULT_NAME.to_string());
        let portal = match client.portal_store().get_portal(&name) {
            Some(pgwire::api::store::Entry::Value(portal)) => Some(portal),
            _ => None,
        };
        match portal {
            Some(portal) if is_streaming(&portal.statement.statement) => {
                if !matches!(client.state(), PgWireConnectionState::ReadyForQuery) {
                    return Err(PgWireError::NotReadyForQuery);
                }
                client.set_state(PgWireConnectionState::QueryInProgress);
                let mut guard = self.lock_session().await;
                let Some(session) = guard.as_mut() else {
                    return Err(PgWireError::NotReadyForQuery);
                };
                let result = match self.bound_params(session, &portal).await {
                    Ok((params, types)) => {
                        session
                            .execute_typed(&portal.statement.statement, &params, &types)
                            .await
                    }
                    Err(e) => Err(e),
                };
                super::simple::send_notices(client, session).await?;
                let format = portal.result_column_format.clone();
                match result {
                    Ok(response) => {
                        if let super::simple::Written::CopyIn(target) =
                            write_response(client, response, false, &|i| format.format_for(i))
                                .await?
                        {
                            *self.copy.lock().await = Some(super::copy::PendingCopy::new(*target));
                            drop(guard);
                            client.set_state(PgWireConnectionState::CopyInProgress(true));
                            return Ok(());
                        }
                    }
                    Err(e) => send_error(client, &e).await?,
                }
                let status = wire_status(session.transaction_status());
                drop(guard);
                client.set_state(PgWireConnectionState::ReadyForQuery);
                client.set_transaction_status(status);
                Ok(())
            }
            _ => {
                let result = self._on_execute(client, message).await;
                if let Some(session) = self.session.lock().await.as_ref() {
                    client.set_transaction_status(wire_status(session.transaction_status()));
                }
                result
            }
        }
    }

    async fn do_describe_statement<C>(
        &self,
        _client: &mut C,
        target: &StoredStatement<Statement>,
    ) -> PgWireResult<DescribeStatementResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let desc = self
            .describe(&target.statement, &target.parameter_types)
            .await?;
        let params = desc.param_types.iter().map(pg_type).collect();
        let fields = desc
            .result
            .map(|r| field_infos(&r, |_| FieldFormat::Text))
            .unwrap_or_default();
        Ok(DescribeStatementResponse::new(params, fields))
    }

    async fn do_describe_portal<C>(
        &self,
        _client: &mut C,
        target: &Portal<Statement>,
    ) -> PgWireResult<DescribePortalResponse>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let desc = self
            .describe(
                &target.statement.statement,
                &target.statement.parameter_types,
            )
            .await?;
        let format = target.result_column_format.clone();
        let fields = desc
            .result
            .map(|r| field_infos(&r, |i| format.format_for(i)))
            .unwrap_or_default();
        Ok(DescribePortalResponse::new(fields))
    }

    async fn do_query<C>(
        &self,
        client: &mut C,
        portal: &Portal<Statement>,
        _max_rows: usize,
    ) -> PgWireResult<Response>
    where
        C: ClientInfo + ClientPortalStore + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::PortalStore: PortalStore<Statement = Self::Statement>,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let mut guard = self.lock_session().await;
        let session = guard.as_mut().ok_or(PgWireError::NotReadyForQuery)?;
        let result = match self.bound_params(session, portal).await {
            Ok((params, types)) => {
                session
                    .execute_typed(&portal.statement.statement, &params, &types)
                    .await
            }
            Err(e) => Err(e),
        };
        super::simple::send_notices(client, session).await?;
        let response = match result {
            Err(e) => return Ok(Response::Error(Box::new(error_info(&e)))),
            Ok(r) => r,
        };
        Ok(match response {
            ExecuteResponse::Command { tag } => {
                let command = tag.split_whitespace().next().unwrap_or("").to_uppercase();
                match command.as_str() {
                    "BEGIN" | "START" => Response::TransactionStart(Tag::new(&tag)),
                    "COMMIT" | "ROLLBACK" => Response::TransactionEnd(Tag::new(&tag)),
                    _ => Response::Execution(Tag::new(&tag)),
                }
            }
            ExecuteResponse::Rows { desc, rows, tag } => {
                let format = portal.result_column_format.clone();
                let formats: Vec<FieldFormat> =
                    (0..desc.arity()).map(|i| format.format_for(i)).collect();
                let fields = Arc::new(field_infos(&desc, |i| formats[i]));
                let types: Vec<ScalarType> =
                    desc.types.iter().map(|t| t.scalar_type.clone()).collect();
                let encoded: Vec<PgWireResult<_>> = rows
                    .iter()
                    .map(|row| Ok(data_row(row, &types, &formats)))
                    .collect();
                let mut response = QueryResponse::new(fields, stream::iter(encoded));
                // pgwire appends the row count to the tag.
                let command = match tag.rsplit_once(' ') {
                    Some((head, count)) if count.chars().all(|c| c.is_ascii_digit()) => {
                        head.to_string()
                    }
                    _ => tag.clone(),
                };
                response.set_command_tag(&command);
                Response::Query(response)
            }
            ExecuteResponse::Subscribe { .. }
            | ExecuteResponse::CopyOut { .. }
            | ExecuteResponse::CopyIn { .. } => {
                return Err(PgWireError::ApiError(
                    "streaming results are written by on_execute".into(),
                ));
            }
        })
    }
}
