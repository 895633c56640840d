"""The same ingest + tag job as `callsift ingest` + `callsift tag --scenarios all`, done in DuckDB.

Used by `cargo bench` (benches/ingest.rs) for a side-by-side throughput comparison. It does the
equivalent work on the same export: read the CSV (all text), parse the 12-hour local timestamps,
convert America/Denver -> UTC, join the crosswalk on the normalised call type, map call source and
priority, merge unit rows into incidents, write hive-partitioned Parquet (zstd), then tag every
call under the 8 scenarios of the standard policy and write the eligibility Parquet.

usage: python3 duckdb_equivalent.py EXPORT.csv CROSSWALK.csv OUT_DIR
"""
import sys, time, duckdb

src, crosswalk, out = sys.argv[1:4]
con = duckdb.connect()
con.execute("SET threads = 2; SET memory_limit = '512MB'; SET preserve_insertion_order = false")
t0 = time.time()
con.execute(f"""
CREATE TABLE cw AS SELECT upper(regexp_replace(trim(raw_type), '\\s+', ' ', 'g')) AS k, * FROM read_csv('{crosswalk}', all_varchar = true);
""")
con.execute(f"""
COPY (
  WITH raw AS (
    SELECT * FROM read_csv('{src}', all_varchar = true, ignore_errors = true, null_padding = false, strict_mode = false)
  ),
  parsed AS (
    SELECT incident_number AS call_id, unit_id,
           try_strptime(call_received, '%m/%d/%Y %I:%M:%S %p') AS rl,
           try_strptime(dispatched, '%m/%d/%Y %I:%M:%S %p') AS dl,
           try_strptime(on_scene, '%m/%d/%Y %I:%M:%S %p') AS al,
           try_strptime(cleared, '%m/%d/%Y %I:%M:%S %p') AS cl,
           call_source, initial_type, final_type, trim(priority) AS priority_raw, disposition, district, beat, block_address
    FROM raw WHERE incident_number IS NOT NULL
  ),
  ok AS (SELECT * FROM parsed WHERE rl IS NOT NULL),
  merged AS (
    SELECT call_id, min(rl) AS rl, min(dl) AS dl, min(al) AS al, max(cl) AS cl, count(*) AS units,
           bool_or(unit_id LIKE 'CR%') AS community_responder,
           sum(date_diff('second', dl, cl)) / 60.0 AS unit_busy_minutes,
           any_value(call_source) AS call_source, any_value(initial_type) AS initial_type, any_value(final_type) AS final_type,
           any_value(priority_raw) AS priority_raw, any_value(disposition) AS disposition_raw,
           any_value(district) AS district, any_value(beat) AS beat, any_value(block_address) AS address
    FROM ok GROUP BY call_id
  )
  SELECT m.call_id, 'callsift_sample' AS source,
         timezone('America/Denver', m.rl) AS received_at, m.rl AS received_local,
         timezone('America/Denver', m.dl) AS dispatched_at, timezone('America/Denver', m.al) AS arrived_at,
         timezone('America/Denver', m.cl) AS cleared_at,
         m.initial_type, m.final_type, m.initial_type AS call_type, cw.category, cw.k IS NOT NULL AS type_mapped,
         m.priority_raw, try_cast(regexp_extract(m.priority_raw, '^[0-9]+') AS INTEGER) AS priority,
         CASE upper(m.call_source) WHEN '911' THEN '911' WHEN 'TEXT' THEN '911' WHEN 'PHONE' THEN 'non_emergency'
              WHEN 'ALARM' THEN 'alarm' WHEN 'ONVIEW' THEN 'officer_initiated' ELSE 'other' END AS call_source,
         upper(m.call_source) = 'ONVIEW' AS self_initiated, 'unknown' AS caller_party,
         try_cast(cw.third_party_likelihood AS DOUBLE) AS third_party_p,
         m.disposition_raw, m.district, m.beat, m.address, m.units, m.community_responder, m.unit_busy_minutes,
         coalesce(cw.weapon = '1', false) AS weapon, coalesce(cw.violence = '1', false) AS violence,
         coalesce(cw.medical = '1', false) AS medical, coalesce(cw.in_progress = '1', false) AS in_progress,
         coalesce(cw.bh_nexus = '1', false) AS bh_nexus, coalesce(cw.conflict = '1', false) AS conflict,
         coalesce(cw.police_type = '1', false) AS police_type,
         year(m.rl) AS year, month(m.rl) AS month
  FROM merged m LEFT JOIN cw ON cw.k = upper(regexp_replace(trim(m.initial_type), '\\s+', ' ', 'g'))
) TO '{out}/calls' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month), OVERWRITE_OR_IGNORE true)
""")
t1 = time.time()
scen = {
    "broad": [], "no_police_types": ["l0"], "no_third_party": ["l1"], "bh_nexus_required": ["l2"],
    "no_police_types+no_third_party": ["l0", "l1"], "no_police_types+bh_nexus_required": ["l0", "l2"],
    "no_third_party+bh_nexus_required": ["l1", "l2"], "narrowest": ["l0", "l1", "l2"],
}
names = {"l0": "no_police_types", "l1": "no_third_party", "l2": "bh_nexus_required"}
branches = []
for s, lims in scen.items():
    arms = " ".join(f"WHEN {l} THEN 'limited:{names[l]}'" for l in lims)
    unknown = "u1" if "l1" in lims else "false"
    p = "(CASE WHEN u1 THEN 1.0 - p1 ELSE 1.0 END)" if "l1" in lims else "1.0"
    branches.append(f"""SELECT call_id, '{s}' AS scenario,
      CASE WHEN x_self THEN 'excluded_self_initiated' WHEN x_info THEN 'insufficient_info'
           WHEN d0 THEN 'disqualified:weapon' WHEN d1 THEN 'disqualified:violence' WHEN d2 THEN 'disqualified:medical'
           WHEN d3 THEN 'disqualified:in_progress' WHEN d4 THEN 'disqualified:top_priority'
           WHEN NOT s_scope THEN 'out_of_scope' {arms} ELSE 'eligible' END AS reason, {unknown} AS unknown, {p} AS p FROM r""")
