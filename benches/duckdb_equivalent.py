"""The same ingest + tag job as `callsift ingest --profile P` + `callsift tag --policy standard`, in DuckDB.

Used by `cargo bench --bench ingest` (benches/ingest.rs) for a side-by-side comparison. The layout comes
from the profile TOML (python 3.11 tomllib), so one script serves every built-in layout:
- read the CSV (all text, the profile's delimiter; ragged rows skipped, as callsift rejects them);
- the profile's columns (a list = first present wins, `concat` = joined with a space, `coalesce`,
  `extract`), null values, time formats (tried in order) and IANA zone: local -> UTC;
- the crosswalk joined on the normalised call type (type_basis, falling back to the other type), and
  on the other type for its behavioral-health nexus; codes mapped with the profile's value maps
  (exact / prefix / leading digits, defaults); mapped dispositions in drop_dispositions dropped;
- unit rows merged into calls when the profile has [merge] (first dispatch/arrival, last clear, units,
  community responder, unit busy minutes);
- hive-partitioned Parquet (year, month of local receipt; zstd);
then the tag: every call under the policy's scenarios (default policies/standard.toml), outcomes in the
policy's order (first match wins), p_eligible from the limitations' likelihoods; Parquet again.
Not reproduced: callsift's keyword classifier for types the crosswalk lacks (here they are unmapped),
reject rows with reasons, the Delta log. 2 threads and 512 MB, as the issue's comparison.

usage: python3 duckdb_equivalent.py PROFILE.toml EXPORT.csv OUT_DIR [POLICY.toml]
prints one line: `duckdb VERSION: ingest Xs, tag Ys, total Zs, calls N, peak_rss_kib K`
"""
import csv, os, re, resource, sys, time, tomllib
import duckdb

FLAGS = ["weapon", "violence", "medical", "in_progress", "imminent_danger", "insufficient_info", "bh_nexus",
         "conflict", "police_type"]


def q(s):
    """A SQL string literal."""
    return "'" + str(s).replace("'", "''") + "'"


def ident(s):
    return '"' + s.replace('"', '""') + '"'


def hkey(h):
    """callsift's header matching: lower-case alphanumerics only (BOM ignored)."""
    return "".join(c.lower() for c in h.lstrip("\ufeff") if c.isalnum())


def norm(expr):
    """callsift's normalize_key: trim, collapse whitespace, upper-case. The regexp_replace only where a
    run of whitespace or a non-space whitespace character is present (a match is ~3× cheaper than a
    replace; same result)."""
    return (f"CASE WHEN regexp_matches({expr}, '\\s\\s|[^\\S ]') THEN upper(regexp_replace(trim({expr}), '\\s+', ' ', 'g')) "
            f"ELSE upper(trim({expr})) END")


def norm_key(s):
    return " ".join(s.split()).upper()


def field_expr(spec, header):
    """SQL text for one [columns] entry, resolved against the file header (None if absent)."""
    by_key = {hkey(h): h for h in header}
    col = lambda n: by_key.get(hkey(n))
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, list):
        present = [c for c in map(col, spec) if c]
        return f"v({ident(present[0])})" if present else None
    if "concat" in spec:
        cols = [col(n) for n in spec["concat"]]
        return None if None in cols else "v(concat_ws(' ', " + ", ".join(ident(c) for c in cols) + "))"
    if "coalesce" in spec:
        present = [c for c in map(col, spec["coalesce"]) if c]
        return "coalesce(" + ", ".join(f"v({ident(c)})" for c in present) + ")" if present else None
    names = spec["column"] if isinstance(spec["column"], list) else [spec["column"]]
    present = [c for c in map(col, names) if c]
    if not present:
        return None
    if "extract" in spec:
        return f"v(nullif(regexp_extract({ident(present[0])}, {q(spec['extract'])}, 1), ''))"
    return f"v({ident(present[0])})"


