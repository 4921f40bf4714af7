//! One timely worker: its loop, table inputs, dataflows and pending peeks.
//!
//! Loop: step the dataflows (parking when idle), apply every queued command, answer the
//! peeks whose arrangements are now complete through their timestamp.

use super::command::{DataflowDesc, Peek, WorkerCommand};
use super::traces::{TraceBundle, TraceManager};
use crate::repr::{Diff, GlobalId, Row, Timestamp};
use differential_dataflow::input::InputSession;
use differential_dataflow::trace::TraceReader;
use std::collections::BTreeMap;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::Duration;
use timely::progress::Antichain;
use timely::worker::Worker;

/// How long an idle worker parks before checking its queue anyway (commands also unpark it).
const PARK: Duration = Duration::from_millis(100);

pub(super) struct WorkerState {
    pub traces: TraceManager,
    tables: BTreeMap<GlobalId, InputSession<Timestamp, Row, Diff>>,
    /// Timely dataflow indices of each dataflow we built, to drop them.
    dataflows: BTreeMap<GlobalId, usize>,
    pending_peeks: Vec<Peek>,
    /// The time every table input is at.
    table_time: Timestamp,
}

pub(super) fn run(worker: &mut Worker, commands: Receiver<WorkerCommand>) {
    let mut state = WorkerState {
        traces: TraceManager::default(),
        tables: BTreeMap::new(),
        dataflows: BTreeMap::new(),
        pending_peeks: Vec::new(),
        table_time: 0,
    };
    loop {
        worker.step_or_park(Some(PARK));
        loop {
            match commands.try_recv() {
                Ok(cmd) => state.handle(worker, cmd),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        state.process_peeks();
    }
}

impl WorkerState {
    fn handle(&mut self, worker: &mut Worker, cmd: WorkerCommand) {
        match cmd {
            WorkerCommand::CreateTable { id, as_of } => self.create_table(worker, id, as_of),
            WorkerCommand::AppendTables {
                ts,
                updates,
                advance_to,
            } => {
                let mut updates: BTreeMap<GlobalId, Vec<(Row, Diff)>> =
                    updates.into_iter().collect();
                for (id, input) in self.tables.iter_mut() {
                    if let Some(rows) = updates.remove(id) {
                        let at = ts.max(*input.time());
                        for (row, diff) in rows {
                            input.update_at(row, at, diff);
                        }
                    }
                    if advance_to > *input.time() {
                        input.advance_to(advance_to);
                    }
                    input.flush();
                }
                self.table_time = self.table_time.max(advance_to);
            }
            WorkerCommand::CreateDataflow(desc) => self.create_dataflow(worker, *desc),
            WorkerCommand::Peek(peek) => self.pending_peeks.push(peek),
            WorkerCommand::Drop { id } => {
                self.tables.remove(&id);
                self.traces.traces.remove(&id);
                if let Some(index) = self.dataflows.remove(&id) {
                    worker.drop_dataflow(index);
                }
                // Peeks on a dropped collection can never be answered.
                self.pending_peeks.retain(|p| {
                    if p.id == id {
                        let _ = p.tx.send(super::command::PeekResponse::Error(
                            crate::expr::EvalError::Internal(format!(
                                "{id} was dropped while being read"
                            )),
                        ));
                        false
                    } else {
                        true
                    }
                });
            }
            WorkerCommand::AllowCompaction { id, since } => {
                if let Some(bundle) = self.traces.get_mut(&id) {
                    let frontier = Antichain::from_elem(since);
                    bundle.oks.set_logical_compaction(frontier.borrow());
                    bundle.oks.set_physical_compaction(frontier.borrow());
                    bundle.errs.set_logical_compaction(frontier.borrow());
                    bundle.errs.set_physical_compaction(frontier.borrow());
                }
            }
        }
    }

    fn create_table(&mut self, worker: &mut Worker, id: GlobalId, as_of: Timestamp) {
        let mut input = InputSession::new();
        let (oks, errs) =
            worker.dataflow_named::<Timestamp, _, _>(&format!("table-{id}"), |scope| {
                let rows = input.to_collection(scope);
                let oks = rows
                    .clone()
                    .map(|row| (row, Row::empty()))
                    .arrange_by_key_named("table");
                let errs = rows
                    .flat_map(|_| None::<crate::expr::EvalError>)
                    .arrange_by_self_named("table errors");
                (oks.trace, errs.trace)
            });
        let start = as_of.max(self.table_time);
        input.advance_to(start);
        input.flush();
        self.tables.insert(id, input);
        self.traces.traces.insert(
            id,
            TraceBundle {
                oks,
                errs,
                key: vec![],
                source: None,
                is_table: true,
            },
        );
    }

    fn create_dataflow(&mut self, worker: &mut Worker, desc: DataflowDesc) {
        let index = worker.next_dataflow_index();
        let worker_index = worker.index();
        let id = desc.id;
        let name = desc.debug_name.clone();
        let published = worker.dataflow_named::<Timestamp, _, _>(&name, |scope| {
            super::render::build(scope, desc, &mut self.traces, worker_index)
        });
        if let Some(bundle) = published {
            self.traces.traces.insert(id, bundle);
        }
        self.dataflows.insert(id, index);
    }

    /// Answers every pending peek whose arrangement is complete through its timestamp.
    fn process_peeks(&mut self) {
        let traces = &mut self.traces;
        self.pending_peeks
            .retain_mut(|peek| match traces.get_mut(&peek.id) {
                None => {
                    let _ = peek.tx.send(super::command::PeekResponse::Error(
                        crate::expr::EvalError::Internal(format!(
                            "{} is not available to read",
                            peek.id
                        )),
                    ));
                    false
                }
                Some(bundle) => !super::peek::try_answer(peek, bundle),
            });
    }
}
