#!/usr/bin/env python3
"""Reference implementation + evaluation of callsift's data-driven call-type classifier
(profiles/classifier_rules.csv). Standard library only.

The classifier is for raw call types that no crosswalk lists. Semantics (the Rust implementation
must match this file):

  * normalised text: upper-case; every character that is not A-Z or 0-9 becomes a space; runs of
    spaces collapse; trimmed.  `6X - Major Dist (Violence)` -> `6X MAJOR DIST VIOLENCE`.
  * rules: CSV `name,kind,pattern,category,<9 flags>,third_party_likelihood,confidence,note`;
    `pattern` is a regex *searched* in the normalised text (syntax common to Python `re` and the
    Rust `regex` crate: no look-around, no back-references).
  * `kind = category` rows are tried in file order; the first that matches gives the category, its
    flags, third_party_likelihood and confidence.  `kind = modifier` rows (category empty) are all
    tried; every one that matches ORs its flags in.  Modifiers never set a category.  No category
    row matching = unmapped (no category; modifier flags are still reported).

Evaluation (labelled sets):
  * Vera Institute / Two Sigma Data Clinic CallTypes.csv (human category labels, normalised to the
    21-category taxonomy), weighted by each type's call count;
  * every profiles/*.crosswalk.csv row (label = the crosswalk's category), unweighted, and weighted
    by the type's frequency in the real CAD sample of that profile where tests/fixtures/real_cad has
    one (types of the sample no crosswalk lists count as unlabelled volume).
Per set: share of volume categorised, share of labelled volume whose category equals the label.

Leave-one-city-out discipline: the rules are written and tuned with `--tune` (the held-out city,
Detroit by default, is never read); the held-out figure is produced once, at the end, without
`--tune`. The table marks the held-out city's rows "(held out)"; that figure is an honest
out-of-sample estimate only for a rules file that was frozen before its first non-`--tune` run.

Confidence: each category rule's `confidence` is the mean of its smoothed type-level precision
((correct types + 1.2) / (types + 2)) and its call-volume precision against the labelled sets.

usage:
  python3 benches/classifier_eval.py --tune [--misses 40] [--rule-stats]     # tuning, Detroit unseen
  python3 benches/classifier_eval.py                                         # final report incl. held-out
  python3 benches/classifier_eval.py --classify "SUSP PERSON/VEH"             # one call type
"""
import argparse, collections, csv, glob, os, re, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CATEGORIES = ["Alarms", "Property Crime", "Violent Crime", "Domestic Violence", "Sex Offenses", "Drugs",
              "Other Crimes", "Warrants", "Suspicion", "Complaints/Environmental Conditions",
              "Behavioral Health", "Medical Emergencies", "Fire", "Missing Persons",
              "Accidents/Traffic Safety", "Traffic", "Assisting the Public", "Officer Needs Help",
              "Statuses", "Call Related Issues", "Other (Not Crime)"]
FLAGS = ["weapon", "violence", "medical", "in_progress", "imminent_danger", "insufficient_info",
         "bh_nexus", "conflict", "police_type"]
RULE_HEADER = ["name", "kind", "pattern", "category"] + FLAGS + ["third_party_likelihood", "confidence", "note"]

# Vera labels -> taxonomy. Spelling variants map exactly; labels outside the 21 categories are folded
# (a callsift decision, documented in profiles/VERA_ATTRIBUTION.md); '?' / empty = no label.
LABEL_FIX = {c.lower(): c for c in CATEGORIES}
LABEL_FIX.update({"assist the public": "Assisting the Public", "medical": "Medical Emergencies",
                  "warrant": "Warrants", "call related isuues": "Call Related Issues",
                  "status offenses": "Other Crimes", "liquor violations": "Other Crimes",
                  "callback": "Call Related Issues"})

# profile -> city for grouping (profiles of the same city share a row group)
PROFILE_CITY = {"new_orleans_cfs": "New Orleans", "dallas_active_calls_2018": "Dallas",
                "dallas_active_calls_2021": "Dallas", "detroit_911_cfs": "Detroit",
                "milwaukee_cfs": "Milwaukee", "montgomery_pa_911": "Montgomery PA",
                "montgomery_md_dispatched": "Montgomery MD", "seattle_legacy_911": "Seattle",
                "seattle_call_data": "Seattle", "sf_fire_cfs": "San Francisco", "lapd_cfs": "Los Angeles",
                "cincinnati_cfs": "Cincinnati", "cincinnati_cfs_2014_2016": "Cincinnati",
                "baltimore_cfs": "Baltimore", "callsift_sample": "callsift demo"}
