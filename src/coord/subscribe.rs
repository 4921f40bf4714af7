//! SUBSCRIBE: a transient dataflow streams a query's changes; each change becomes a row
//! `(mz_timestamp, [mz_progressed,] mz_diff, columns...)`. With PROGRESS, a row with
//! `mz_progressed = true` (and NULL elsewhere) says every change before its timestamp was sent.
//!
//! The stream to the client is bounded: a slow client slows its own subscription only. When
//! the client goes away (the stream's receiver is dropped) or cancels, the dataflow is dropped.

use super::coordinator::{Coordinator, Message};
use super::error::{AdapterError, Result};
use super::{ExecuteResponse, SessionInfo};
use crate::dataflow::command::{DataflowDesc, DataflowExport, SubscribeEvent, WorkerCommand};
use crate::expr::RelationExpr;
use crate::repr::{ColumnType, Datum, RelationDesc, Row, ScalarType};
use rust_decimal::Decimal;
use tokio::sync::mpsc;

/// Batches buffered for a client that reads slower than its subscription produces.
const SUBSCRIBE_BUFFER_BATCHES: usize = 64;

/// The columns of a subscription's rows.
pub fn subscribe_desc(desc: &RelationDesc, progress: bool) -> RelationDesc {
    let mut names = vec!["mz_timestamp".to_string()];
    let mut types = vec![ColumnType::new(ScalarType::Numeric { typmod: None }, false)];
    if progress {
        names.push("mz_progressed".into());
        types.push(ColumnType::new(ScalarType::Bool, false));
    }
    names.push("mz_diff".into());
    types.push(ColumnType::new(ScalarType::Int64, progress));
    for (name, typ) in desc.iter() {
        names.push(name.clone());
        types.push(ColumnType::new(
            typ.scalar_type.clone(),
            typ.nullable || progress,
        ));
    }
    RelationDesc::new(names, types)
}

impl Coordinator {
    pub(super) fn sequence_subscribe(
        &mut self,
        session: &SessionInfo,
        expr: RelationExpr,
        desc: RelationDesc,
        snapshot: bool,
        progress: bool,
        copy: bool,
    ) -> Result<ExecuteResponse> {
        let expr = crate::optimize::optimize(expr, &self.catalog);
        let id = self.transient_id();
        let as_of = self.oracle.read_ts();
        let (event_tx, mut events) = mpsc::unbounded_channel();
        self.cluster
            .send(WorkerCommand::CreateDataflow(Box::new(DataflowDesc {
                debug_name: format!("subscribe-{id}"),
                id,
                expr,
                as_of,
                export: DataflowExport::Subscribe {
                    snapshot,
                    tx: event_tx,
                },
            })));
        self.subscribes.insert(id, session.conn_id);
        let arity = desc.arity();
        let (out_tx, out_rx) = mpsc::channel(SUBSCRIBE_BUFFER_BATCHES);
        let mut cancel = self.cancel_watch(session.conn_id);
        let internal = self.internal_tx.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    event = events.recv() => {
                        let batch = match event {
                            Some(SubscribeEvent::Updates(updates)) => Ok(updates
                                .into_iter()
                                .map(|(ts, row, diff)| {
                                    let mut datums = vec![Datum::Numeric(Decimal::from(ts))];
                                    if progress {
                                        datums.push(Datum::Bool(false));
                                    }
                                    datums.push(Datum::Int64(diff));
                                    datums.extend(row.into_datums());
                                    Row::new(datums)
                                })
                                .collect::<Vec<_>>()),
                            Some(SubscribeEvent::Progress(ts)) if progress => {
                                let mut datums = vec![Datum::Numeric(Decimal::from(ts)), Datum::Bool(true), Datum::Null];
                                datums.extend(std::iter::repeat_n(Datum::Null, arity));
                                Ok(vec![Row::new(datums)])
                            }
                            Some(SubscribeEvent::Progress(_)) => continue,
                            Some(SubscribeEvent::Error(e)) => Err(AdapterError::from(e)),
                            None => break,
                        };
                        let failed = batch.is_err();
                        if matches!(&batch, Ok(rows) if rows.is_empty()) {
                            continue;
                        }
                        if out_tx.send(batch).await.is_err() || failed {
                            break;
                        }
                    }
                    _ = cancel.changed() => {
                        let _ = out_tx.send(Err(AdapterError::Canceled)).await;
                        break;
                    }
                    _ = out_tx.closed() => break,
                }
            }
            let _ = internal.send(Message::SubscribeDone { id });
        });
        let desc = subscribe_desc(&desc, progress);
        let out_rx = super::client::SubscribeStream::new(out_rx);
        Ok(if copy {
            ExecuteResponse::CopyOut {
                desc,
                stream: out_rx,
            }
        } else {
            ExecuteResponse::Subscribe {
                desc,
                stream: out_rx,
            }
        })
    }
}