def value_map(m, expr, kind_default="exact", cast=q):
    """A profile value map as a CASE over the normalised raw value."""
    if m is None:
        return None
    kind = m.get("match", kind_default)
    key = f"upper(trim({expr}))"
    default = cast(m["default"]) if "default" in m else "NULL"
    if kind == "exact":
        # One MAP lookup, so the key is computed once per row (a CASE repeats it in every arm:
        # DuckDB inlines a precomputed key column back into each arm).
        pairs = ", ".join(f"{q(norm_key(k))}: {cast(v)}" for k, v in m.get("values", {}).items())
        return f"coalesce(MAP {{{pairs}}}[{key}], {default})" if pairs else default
    arms = []
    items = sorted(m.get("values", {}).items(), key=lambda kv: -len(kv[0]))
    for k, v in items:
        k = norm_key(k)
        test = f"starts_with({key}, {q(k)})" if kind == "prefix" else f"{key} = {q(k)}"
        arms.append(f"WHEN {test} THEN {cast(v)}")
    if kind == "leading_digits":
        arms.append(f"WHEN regexp_matches({key}, '^[0-9]+') THEN try_cast(regexp_extract({key}, '^[0-9]+') AS INTEGER)")
    return f"CASE {' '.join(arms)} ELSE {default} END" if arms else default


def read_header(path, delim):
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        return next(csv.reader(f, delimiter=delim))


