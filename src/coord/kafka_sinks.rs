//! Kafka sinks in the coordinator: each sink is a subscription dataflow over its relation
//! (snapshot first, then every change) feeding the sink's thread (`storage::kafka::sink`),
//! which writes the topic in transactions. Created after the broker answers (like
//! connections); restarted with the server, when the thread reads the topic back and
//! writes only what differs from the relation.

use super::coordinator::Coordinator;
use super::error::Result;
use crate::catalog::CatalogItem;
use crate::dataflow::command::{DataflowDesc, DataflowExport, WorkerCommand};
use crate::expr::RelationExpr;
use crate::repr::GlobalId;
use crate::storage::kafka::sink::{KafkaSink, SinkStart};

impl Coordinator {
    /// Starts sink `id` (in the catalog): its dataflow and its thread.
    pub(super) fn start_sink(&mut self, id: GlobalId) -> Result<()> {
        let Some(entry) = self.catalog.get(id) else {
            return Ok(());
        };
        let CatalogItem::Sink { spec } = &entry.item else {
            return Ok(());
        };
        let spec = spec.clone();
        let name = entry.name.clone();
        let client = self
            .connection_of(spec.connection)
            .and_then(|c| self.kafka_client_settings(&c))?;
        let expr = match self.catalog.get(spec.from).map(|e| &e.item) {
            Some(CatalogItem::View { expr, .. }) => expr.clone(),
            Some(item) => RelationExpr::global_get(
                spec.from,
                item.desc().map(|d| d.types.clone()).unwrap_or_default(),
            ),
            None => {
                return Err(super::error::AdapterError::Internal(format!(
                    "the relation of sink {name} is missing"
                )));
            }
        };
        let expr = crate::optimize::optimize(expr, &self.catalog);
        let (tx, events) = tokio::sync::mpsc::unbounded_channel();
        let sink = KafkaSink::start(SinkStart {
            client,
            spec,
            events,
            transactional_id: format!("freshet-sink-{id}"),
            name: name.clone(),
        })
        .map_err(|e| {
            super::error::AdapterError::Internal(format!("cannot start sink {name}: {e}"))
        })?;
        self.cluster
            .send(WorkerCommand::CreateDataflow(Box::new(DataflowDesc {
                debug_name: format!("sink-{name}"),
                id,
                expr,
                as_of: self.oracle.read_ts(),
                export: DataflowExport::Subscribe { snapshot: true, tx },
            })));
        self.sinks.insert(id, sink);
        Ok(())
    }

    /// Stops sink `id` (being dropped): its dataflow and its thread.
    pub(super) fn stop_sink(&mut self, id: GlobalId) {
        if self.sinks.remove(&id).is_some() {
            self.cluster.send(WorkerCommand::Drop { id });
        }
    }
}