con.execute(f"""
COPY (
  WITH r AS (
    SELECT call_id, coalesce(self_initiated, false) AS x_self, coalesce(NOT type_mapped, false) AS x_info,
           coalesce(weapon, false) AS d0, coalesce(violence, false) AS d1, coalesce(medical, false) AS d2,
           coalesce(in_progress, false) AS d3, coalesce(priority = 1, false) AS d4,
           coalesce(category = 'Behavioral Health' OR bh_nexus OR police_type, false) AS s_scope,
           coalesce(police_type AND NOT bh_nexus AND category <> 'Behavioral Health', false) AS l0,
           coalesce(caller_party = 'third', false) AS l1, coalesce(caller_party = 'unknown', false) AS u1,
           least(greatest(coalesce(third_party_p, 0.5), 0.0), 1.0) AS p1,
           coalesce(conflict AND NOT bh_nexus, false) AS l2
    FROM read_parquet('{out}/calls/*/*/*.parquet', hive_partitioning = true)
  ), s AS ({' UNION ALL '.join(branches)})
  SELECT call_id, scenario, reason = 'eligible' AS eligible, reason, split_part(reason, ':', 1) AS outcome,
         nullif(split_part(reason, ':', 2), '') AS rule, reason = 'eligible' AND unknown AS estimated,
         CASE WHEN reason = 'eligible' THEN p ELSE 0.0 END AS p_eligible
  FROM s
) TO '{out}/eligibility' (FORMAT parquet, COMPRESSION zstd, PER_THREAD_OUTPUT true, OVERWRITE_OR_IGNORE true)
""")
t2 = time.time()
calls = con.execute(f"SELECT count(*) FROM read_parquet('{out}/calls/*/*/*.parquet')").fetchone()[0]
print(f"duckdb {duckdb.__version__}: ingest {t1 - t0:.2f}s, tag {t2 - t1:.2f}s, total {t2 - t0:.2f}s, calls {calls}")