def ingest(con, prof, prof_dir, src, out):
    delim = prof.get("delimiter", ",").replace("\\t", "\t")
    header = read_header(src, delim)
    cols = {f: field_expr(s, header) for f, s in prof["columns"].items()}
    tz = prof["timezone"]
    fmts = "[" + ", ".join(q(f) for f in prof["time"]["formats"]) + "]"
    # Null markers through the reader (exact matches in upper, lower and as-written case): a
    # per-value upper(trim(x)) IN (…) on every column was 2.5 s of DuckDB's 7.5 s on 1 M rows.
    nulls = sorted({v for n in prof.get("null_values", []) for v in (n, n.upper(), n.lower())} | {""})
    con.execute("CREATE OR REPLACE MACRO v(x) AS x")
    con.execute(f"CREATE OR REPLACE MACRO ts(x) AS try_strptime(x, {fmts})")
    cw = os.path.join(prof_dir, prof["crosswalk"])
    con.execute(f"CREATE OR REPLACE TABLE cw AS SELECT {norm('raw_type')} AS k, * FROM read_csv({q(cw)}, all_varchar = true)")
    c = lambda f: cols.get(f) or "NULL"
    basis, other = ("final_type", "initial_type") if prof.get("type_basis") == "final" else ("initial_type", "final_type")
    unit = c("unit_id")
    merge = "merge" in prof
    src_map = value_map(prof.get("call_source"), c("call_source")) or "'unknown'"
    self_init = value_map(prof.get("self_initiated"), c("self_initiated"), cast=lambda b: "true" if b else "false")
    resp = value_map(prof.get("responder_type"), c("unit_type") if cols.get("unit_type") else unit) or "'police'"
    disp = value_map(prof.get("disposition"), c("disposition")) or "NULL"
    drop = ", ".join(q(d.lower()) for d in prof.get("drop_dispositions", ["test", "void"])) or "''"
    parsed = f"""
    SELECT {c('call_id')} AS call_id, ts({c('received_at')}) AS rl, ts({c('dispatched_at')}) AS dl,
           ts({c('arrived_at')}) AS al, ts({c('cleared_at')}) AS cl,
           {c('initial_type')} AS initial_type, {c('final_type')} AS final_type, trim({c('priority')}) AS priority_raw,
           {src_map} AS call_source, {self_init or 'NULL'} AS self_flag, {c('caller_party')} AS caller_raw,
           {c('disposition')} AS disposition_raw, {disp} AS disposition,
           {c('district')} AS district, {c('beat')} AS beat, {c('address')} AS address,
           {resp} AS responder_type
    FROM read_csv({q(src)}, all_varchar = true, delim = {q(delim)}, ignore_errors = true, null_padding = false,
                  strict_mode = false, nullstr = [{', '.join(map(q, nulls))}])"""
    busy = "least(greatest(date_diff('second', dl, cl), 0), 86400) / 60.0"
    if merge:
        merged = f"""
    SELECT call_id, min(rl) AS rl, min(dl) AS dl, min(al) AS al, max(cl) AS cl, count(*) AS units,
           bool_or(responder_type = 'community_responder') AS community_responder, sum({busy}) AS unit_busy_minutes,
           arg_min(responder_type, coalesce(dl, rl)) AS responder_type,
           any_value(initial_type) AS initial_type, any_value(final_type) AS final_type, any_value(priority_raw) AS priority_raw,
           any_value(call_source) AS call_source, any_value(self_flag) AS self_flag, any_value(caller_raw) AS caller_raw,
           any_value(disposition_raw) AS disposition_raw, any_value(disposition) AS disposition,
           any_value(district) AS district, any_value(beat) AS beat, any_value(address) AS address
    FROM ok GROUP BY call_id"""
    else:
        merged = f"""SELECT *, 1 AS units, responder_type = 'community_responder' AS community_responder,
           {busy} AS unit_busy_minutes FROM ok"""
    pri = value_map(prof.get("priority"), "m.priority_raw", cast=str) or "NULL"
    flag = lambda f: f"coalesce(cw.{f} IN ('1', 'true', 'yes', 'y', 'x'), false)"
    con.execute(f"""
COPY (
  WITH parsed AS ({parsed}),
  ok AS (SELECT * FROM parsed WHERE call_id IS NOT NULL AND rl IS NOT NULL
                                AND coalesce(disposition NOT IN ({drop}), true)),
  merged AS ({merged}),
  typed AS (SELECT *, coalesce({basis}, {other}) AS call_type, CASE WHEN {basis} IS NULL THEN {basis} ELSE {other} END AS other_type
            FROM merged)
  SELECT m.call_id, {q(prof['name'])} AS source,
         timezone({q(tz)}, m.rl) AS received_at, m.rl AS received_local,
         timezone({q(tz)}, m.dl) AS dispatched_at, timezone({q(tz)}, m.al) AS arrived_at,
         timezone({q(tz)}, m.cl) AS cleared_at,
         m.initial_type, m.final_type, m.call_type, cw.category, cw.k IS NOT NULL AS type_mapped,
         CASE WHEN cw.k IS NOT NULL THEN 'crosswalk' ELSE 'unmapped' END AS category_source,
         m.priority_raw, {pri} AS priority, m.call_source,
         coalesce(m.self_flag, m.call_source = 'officer_initiated', false) AS self_initiated,
         coalesce({value_map(prof.get('caller_party'), 'm.caller_raw') or 'NULL'}, 'unknown') AS caller_party,
         try_cast(cw.third_party_likelihood AS DOUBLE) AS third_party_p,
         m.disposition_raw, m.disposition, m.district, m.beat, m.address, m.units, m.responder_type,
         m.community_responder, m.unit_busy_minutes,
         {', '.join(f'{flag(f)} AS {f}' for f in FLAGS if f != 'bh_nexus')},
         {flag('bh_nexus')} OR coalesce(cw2.bh_nexus IN ('1', 'true', 'yes', 'y', 'x'), false) AS bh_nexus,
         year(m.rl) AS year, month(m.rl) AS month
  FROM typed m LEFT JOIN cw ON cw.k = {norm('m.call_type')} LEFT JOIN cw AS cw2 ON cw2.k = {norm('m.other_type')}
) TO {q(out + '/calls')} (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year, month), OVERWRITE_OR_IGNORE true)
""")


