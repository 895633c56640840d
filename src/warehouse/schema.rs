//! The canonical call schema: one row per incident, whatever the source layout.
//! Documented for analysts in docs/schema.md — keep the two in step.
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Partition columns of the `calls` table (hive style `year=YYYY/month=MM`, local time of receipt).
pub const CALL_PARTITIONS: [&str; 2] = ["year", "month"];

/// Disqualifier / nexus flags carried from the crosswalk (or the classifier) onto each call.
pub const FLAGS: [&str; 9] = [
    "weapon",
    "violence",
    "medical",
    "in_progress",
    "imminent_danger",
    "insufficient_info",
    "bh_nexus",
    "conflict",
    "police_type",
];

/// The flags by name, so code says `Flag::BhNexus` rather than an index; `Flag as usize` indexes
/// arrays in the order of [`FLAGS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Weapon,
    Violence,
    Medical,
    InProgress,
    ImminentDanger,
    InsufficientInfo,
    BhNexus,
    Conflict,
    PoliceType,
}

impl Flag {
    pub fn name(self) -> &'static str {
        FLAGS[self as usize]
    }
}

pub const CALL_SOURCES: [&str; 6] = ["911", "non_emergency", "officer_initiated", "alarm", "other", "unknown"];
pub const CALLER_PARTIES: [&str; 3] = ["first", "third", "unknown"];
pub const RESPONDER_TYPES: [&str; 5] = ["police", "fire", "ems", "community_responder", "other"];

fn utc() -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
}

/// Columns stored in the Parquet files of `calls/` (partition columns excluded).
pub fn call_file_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new("call_id", DataType::Utf8, false),
        Field::new("source", DataType::Utf8, false),
        Field::new("ingest_id", DataType::Utf8, false),
        Field::new("received_at", utc(), false),
        Field::new("received_local", DataType::Timestamp(TimeUnit::Microsecond, None), false),
        Field::new("dispatched_at", utc(), true),
        Field::new("arrived_at", utc(), true),
        Field::new("cleared_at", utc(), true),
        Field::new("initial_type", DataType::Utf8, true),
        Field::new("final_type", DataType::Utf8, true),
        Field::new("call_type", DataType::Utf8, true),
        Field::new("category", DataType::Utf8, true),
        Field::new("type_mapped", DataType::Boolean, false),
        Field::new("category_source", DataType::Utf8, false),
        Field::new("category_rule", DataType::Utf8, true),
        Field::new("category_confidence", DataType::Float64, true),
        Field::new("priority_raw", DataType::Utf8, true),
        Field::new("priority", DataType::Int32, true),
        Field::new("call_source", DataType::Utf8, false),
        Field::new("self_initiated", DataType::Boolean, false),
        Field::new("caller_party", DataType::Utf8, false),
        Field::new("third_party_p", DataType::Float64, true),
        Field::new("disposition_raw", DataType::Utf8, true),
        Field::new("disposition", DataType::Utf8, true),
        Field::new("district", DataType::Utf8, true),
        Field::new("beat", DataType::Utf8, true),
        Field::new("address", DataType::Utf8, true),
        Field::new("units", DataType::Int32, false),
        Field::new("responder_type", DataType::Utf8, true),
        Field::new("community_responder", DataType::Boolean, false),
        Field::new("unit_busy_minutes", DataType::Float64, true),
    ];
    for f in FLAGS {
        fields.push(Field::new(f, DataType::Boolean, false));
    }
    Arc::new(Schema::new(fields))
}

/// The `calls` table as SQL sees it: file columns plus the partition columns.
pub fn call_table_schema() -> SchemaRef {
    let mut fields: Vec<Field> = call_file_schema().fields().iter().map(|f| f.as_ref().clone()).collect();
    for p in CALL_PARTITIONS {
        fields.push(Field::new(p, DataType::Int32, false));
    }
    Arc::new(Schema::new(fields))
}

/// One row per rejected input row.
pub fn reject_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ingest_id", DataType::Utf8, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("record", DataType::Utf8, false),
    ]))
}

/// One row per (call, scenario).
pub fn eligibility_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("call_id", DataType::Utf8, false),
        Field::new("scenario", DataType::Utf8, false),
        Field::new("eligible", DataType::Boolean, false),
        Field::new("reason", DataType::Utf8, false),
        Field::new("outcome", DataType::Utf8, false),
        Field::new("rule", DataType::Utf8, true),
        Field::new("estimated", DataType::Boolean, false),
        Field::new("p_eligible", DataType::Float64, false),
    ]))
}
