//! Catalog items and what each knows about itself.

use crate::expr::{RelationExpr, ScalarExpr};
use crate::repr::{GlobalId, RelationDesc};
use crate::storage::kafka::{KafkaConnection, KafkaSourceSpec};
use crate::storage::load_generator::LoadGeneratorSpec;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CatalogEntry {
    pub id: GlobalId,
    pub name: String,
    /// The statement that created the item, as the user wrote it.
    pub create_sql: String,
    pub item: CatalogItem,
}

/// A PRIMARY KEY or UNIQUE constraint of a table: no two rows have equal values in
/// `columns`, where a row with a NULL in any of them never conflicts (PostgreSQL's NULLS
/// DISTINCT). A primary key's columns are NOT NULL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UniqueKey {
    /// The constraint's name (`t_pkey`, `t_a_key`, or as written).
    pub name: String,
    /// Column positions, in key order.
    pub columns: Vec<usize>,
    pub primary: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum CatalogItem {
    Table {
        desc: RelationDesc,
        /// Per column: the SQL text of its DEFAULT expression, planned at each INSERT.
        defaults: Vec<Option<String>>,
        /// PRIMARY KEY (first, if any) and UNIQUE constraints, enforced on every write.
        keys: Vec<UniqueKey>,
    },
    /// A view is inlined into every query that reads it (unless it has an index).
    View {
        desc: RelationDesc,
        expr: RelationExpr,
    },
    /// A materialized view is computed by its own dataflow and arranged by its whole row.
    MaterializedView {
        desc: RelationDesc,
        expr: RelationExpr,
    },
    /// An index arranges `on` by `keys`; for a view, it also materializes the view.
    Index {
        on: GlobalId,
        keys: Vec<ScalarExpr>,
        key_sql: Vec<String>,
        /// For `CREATE UNIQUE INDEX` on a table: the key it enforces on the table's writes
        /// (its columns are `keys`, which are then plain column references).
        unique: Option<UniqueKey>,
    },
    /// A relation fed by a source (a load generator or a Kafka topic): stored in a shard like
    /// a table's, but written only by its source. The item a `CREATE SOURCE` names carries
    /// what feeds it (`generator` or `kafka` is `Some`); the other relations of the same
    /// source name it as `owner`.
    Source {
        desc: RelationDesc,
        generator: Option<LoadGeneratorSpec>,
        owner: Option<GlobalId>,
        output: SourceOutput,
        kafka: Option<Box<KafkaSourceSpec>>,
    },
    /// `CREATE CONNECTION ... TO KAFKA`: how to reach a Kafka cluster.
    Connection { kafka: KafkaConnection },
    /// `CREATE SECRET`: a value that connections use without showing it.
    Secret { value: String },
    /// `CREATE SINK ... INTO KAFKA`: the changes of a relation written to a topic.
    Sink {
        spec: crate::storage::kafka::sink::KafkaSinkSpec,
    },
    /// `CREATE SEQUENCE`, or the sequence behind a `serial` or identity column (which it is
    /// `owned_by`). Its position is not part of the item: see `coord::sequences`. (Last, so
    /// that stored items keep their variant numbers.)
    Sequence(SequenceSpec),
}

/// What defines a sequence: the values it hands out are `start`, `start + increment`, ...
/// within `min ..= max`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceSpec {
    /// `smallint`, `integer` or `bigint`: the type of its values, which bounds them.
    pub typ: crate::repr::ScalarType,
    pub start: i64,
    /// Never 0.
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    /// Past `max` (or `min`, going down) start again from the other end, or fail.
    pub cycle: bool,
    /// The table column it belongs to (`serial`, identity, `OWNED BY`): dropped with that
    /// table.
    pub owned_by: Option<(GlobalId, usize)>,
    /// For an identity column: whether it is `GENERATED ALWAYS` (refusing values of the
    /// user's) rather than `BY DEFAULT`.
    pub identity: Option<Identity>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Identity {
    Always,
    ByDefault,
}

/// Which of its source's relations an item is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceOutput {
    /// The generator's `i`-th output.
    Data(usize),
    /// How far the source has ingested.
    Progress,
    /// Records the source could not decode.
    Errors,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Table,
    View,
    MaterializedView,
    Index,
    Source,
    Connection,
    Secret,
    Sink,
    Sequence,
}

impl ItemKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ItemKind::Table => "table",
            ItemKind::View => "view",
            ItemKind::MaterializedView => "materialized view",
            ItemKind::Index => "index",
            ItemKind::Source => "source",
            ItemKind::Connection => "connection",
            ItemKind::Secret => "secret",
            ItemKind::Sink => "sink",
            ItemKind::Sequence => "sequence",
        }
    }
}

impl CatalogItem {
    pub fn kind(&self) -> ItemKind {
        match self {
            CatalogItem::Table { .. } => ItemKind::Table,
            CatalogItem::View { .. } => ItemKind::View,
            CatalogItem::MaterializedView { .. } => ItemKind::MaterializedView,
            CatalogItem::Index { .. } => ItemKind::Index,
            CatalogItem::Source { .. } => ItemKind::Source,
            CatalogItem::Connection { .. } => ItemKind::Connection,
            CatalogItem::Secret { .. } => ItemKind::Secret,
            CatalogItem::Sink { .. } => ItemKind::Sink,
            CatalogItem::Sequence(_) => ItemKind::Sequence,
        }
    }

    /// The relation's columns; `None` for an index, a connection or a secret.
    pub fn desc(&self) -> Option<&RelationDesc> {
        match self {
            CatalogItem::Table { desc, .. }
            | CatalogItem::View { desc, .. }
            | CatalogItem::MaterializedView { desc, .. }
            | CatalogItem::Source { desc, .. } => Some(desc),
            CatalogItem::Index { .. }
            | CatalogItem::Connection { .. }
            | CatalogItem::Secret { .. }
            | CatalogItem::Sink { .. }
            | CatalogItem::Sequence(_) => None,
        }
    }

    /// For a sequence owned by a table column: that (table, column).
    pub fn sequence_owner(&self) -> Option<(GlobalId, usize)> {
        match self {
            CatalogItem::Sequence(spec) => spec.owned_by,
            _ => None,
        }
    }

    /// The items this one reads.
    pub fn uses(&self) -> BTreeSet<GlobalId> {
        match self {
            CatalogItem::Table { .. } => BTreeSet::new(),
            CatalogItem::View { expr, .. } | CatalogItem::MaterializedView { expr, .. } => {
                expr.global_ids()
            }
            CatalogItem::Index { on, .. } => [*on].into_iter().collect(),
            CatalogItem::Source { owner, kafka, .. } => owner
                .iter()
                .copied()
                .chain(kafka.iter().map(|k| k.connection))
                .collect(),
            CatalogItem::Connection { kafka } => kafka.secrets().collect(),
            CatalogItem::Secret { .. } => BTreeSet::new(),
            CatalogItem::Sink { spec } => [spec.from, spec.connection].into_iter().collect(),
            // A sequence reads nothing. The table it is `owned_by` was created after it (so
            // it cannot be a dependency); dropping that table drops it (`drop_closure`).
            CatalogItem::Sequence(_) => BTreeSet::new(),
        }
    }
}
