//! Sources: creating them, and driving load generators.
//!
//! A running generator appends every tick that has come due (`LoadGeneratorSpec::due_ticks`)
//! through the ordinary write queue: the ticks' rows for each output relation and the new
//! value of its progress relation (`ticks`, the number of ticks ingested) in one durable
//! append, so data and progress survive a crash together. One batch per generator is in
//! flight at a time; a failed append (a full disk) is retried from the same tick on a later
//! coordinator tick. On restart the progress relation says where to resume.

use super::coordinator::Coordinator;
use super::error::Result;
use super::write::{Ack, PendingWrite};
use crate::catalog::{CatalogEntry, CatalogItem, SourceOutput};
use crate::repr::{Datum, Diff, GlobalId, RelationDesc, Row};
use crate::storage::CatalogOp;
use crate::storage::load_generator::LoadGeneratorSpec;

/// At most this many ticks go into one append: a generator far behind (after a restart, or
/// with a tiny tick interval) catches up in bounded steps instead of one huge write.
const MAX_TICKS_PER_APPEND: u64 = 1_000;

/// What feeds a new source.
pub enum SourceFeed {
    Generator(LoadGeneratorSpec),
    Kafka(Box<crate::storage::kafka::KafkaSourceSpec>),
}

pub struct RunningGenerator {
    spec: LoadGeneratorSpec,
    /// The relation of each output, in the generator's output order.
    outputs: Vec<GlobalId>,
    progress: GlobalId,
    /// Ticks `< next_tick` are durable.
    next_tick: u64,
    in_flight: bool,
}

impl Coordinator {
    /// `CREATE SOURCE`: every relation of the source, with its shard, in one catalog
    /// transaction; then the generator starts.
    pub(super) async fn create_source(
        &mut self,
        mut feed: SourceFeed,
        relations: Vec<(String, RelationDesc, SourceOutput)>,
        create_sql: String,
    ) -> Result<()> {
        let now = chrono::Utc::now();
        match &mut feed {
            SourceFeed::Generator(spec) => spec.start_micros = now.timestamp_micros(),
            // A negative START TIMESTAMP is relative to now.
            SourceFeed::Kafka(spec) => {
                if let Some(ts) = spec.start_timestamp.as_mut()
                    && *ts < 0
                {
                    *ts += now.timestamp_millis();
                }
            }
        }
        // Another statement may have taken a name while a broker check ran.
        for (name, _, _) in &relations {
            if self.catalog.name_exists(name) {
                return Err(crate::sql::PlanError::AlreadyExists(name.clone()).into());
            }
        }
        let upper = self.oracle.read_ts() + 1;
        let mut entries = Vec::new();
        let mut ops = Vec::new();
        let mut owner = None;
        for (name, desc, output) in relations {
            let id = self.allocate_id();
            let entry = CatalogEntry {
                id,
                name,
                create_sql: create_sql.clone(),
                item: CatalogItem::Source {
                    desc,
                    generator: match &feed {
                        SourceFeed::Generator(spec) if owner.is_none() => Some(spec.clone()),
                        _ => None,
                    },
                    kafka: match &feed {
                        SourceFeed::Kafka(spec) if owner.is_none() => Some(spec.clone()),
                        _ => None,
                    },
                    owner,
                    output,
                },
            };
            owner = owner.or(Some(id));
            ops.push(Self::catalog_put(&entry)?);
            ops.push(CatalogOp::CreateShard { shard: id, upper });
            entries.push(entry);
        }
        self.persist_catalog(ops).await?;
        for entry in entries {
            let id = entry.id;
            self.catalog.insert(entry);
            self.create_table_input(id);
        }
        if let Some(main) = owner {
            match feed {
                SourceFeed::Generator(_) => self.start_generator(main, |_| 0),
                SourceFeed::Kafka(_) => self.start_kafka_source(main, |_| vec![]),
            }
        }
        self.drive_generators();
        Ok(())
    }

    /// Registers the generator of source `main` (its relations are in the catalog), to
    /// continue at the tick `resume` gives for its progress relation.
    pub(super) fn start_generator(&mut self, main: GlobalId, resume: impl FnOnce(GlobalId) -> u64) {
        let Some(CatalogItem::Source {
            generator: Some(spec),
            ..
        }) = self.catalog.get(main).map(|e| &e.item)
        else {
            return;
        };
        let spec = spec.clone();
        let mut outputs = vec![None; spec.kind.outputs().len()];
        let mut progress = None;
        for entry in self.catalog.entries() {
            if let CatalogItem::Source { owner, output, .. } = &entry.item
                && (entry.id == main || *owner == Some(main))
            {
                match output {
                    SourceOutput::Data(i) if *i < outputs.len() => outputs[*i] = Some(entry.id),
                    SourceOutput::Data(_) => {}
                    SourceOutput::Progress => progress = Some(entry.id),
                    SourceOutput::Errors => {}
                }
            }
        }
        let (Some(outputs), Some(progress)) =
            (outputs.into_iter().collect::<Option<Vec<_>>>(), progress)
        else {
            tracing::error!(source = %main, "a source is missing some of its relations; not started");
            return;
        };
        self.generators.insert(
            main,
            RunningGenerator {
                spec,
                outputs,
                progress,
                next_tick: resume(progress),
                in_flight: false,
            },
        );
    }

    /// Queues the ticks that have come due, for every generator with nothing in flight.
    pub(super) fn drive_generators(&mut self) {
        let now = chrono::Utc::now();
        let mut writes = Vec::new();
        for (main, generator) in &mut self.generators {
            let due = generator.spec.due_ticks(now);
            if generator.in_flight || generator.next_tick >= due {
                continue;
            }
            let end = due.min(generator.next_tick + MAX_TICKS_PER_APPEND);
            let mut per_output: Vec<Vec<(Row, Diff)>> = vec![Vec::new(); generator.outputs.len()];
            for tick in generator.next_tick..end {
                for (rows, out) in generator
                    .spec
                    .generate(tick)
                    .into_iter()
                    .zip(&mut per_output)
                {
                    out.extend(rows.into_iter().map(|r| (r, 1)));
                }
            }
            let mut progress = vec![(Row::new(vec![Datum::Int64(end as i64)]), 1)];
            if generator.next_tick > 0 {
                progress.push((Row::new(vec![Datum::Int64(generator.next_tick as i64)]), -1));
            }
            let mut batch: Vec<(GlobalId, Vec<(Row, Diff)>)> = generator
                .outputs
                .iter()
                .copied()
                .zip(per_output)
                .filter(|(_, rows)| !rows.is_empty())
                .collect();
            batch.push((generator.progress, progress));
            generator.in_flight = true;
            writes.push(PendingWrite {
                writes: batch,
                ack: Ack::Generator {
                    source: *main,
                    next_tick: end,
                },
            });
        }
        for write in writes {
            self.queue_write(write);
        }
    }

    /// A generator's append finished: durable through `next_tick`, or failed (`None`).
    pub(super) fn generator_committed(&mut self, source: GlobalId, next_tick: Option<u64>) {
        if let Some(generator) = self.generators.get_mut(&source) {
            generator.in_flight = false;
            if let Some(next) = next_tick {
                generator.next_tick = next;
            }
        }
    }

    /// Where the generator of `main` resumes: the `ticks` its progress relation holds.
    pub(super) fn resume_tick(progress_rows: &[(Row, Diff)]) -> u64 {
        progress_rows
            .iter()
            .filter_map(|(row, diff)| match row.first() {
                Some(Datum::Int64(n)) if *diff > 0 => Some(*n as u64),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }
}
