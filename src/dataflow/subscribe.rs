//! The SUBSCRIBE sink: all updates go to worker 0, which sends, each time its input frontier
//! advances, the updates at the times that are now complete (consolidated, in time order),
//! then `Progress(frontier)`. With `snapshot = false`, updates at `as_of` are skipped. Only
//! worker 0 sends anything: another worker's progress could overtake worker 0's updates.

use super::command::SubscribeEvent;
use super::render::{Errs, Oks};
use crate::expr::EvalError;
use crate::repr::{Diff, Row, Timestamp};
use differential_dataflow::consolidation::consolidate_updates;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::generic::Operator;

pub fn sink(
    oks: Oks<'_>,
    errs: Errs<'_>,
    as_of: Timestamp,
    snapshot: bool,
    tx: tokio::sync::mpsc::UnboundedSender<SubscribeEvent>,
    worker_index: usize,
) {
    let updates = oks.map(Ok::<Row, EvalError>).concat(errs.map(Err)).inner;
    let mut pending: Vec<(Result<Row, EvalError>, Timestamp, Diff)> = Vec::new();
    let mut reported: Option<Timestamp> = None;
    let mut closed = false;
    updates.sink(
        Exchange::new(|_: &(Result<Row, EvalError>, Timestamp, Diff)| 0u64),
        "subscribe",
        move |(input, frontier)| {
            input.for_each(|_time, data| pending.append(data));
            if closed || worker_index != 0 {
                pending.clear();
                return;
            }
            let lower = frontier.frontier().iter().min().copied();
            let complete = |t: &Timestamp| lower.is_none_or(|f| *t < f);
            let mut ready: Vec<(Result<Row, EvalError>, Timestamp, Diff)> = Vec::new();
            pending.retain(|(d, t, r)| {
                if complete(t) {
                    ready.push((d.clone(), *t, *r));
                    false
                } else {
                    true
                }
            });
            if !ready.is_empty() {
                consolidate_updates(&mut ready);
                ready.sort_by_key(|(_, t, _)| *t);
                let mut rows = Vec::with_capacity(ready.len());
                for (data, t, diff) in ready {
                    if !snapshot && t <= as_of {
                        continue;
                    }
                    match data {
                        Ok(row) => rows.push((t, row, diff)),
                        Err(e) if diff > 0 => {
                            closed |= tx.send(SubscribeEvent::Error(e)).is_err();
                        }
                        Err(_) => {}
                    }
                }
                if !rows.is_empty() {
                    closed |= tx.send(SubscribeEvent::Updates(rows)).is_err();
                }
            }
            let progress = lower.unwrap_or(Timestamp::MAX);
            if reported != Some(progress) && progress > as_of {
                reported = Some(progress);
                closed |= tx.send(SubscribeEvent::Progress(progress)).is_err();
            }
        },
    );
}
