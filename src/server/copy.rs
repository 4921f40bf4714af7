//! COPY FROM STDIN: the CopyData messages are collected (bounded), and on CopyDone the session
//! parses them and inserts every row as one durable write; CopyFail discards them.
//!
//! Binary COPY data is decoded here, each field by the bind-parameter decoder of its column's
//! type (`decode.rs`), and handed to the session as the text COPY data of the same rows (the
//! text form of every value reads back as that value).

use super::Connection;
use super::decode::decode_param;
use super::encode::{copy_row, error_info};
use super::simple::wire_status;
use crate::coord::AdapterError;
use crate::expr::EvalError;
use crate::repr::copy_format::{BinaryCopyReader, CopyFormat};
use crate::repr::{Row, ScalarType};
use crate::sql::PlanError;
use crate::sql::plan::CopyFromTarget;
use async_trait::async_trait;
use futures::Sink;
use futures::SinkExt;
use pgwire::api::ClientInfo;
use pgwire::api::copy::CopyHandler;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyFail};
use pgwire::messages::response::CommandComplete;
use std::fmt::Debug;

/// The most data one COPY may send: it is held in memory until CopyDone.
const MAX_COPY_BYTES: usize = 1 << 30;

pub struct PendingCopy {
    target: CopyFromTarget,
    data: Vec<u8>,
    /// Set when the data went over the limit: the rest is dropped and CopyDone fails.
    too_large: bool,
}

impl PendingCopy {
    pub fn new(target: CopyFromTarget) -> PendingCopy {
        PendingCopy {
            target,
            data: Vec::new(),
            too_large: false,
        }
    }
}

fn pg_error(e: &AdapterError) -> PgWireError {
    PgWireError::UserError(Box::new(error_info(e)))
}

/// The text COPY data of the rows in binary COPY data `data` for `target`.
fn binary_to_text(target: &CopyFromTarget, data: &[u8]) -> Result<Vec<u8>, AdapterError> {
    let types: Vec<ScalarType> = target
        .columns
        .iter()
        .map(|c| target.desc.types[*c].scalar_type.clone())
        .collect();
    let mut reader = BinaryCopyReader::new(data).map_err(AdapterError::BadCopyFormat)?;
    let text = CopyFormat::text();
    let mut out = Vec::with_capacity(data.len());
    while let Some(fields) = reader
        .next_tuple(types.len())
        .map_err(AdapterError::BadCopyFormat)?
    {
        let mut datums = Vec::with_capacity(fields.len());
        for (i, (field, typ)) in fields.into_iter().zip(&types).enumerate() {
            let column = &target.desc.names[target.columns[i]];
            let datum = decode_param(field, typ, true).map_err(|e| {
                let context = format!(
                    "COPY {}, line {}, column {column}",
                    target.table,
                    reader.line()
                );
                match e {
                    // The decoder's message speaks of a bind parameter.
                    AdapterError::Eval(EvalError::InvalidParameter { message }) => {
                        AdapterError::CopyBinaryField {
                            message: message.replacen(
                                " in bind parameter of type ",
                                " for type ",
                                1,
                            ),
                            context,
                        }
                    }
                    AdapterError::Eval(source) => AdapterError::CopyField { source, context },
                    AdapterError::Plan(PlanError::Unsupported(_)) => {
                        AdapterError::Plan(PlanError::unsupported(format!(
                            "binary COPY FROM into column \"{column}\" of type {}",
                            typ.sql_name()
                        )))
                    }
                    other => other,
                }
            })?;
            datums.push(datum);
        }
        out.extend(copy_row(&Row::new(datums), &types, &text));
    }
    Ok(out)
}

#[async_trait]
impl CopyHandler for Connection {
    async fn on_copy_data<C>(&self, _client: &mut C, copy_data: CopyData) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        if let Some(pending) = self.copy.lock().await.as_mut() {
            if pending.data.len() + copy_data.data.len() > MAX_COPY_BYTES {
                pending.too_large = true;
                pending.data.clear();
            } else if !pending.too_large {
                pending.data.extend_from_slice(&copy_data.data);
            }
        }
        Ok(())
    }

    async fn on_copy_done<C>(&self, client: &mut C, _done: CopyDone) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Some(pending) = self.copy.lock().await.take() else {
            return Err(pg_error(&AdapterError::Internal(
                "COPY data without a COPY in progress".into(),
            )));
        };
        let prepared = if pending.too_large {
            Err(AdapterError::Storage {
                message: format!(
                    "COPY data larger than {MAX_COPY_BYTES} bytes; split it into several COPY statements"
                ),
                code: "54000",
            })
        } else if pending.target.format.is_binary() {
            binary_to_text(&pending.target, &pending.data).map(|text| {
                let target = CopyFromTarget {
                    format: CopyFormat::text(),
                    ..pending.target
                };
                (target, text)
            })
        } else {
            Ok((pending.target, pending.data))
        };
        let mut guard = self.session.lock().await;
        let session = guard.as_mut().ok_or(PgWireError::NotReadyForQuery)?;
        let (target, data) = match prepared {
            Ok(prepared) => prepared,
            Err(e) => {
                // The COPY failed as a statement would: an open block is aborted.
                session.fail_block();
                client.set_transaction_status(wire_status(session.transaction_status()));
                return Err(pg_error(&e));
            }
        };
        let result = session.copy_in(&target, &data).await;
        client.set_transaction_status(wire_status(session.transaction_status()));
        match result {
            Ok(crate::coord::ExecuteResponse::Command { tag }) => {
                client
                    .feed(PgWireBackendMessage::CommandComplete(CommandComplete::new(
                        tag,
                    )))
                    .await?;
                Ok(())
            }
            Ok(_) => Err(pg_error(&AdapterError::Internal(
                "unexpected result of COPY".into(),
            ))),
            Err(e) => Err(pg_error(&e)),
        }
    }

    async fn on_copy_fail<C>(&self, _client: &mut C, fail: CopyFail) -> PgWireError
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        self.copy.lock().await.take();
        if let Some(session) = self.session.lock().await.as_mut() {
            session.fail_block();
        }
        pg_error(&AdapterError::Internal(format!(
            "COPY from stdin failed: {}",
            fail.message
        )))
    }
}
