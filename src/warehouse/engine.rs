//! The DataFusion engine every command runs on: one session configuration for this machine,
//! with a bounded memory pool that spills to disk.
use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::execution::disk_manager::DiskManagerBuilder;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

/// Memory DataFusion may use before spilling to disk: keeps a run under the 512 MiB budget.
pub const MEMORY_LIMIT: usize = 256 << 20;

/// A session sized for this machine, with a bounded memory pool that spills to disk.
pub fn new_context() -> SessionContext {
    context_with_memory(MEMORY_LIMIT)
}

pub fn context_with_memory(limit: usize) -> SessionContext {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let config = SessionConfig::new()
        .with_target_partitions(threads)
        .with_information_schema(true)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        // Strings as `Utf8`, as the call schema declares them (delta-rs follows this setting).
        .set_bool("datafusion.execution.parquet.schema_force_view_types", false);
    let pool = TrackConsumersPool::new(FairSpillPool::new(limit), NonZeroUsize::new(5).expect("non-zero"));
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(pool))
        .with_disk_manager_builder(DiskManagerBuilder::default())
        .build_arc()
        .expect("runtime env");
    // delta-rs's planner: it plans the write nodes of a Delta commit (`tag`) and defers to
    // DataFusion's for everything else.
    let state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_query_planner(deltalake::delta_datafusion::planner::DeltaPlanner::new())
        .build();
    SessionContext::new_with_state(state)
}