def tag(con, policy, out):
    """The policy's outcomes, first match wins, one row per call and scenario (as `callsift tag`)."""
    for unsupported in ("hours", "area"):
        if unsupported in policy:
            sys.exit(f"duckdb_equivalent.py: policy [{unsupported}] is not reproduced")
    when = lambda e: f"coalesce(({e}), false)"
    lims = {l["name"]: l for l in policy.get("limitation", [])}
    cols = [f"call_id"]
    if "self_initiated" in policy:
        cols.append(f"{when(policy['self_initiated']['when'])} AS x_self")
    if "unmapped" in policy:
        cols.append(f"{when(policy['unmapped']['when'])} AS x_unmapped")
    if "insufficient_info" in policy:
        cols.append(f"{when(policy['insufficient_info']['when'])} AS x_info")
    dq = policy.get("disqualifier", [])
    cols += [f"{when(d['when'])} AS d{i}" for i, d in enumerate(dq)]
    cols.append(f"{when(policy['scope']['when'])} AS s_scope" if "scope" in policy else "true AS s_scope")
    for i, (name, l) in enumerate(lims.items()):
        cols.append(f"{when(l['excludes'])} AS l{i}")
        if "unknown" in l:
            p = f"least(greatest(coalesce(({l.get('likelihood', '0.5')}), 0.5), 0.0), 1.0)"
            cols += [f"{when(l['unknown'])} AS u{i}", f"{p} AS p{i}"]
    names = list(lims)
    scenarios = policy.get("scenario") or [{"name": "broad", "limitations": []}]
    branches = []
    for s in scenarios:
        idx = [names.index(n) for n in s.get("limitations", [])]
        arms = []
        if "self_initiated" in policy:
            arms.append("WHEN x_self THEN 'excluded_self_initiated'")
        if "unmapped" in policy:
            arms.append("WHEN x_unmapped THEN 'unmapped'")
        if "insufficient_info" in policy:
            arms.append("WHEN x_info THEN 'insufficient_info'")
        arms += [f"WHEN d{i} THEN {q('disqualified:' + d['name'])}" for i, d in enumerate(dq)]
        arms.append("WHEN NOT s_scope THEN 'out_of_scope'")
        arms += [f"WHEN l{i} THEN {q('limited:' + names[i])}" for i in idx]
        unknown = [i for i in idx if "unknown" in lims[names[i]]]
        est = " OR ".join(f"u{i}" for i in unknown) or "false"
        p = " * ".join(f"(CASE WHEN u{i} THEN 1.0 - p{i} ELSE 1.0 END)" for i in unknown) or "1.0"
        branches.append(f"SELECT call_id, {q(s['name'])} AS scenario, CASE {' '.join(arms)} ELSE 'eligible' END AS reason, "
                        f"{est} AS unknown, {p} AS p FROM r")
    con.execute(f"""
COPY (
  WITH r AS (SELECT {', '.join(cols)} FROM read_parquet({q(out + '/calls/*/*/*.parquet')}, hive_partitioning = true)),
  s AS ({' UNION ALL '.join(branches)})
  SELECT call_id, scenario, reason = 'eligible' AS eligible, reason, split_part(reason, ':', 1) AS outcome,
         nullif(split_part(reason, ':', 2), '') AS rule, reason = 'eligible' AND unknown AS estimated,
         CASE WHEN reason = 'eligible' THEN p ELSE 0.0 END AS p_eligible
  FROM s
) TO {q(out + '/eligibility')} (FORMAT parquet, COMPRESSION zstd, PER_THREAD_OUTPUT true, OVERWRITE_OR_IGNORE true)
""")


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__.split("usage: ")[1].splitlines()[0])
    profile_path, src, out = sys.argv[1:4]
    here = os.path.dirname(os.path.abspath(__file__))
    policy_path = sys.argv[4] if len(sys.argv) == 5 else os.path.join(here, "..", "policies", "standard.toml")
    with open(profile_path, "rb") as f:
        prof = tomllib.load(f)
    with open(policy_path, "rb") as f:
        policy = tomllib.load(f)
    os.makedirs(out, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET threads = 2; SET memory_limit = '512MB'; SET preserve_insertion_order = false")
    t0 = time.time()
    ingest(con, prof, os.path.dirname(os.path.abspath(profile_path)), src, out)
    t1 = time.time()
    tag(con, policy, out)
    t2 = time.time()
    calls = con.execute(f"SELECT count(*) FROM read_parquet({q(out + '/calls/*/*/*.parquet')})").fetchone()[0]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    print(f"duckdb {duckdb.__version__}: ingest {t1 - t0:.2f}s, tag {t2 - t1:.2f}s, total {t2 - t0:.2f}s, "
          f"calls {calls}, peak_rss_kib {peak}")


if __name__ == "__main__":
    main()