# profile -> real sample directory under tests/fixtures/real_cad
PROFILE_SAMPLE = {"milwaukee_cfs": "milwaukee", "seattle_legacy_911": "seattle", "sf_fire_cfs": "sf_fire",
                  "montgomery_pa_911": "montgomery_pa", "lapd_cfs": "los_angeles",
                  "cincinnati_cfs": "cincinnati/cpd_cfs_gexm", "cincinnati_cfs_2014_2016": "cincinnati/cpd_cfs_archive",
                  "dallas_active_calls_2018": "dallas/dallas_active_calls_are8", "dallas_active_calls_2021": "dallas/dallas_active_calls_socrata"}


def normalise(s):
    """Upper-case; non [A-Z0-9] -> space; collapse runs; trim."""
    return re.sub(r" +", " ", re.sub(r"[^A-Z0-9]", " ", s.upper())).strip()


FORBIDDEN = [(r"\(\?[=!]", "look-ahead"), (r"\(\?<[=!]", "look-behind"), (r"\\[1-9]", "back-reference"),
             (r"\(\?>", "atomic group"), (r"[*+?}]\+", "possessive quantifier"), (r"\\[ZA]", "\\Z/\\A anchors"),
             (r"\(\?P=", "named back-reference")]


class Rule:
    def __init__(self, d, line):
        self.name, self.kind, self.pattern, self.category = d["name"], d["kind"], d["pattern"], d["category"]
        self.line = line
        if self.kind not in ("category", "modifier"):
            raise ValueError(f"line {line}: kind must be category or modifier, not {self.kind!r}")
        if self.kind == "category" and self.category not in CATEGORIES:
            raise ValueError(f"line {line}: {self.name}: category {self.category!r} is not a taxonomy category")
        if self.kind == "modifier" and self.category:
            raise ValueError(f"line {line}: {self.name}: a modifier has no category")
        for bad, what in FORBIDDEN:
            if re.search(bad, self.pattern):
                raise ValueError(f"line {line}: {self.name}: {what} is not portable to the Rust regex crate")
        self.rx = re.compile(self.pattern)
        self.flags = {}
        for f in FLAGS:
            v = d[f].strip()
            if v not in ("", "1"):
                raise ValueError(f"line {line}: {self.name}: flag {f} = {v!r} (1 or empty)")
            self.flags[f] = v == "1"
        tp = d["third_party_likelihood"].strip()
        self.tp = float(tp) if tp else None
        if self.tp is not None and not 0 <= self.tp <= 1:
            raise ValueError(f"line {line}: {self.name}: third_party_likelihood out of 0..1")
        c = d["confidence"].strip()
        self.confidence = float(c) if c else None
        if self.kind == "category" and (self.confidence is None or not 0 <= self.confidence <= 1):
            raise ValueError(f"line {line}: {self.name}: confidence must be 0..1")
        self.note = d["note"]


def load_rules(path):
    with open(path, newline="", encoding="utf-8") as f:
        rdr = csv.reader(f)
        header = next(rdr)
        if header != RULE_HEADER:
            raise ValueError(f"{path}: header must be exactly {','.join(RULE_HEADER)}")
        rules, names = [], set()
        for i, row in enumerate(rdr, start=2):
            if len(row) != len(header):
                raise ValueError(f"{path}: line {i}: {len(row)} fields, expected {len(header)}")
            r = Rule(dict(zip(header, row)), i)
            if r.name in names:
                raise ValueError(f"{path}: line {i}: duplicate rule name {r.name}")
            names.add(r.name)
            rules.append(r)
    return rules


class Result:
    __slots__ = ("category", "flags", "tp", "confidence", "rule", "modifiers")

    def __init__(self):
        self.category = None; self.flags = {f: False for f in FLAGS}; self.tp = None
        self.confidence = None; self.rule = None; self.modifiers = []


def classify(rules, raw):
    text = normalise(raw)
    res = Result()
    for r in rules:
        if r.kind == "category":
            if res.rule is None and r.rx.search(text):
                res.category, res.tp, res.confidence, res.rule = r.category, r.tp, r.confidence, r.name
                for f in FLAGS:
                    res.flags[f] = res.flags[f] or r.flags[f]
        elif r.rx.search(text):
            res.modifiers.append(r.name)
            for f in FLAGS:
                res.flags[f] = res.flags[f] or r.flags[f]
    return res


# ------------------------------------------------------------------------------------------ data
def vera_label(cat, alt):
    c = LABEL_FIX.get(re.sub(r"\s+", " ", cat.strip()).lower())
    if c:
        return c
    return LABEL_FIX.get(re.sub(r"\s+", " ", alt.strip()).lower())


def load_vera(path, holdout, include_holdout):
    """Items: (set name, city, raw type, weight, label or None).  `path` is Vera's CallTypes.csv or the
    repository's normalised copy tests/fixtures/vera/labels.csv (set,city,raw_type,count,label)."""
    items = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        for r in csv.DictReader(f):
            if "set" in r:      # normalised copy
                city = r["city"].strip()
                if city in holdout and not include_holdout:
                    continue
                items.append((r["set"], city, r["raw_type"], int(r["count"]), r["label"] or None))
                continue
            city = r["City"].strip()
            if city in holdout and not include_holdout:
                continue            # never read during tuning
            col = r["Column_name"].strip()
            items.append((f"Vera {city} / {col}", city, r["Field 1"], int(r["Count"]),
                          vera_label(r["Category"], r["Category - Alternate"])))
    return items


def read_crosswalk(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return [(r["raw_type"], r["category"].strip()) for r in csv.DictReader(f)]


def sample_counts(profile, fixtures):
    """Counts of the profile's initial-type column in its real CAD sample, or None."""
    sub = PROFILE_SAMPLE.get(profile)
    if not sub:
        return None
    try:
        import tomllib
        with open(os.path.join(ROOT, "profiles", profile + ".toml"), "rb") as f:
            cols = tomllib.load(f).get("columns", {}).get("initial_type")
    except Exception:
        return None
    if isinstance(cols, str):
        cols = [cols]
    if not isinstance(cols, list):
        return None
    files = sorted(glob.glob(os.path.join(fixtures, sub + "*.csv")) + glob.glob(os.path.join(fixtures, sub, "*.csv")))
    counts = collections.Counter()
    for fp in files:
        with open(fp, newline="", encoding="utf-8-sig", errors="replace") as f:
            rdr = csv.reader(f)
            try:
                header = next(rdr)
            except StopIteration:
                continue
            idx = None
            for c in cols:
                for i, h in enumerate(header):
                    if re.sub(r"[^a-z0-9]", "", h.lower()) == re.sub(r"[^a-z0-9]", "", c.lower()):
                        idx = i
                        break
                if idx is not None:
                    break
            if idx is None:
                continue
            try:
                for row in rdr:
                    if len(row) == len(header) and row[idx].strip():
                        counts[row[idx]] += 1
            except csv.Error:
                pass
    return counts or None


def crosswalk_key(s):
    return re.sub(r"\s+", " ", s.strip()).upper()


def load_crosswalk_items(profiles_dir, fixtures, holdout, include_holdout):
    items = []
    for p in sorted(glob.glob(os.path.join(profiles_dir, "*.crosswalk.csv"))):
        prof = os.path.basename(p)[: -len(".crosswalk.csv")]
        city = PROFILE_CITY.get(prof, prof)
        if city in holdout and not include_holdout:
            continue
        rows = read_crosswalk(p)
        for raw, cat in rows:
            items.append((f"crosswalk rows {prof}", city, raw, 1, cat))
        counts = sample_counts(prof, fixtures)
        if counts:
            lab = {crosswalk_key(raw): cat for raw, cat in rows}
            for raw, n in counts.items():
                items.append((f"real sample {prof}", city, raw, n, lab.get(crosswalk_key(raw))))
    return items


# ------------------------------------------------------------------------------------------ report
def evaluate(rules, items, holdout=None):
    stats = collections.OrderedDict()
    misses = collections.defaultdict(list)
    per_rule = collections.defaultdict(lambda: [0, 0, 0.0, 0.0])   # types, correct types, volume, correct volume
    for name, city, raw, w, label in items:
        res = classify(rules, raw)
        s = stats.setdefault(name, dict(city=city, types=0, volume=0, categorised=0, labelled=0, agree=0,
                                        lab_categorised=0))
        s["types"] += 1; s["volume"] += w
        if res.category:
            s["categorised"] += w
        if label:
            s["labelled"] += w
            if res.category:
                s["lab_categorised"] += w
            if res.category == label:
                s["agree"] += w
            else:
                misses[name].append((w, raw, label, res.category, res.rule))
            if res.rule and city not in holdout:
                pr = per_rule[res.rule]
                pr[0] += 1; pr[2] += w
                if res.category == label:
                    pr[1] += 1; pr[3] += w
    return stats, misses, per_rule


def pct(a, b):
    return f"{100.0 * a / b:5.1f}" if b else "  n/a"


def print_table(stats, holdout):
    holdout = holdout or set()
    print("| set | types | volume | categorised % (all volume) | categorised % (labelled volume) | agree % (of labelled) | precision % (labelled & categorised) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, s in stats.items():
        tag = " **(held out)**" if s["city"] in holdout else ""
        print(f"| {name}{tag} | {s['types']} | {s['volume']:,} | {pct(s['categorised'], s['volume'])} | "
              f"{pct(s['lab_categorised'], s['labelled'])} | {pct(s['agree'], s['labelled'])} | {pct(s['agree'], s['lab_categorised'])} |")


def confidence(t):
    """Documented method: mean of smoothed type-level precision and call-volume precision."""
    types, correct_types, vol, correct_vol = t
    return round(((correct_types + 1.2) / (types + 2) + (correct_vol / vol if vol else 0.0)) / 2, 2)


def write_confidence(path, per_rule):
    """Rewrite the confidence column of the rules file from per-rule statistics (other columns untouched).
    A rule that matched no labelled type keeps its confidence."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    ci = rows[0].index("confidence")
    changed = 0
    for row in rows[1:]:
        if row[1] == "category" and row[0] in per_rule:
            c = f"{confidence(per_rule[row[0]]):g}"
            if row[ci] != c:
                row[ci] = c
                changed += 1
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)
    return changed


def real_cad_vocabulary(rules, real_cad, profiles_dir, holdout, include_holdout):
    """Out-of-sample coverage: every real CAD sample with a profile, its initial-type column's values
    weighted by row count; share categorised (no labels needed) and agreement with the profile's
    crosswalk (labels written by earlier engineers, not by the city)."""
    out = []
    for prof, sub in sorted(PROFILE_SAMPLE.items()):
        city = PROFILE_CITY.get(prof, prof)
        if city in holdout and not include_holdout:
            continue
        counts = sample_counts(prof, real_cad)
        if not counts:
            continue
        lab = {crosswalk_key(raw): cat for raw, cat in read_crosswalk(os.path.join(profiles_dir, prof + ".crosswalk.csv"))}
        t = collections.Counter()
        unmapped = collections.Counter()
        for raw, n in counts.items():
            res = classify(rules, raw)
            t["rows"] += n; t["types"] += 1
            if res.category:
                t["categorised"] += n
            else:
                unmapped[raw] += n
            label = lab.get(crosswalk_key(raw))
            if label:
                t["labelled"] += n
                if res.category == label:
                    t["agree"] += n
        out.append((prof, city, t, unmapped))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rules", default=os.path.join(ROOT, "profiles", "classifier_rules.csv"))
    ap.add_argument("--profiles", default=os.path.join(ROOT, "profiles"))
    default_vera = os.path.join(ROOT, "..", "shared", "vera", "CallTypes.csv")
    if not os.path.exists(default_vera):
        default_vera = os.path.join(ROOT, "tests", "fixtures", "vera", "labels.csv")   # same rows, normalised
    ap.add_argument("--vera", default=os.environ.get("VERA_CALLTYPES", default_vera))
    ap.add_argument("--fixtures", default=os.path.join(ROOT, "tests", "fixtures", "real_cad"))
    ap.add_argument("--real-cad", help="directory of fuller real CAD samples (same layout as --fixtures) for the "
                                       "out-of-sample vocabulary table; default: --fixtures")
    ap.add_argument("--holdout", default="Detroit",
                    help="comma-separated held-out cities (Vera city or profile city, e.g. Detroit,Milwaukee)")
    ap.add_argument("--tune", action="store_true", help="tuning mode: the held-out cities are never read")
    ap.add_argument("--misses", type=int, default=0, help="show the N largest disagreements per set (tuning sets only)")
    ap.add_argument("--rule-stats", action="store_true", help="per-rule precision on the tuning sets")
    ap.add_argument("--write-confidence", action="store_true",
                    help="rewrite the rules file's confidence column from the per-rule statistics (tuning sets "
                         "only with --tune)")
    ap.add_argument("--unmapped", type=int, default=0, help="show the N largest uncategorised types per real CAD sample")
    ap.add_argument("--classify", nargs="+", help="classify the given call types and exit")
    a = ap.parse_args()
    holdout = {h.strip() for h in a.holdout.split(",") if h.strip()}

    rules = load_rules(a.rules)
    if a.classify:
        for raw in a.classify:
            r = classify(rules, raw)
            fl = ",".join(f for f in FLAGS if r.flags[f])
            print(f"{raw!r} -> {normalise(raw)!r}: category={r.category} rule={r.rule} conf={r.confidence} "
                  f"tp={r.tp} flags=[{fl}] modifiers={r.modifiers}")
        return

    include = not a.tune
    items = []
    if os.path.exists(a.vera):
        items += load_vera(a.vera, holdout, include)
    else:
        print(f"(Vera labels not found at {a.vera}; crosswalk sets only)", file=sys.stderr)
    items += load_crosswalk_items(a.profiles, a.fixtures, holdout, include)

    # per-rule statistics leave the held-out cities out while tuning, and use every set otherwise
    stats, misses, per_rule = evaluate(rules, items, holdout if a.tune else set())
    print(f"rules: {a.rules} ({sum(r.kind == 'category' for r in rules)} category, "
          f"{sum(r.kind == 'modifier' for r in rules)} modifier)")
    hs = ", ".join(sorted(holdout)) or "none"
    print("mode: " + (f"TUNING (held-out cities not read: {hs})" if a.tune else f"FINAL (held-out cities included: {hs})"))
    print()
    print_table(stats, holdout)

    # per-city roll-up of the Vera sets (human labels, call-volume weighted)
    roll = collections.OrderedDict()
    for name, s in stats.items():
        if name.startswith("Vera "):
            k = s["city"] + (" (Call (911) Problem)" if s["city"] == "Dallas" and "Call (911)" in name else
                             " (offence columns)" if s["city"] == "Dallas" else "")
            t = roll.setdefault(k, collections.Counter())
            t["city"] = s["city"]
            for f in ("volume", "categorised", "labelled", "agree", "lab_categorised"):
                t[f] += s[f]
    print("\nVera human labels, per city (call-volume weighted):\n")
    print("| city | volume | labelled volume | categorised % (all) | categorised % (labelled) | agree % (of labelled) |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, t in roll.items():
        tag = " **(held out)**" if t["city"] in holdout else ""
        print(f"| {k}{tag} | {t['volume']:,} | {t['labelled']:,} | {pct(t['categorised'], t['volume'])} | "
              f"{pct(t['lab_categorised'], t['labelled'])} | {pct(t['agree'], t['labelled'])} |")

    vocab = real_cad_vocabulary(rules, a.real_cad or a.fixtures, a.profiles, holdout, include)
    print(f"\nReal CAD samples ({a.real_cad or a.fixtures}), initial-type column weighted by rows; "
          "agreement is with the profile's crosswalk (written by earlier engineers, not by the city):\n")
    print("| profile | types | rows | categorised % | rows with a crosswalk label | agree % (of labelled) |")
    print("|---|---:|---:|---:|---:|---:|")
    tot = collections.Counter()
    for prof, city, t, unmapped in vocab:
        tag = " **(held out)**" if city in holdout else ""
        print(f"| {prof}{tag} | {t['types']} | {t['rows']:,} | {pct(t['categorised'], t['rows'])} | "
              f"{t['labelled']:,} | {pct(t['agree'], t['labelled'])} |")
        tot.update(t)
    print(f"| **all samples** | {tot['types']} | {tot['rows']:,} | {pct(tot['categorised'], tot['rows'])} | "
          f"{tot['labelled']:,} | {pct(tot['agree'], tot['labelled'])} |")
    if a.unmapped:
        for prof, city, t, unmapped in vocab:
            if city in holdout and a.tune:
                continue
            print(f"\n## uncategorised: {prof}")
            for raw, n in unmapped.most_common(a.unmapped):
                print(f"  {n:>8}  {raw!r}")

    if a.misses:
        for name, m in misses.items():
            if stats[name]["city"] in holdout:
                continue
            print(f"\n## misses: {name}")
            for w, raw, label, got, rule in sorted(m, key=lambda x: -x[0])[: a.misses]:
                print(f"  {w:>8}  {raw!r:48} label={label:38} got={got} ({rule})")
    if a.rule_stats:
        print("\n| rule | types | type precision | volume precision | confidence in file | method |")
        print("|---|---:|---:|---:|---:|---:|")
        conf = {r.name: r.confidence for r in rules}
        for r in rules:
            if r.kind != "category":
                continue
            t = per_rule.get(r.name)
            if not t:
                print(f"| {r.name} | 0 | | | {conf[r.name]} | |")
                continue
            print(f"| {r.name} | {t[0]} | {pct(t[1], t[0])} | {pct(t[3], t[2])} | {conf[r.name]} | {confidence(t)} |")
    if a.write_confidence:
        n = write_confidence(a.rules, per_rule)
        print(f"\nconfidence rewritten for {n} rule(s) in {a.rules}", file=sys.stderr)


if __name__ == "__main__":
    main()
