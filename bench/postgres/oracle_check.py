#!/usr/bin/env python3
"""Differential check of the baseline's SQL (search.sql) against the Python
oracle (tests/oracle/matching_oracle.py) on the oracle's adversarial random
cases (tests/oracle/random_cases.py): training expiring on the as_of day,
DBS month-end boundaries, exact score ties, half-way roundings, policies,
weight overrides, paused profiles, exclude_ids...

The standard query mix (what `pa-match-pg-baseline check` compares with a
live pa-matchd) exercises few of those; this covers the rest of the
contract. It needs a running PostgreSQL with PostGIS and creates (drops
first) its own database:

    oracle_check.py --port 5432 [--seeds 5] [--profiles 400] [--searches 60]

Prints every disagreement (first page: ids, scores, distances, levels;
total_matches; applied_policy); exit 1 if any.
"""

import argparse
import datetime
import json
import math
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "oracle"))
sys.path.insert(0, HERE)

import matching_oracle  # noqa: E402
import random_cases  # noqa: E402
import to_copy  # noqa: E402

DBS = {"DBS_LEVEL_UNSPECIFIED": 0, "DBS_NONE": 1, "DBS_BASIC": 2,
       "DBS_STANDARD": 3, "DBS_ENHANCED": 4, "DBS_ENHANCED_BARRED_ADULTS": 5}
GENDER = {"GENDER_UNSPECIFIED": 0, "GENDER_FEMALE": 1, "GENDER_MALE": 2,
          "GENDER_NON_BINARY": 3, "GENDER_UNDISCLOSED": 4}
AGE = {"AGE_BAND_UNSPECIFIED": 0, "AGE_BAND_16_24": 1, "AGE_BAND_25_34": 2,
       "AGE_BAND_35_49": 3, "AGE_BAND_50_64": 4, "AGE_BAND_65_PLUS": 5,
       "AGE_BAND_UNDISCLOSED": 6}
DAY = {"MONDAY": 1, "TUESDAY": 2, "WEDNESDAY": 3, "THURSDAY": 4, "FRIDAY": 5,
       "SATURDAY": 6, "SUNDAY": 7}
WEIGHTS = ("skills", "schedule", "distance", "interests", "preferences",
           "training", "trust", "recency")


def haversine_engine(lat1, lon1, lat2, lon2):
    """engine/scoring.cc HaversineKm, operation for operation."""
    k = math.pi / 180.0
    s1 = math.sin((lat2 - lat1) * k / 2)
    s2 = math.sin((lon2 - lon1) * k / 2)
    a = s1 * s1 + math.cos(lat1 * k) * math.cos(lat2 * k) * (s2 * s2)
    return 2 * matching_oracle.EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def num(table, value):
    return value if isinstance(value, int) else table[value]


def lit(value):
    """A SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "%r::float8" % value
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def text_array(values):
    return lit("{" + ",".join('"%s"' % v for v in values or []) + "}") + "::text[]"


def int_array(values):
    return lit("{" + ",".join(str(v) for v in values or []) + "}") + "::int[]"


def call(r, today):
    loc = r.get("location")
    weights = r.get("weights")
    w = "NULL::float8[]"
    if weights:
        w = lit("{" + ",".join(repr(float(weights[n])) if n in weights else "NULL"
                               for n in WEIGHTS) + "}") + "::float8[]"
    schedule = ["%d %s %s" % (num(DAY, i["day"]), i["start"], i["end"])
                for i in r.get("schedule", [])]
    args = [
        lit(float(loc["lat"])) if loc else "NULL::float8",
        lit(float(loc["lon"])) if loc else "NULL::float8",
        lit(r.get("local_authority", "")),
        lit(float(r["max_distance_km"])) if "max_distance_km" in r else "NULL::float8",
        text_array(r.get("must_have_skills")),
        text_array(r.get("nice_to_have_skills")),
        text_array(r.get("required_training")),
        text_array(r.get("preferred_training")),
        str(num(DBS, r.get("min_dbs_level", 0))),
        str(r["dbs_max_age_months"]) if "dbs_max_age_months" in r else "NULL::int",
        str(r.get("min_register_level", 0)),
        lit(bool(r.get("requires_driver"))), lit(bool(r.get("requires_car"))),
        lit(bool(r.get("has_pets"))), lit(bool(r.get("requires_non_smoker"))),
        text_array(r.get("required_languages")),
        text_array(r.get("preferred_languages")),
        int_array([num(GENDER, g) for g in r.get("preferred_genders", [])]),
        int_array([num(AGE, a) for a in r.get("preferred_age_bands", [])]),
        str(num(GENDER, r.get("required_gender", 0))),
        text_array(r.get("interests")),
        text_array(schedule),
        lit(float(r.get("min_schedule_coverage", 0.0))),
        lit(bool(r.get("short_notice"))),
        str(int(r.get("max_hourly_rate_pence", 0))),
        text_array(r.get("exclude_ids")),
        lit(r.get("as_of") or today.isoformat()) + "::date",
        w,
        str(r.get("page_size") or 20),
    ]
    return "SELECT * FROM pa_search(%s);" % ", ".join(args)


def psql(port, db, sql, quiet=True):
    cmd = ["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p",
           str(port), "-U", "postgres", "-d", db, "-A", "-t", "-F", "|"]
    if quiet:
        cmd.append("-q")
    return subprocess.run(cmd, input=sql, capture_output=True, text=True,
                          check=True).stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--db", default="pamatch_oracle")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--profiles", type=int, default=400)
    ap.add_argument("--searches", type=int, default=60)
    ap.add_argument("--taxonomy", default=os.path.join(REPO, "taxonomy", "north_east.json"))
    args = ap.parse_args()

    with open(args.taxonomy) as f:
        tax_data = json.load(f)
    tax = to_copy.Taxonomy(args.taxonomy)
    # The engine squares with s * s (engine/scoring.cc); the oracle's
    # haversine_km uses s ** 2, i.e. pow(), which differs in the last bit
    # for a few points. Compare with the engine's formula.
    oracle = matching_oracle.Oracle(tax_data, distance_fn=haversine_engine)
    today = datetime.datetime.now(datetime.timezone.utc).date()

    psql(args.port, "postgres", "DROP DATABASE IF EXISTS %s; CREATE DATABASE %s;"
         % (args.db, args.db))
    # The same indexes as the benchmark (created on the empty table; each
    # seed's TRUNCATE + COPY refills them).
    for f in ("schema.sql", "indexes.sql", "search.sql"):
        with open(os.path.join(HERE, f)) as sql:
            psql(args.port, args.db, sql.read())
    psql(args.port, args.db, to_copy.taxonomy_sql(tax))

    bad = 0
    total = 0
    for seed in range(args.seeds):
        gen = random_cases.CaseGenerator(tax_data, seed, today)
        profiles = gen.profiles(args.profiles)
        # Latest version per id wins, as in the store.
        by_id = {p["id"]: p for p in profiles}
        policies = gen.policies()
        rows = "\n".join(to_copy.profile_row(p, tax) for p in by_id.values())
        load = ["BEGIN; TRUNCATE pa, la_policy;", "COPY pa FROM STDIN;", rows, "\\.",
                "COMMIT; ANALYZE pa;"]
        for la, p in policies.items():
            load.append("INSERT INTO la_policy VALUES (%s, %d, %d, %s);" % (
                lit(la), max(1, num(DBS, p.get("min_dbs_level", 0))),
                p.get("min_register_level", 0),
                text_array(p.get("required_training"))))
        psql(args.port, args.db, "\n".join(load) + "\n")
        # One psql session per seed: PostGIS loads once per connection.
        requests = [gen.request(list(by_id), list(policies))
                    for _ in range(args.searches)]
        script = "".join("\\echo @@%d\n%s\n" % (n, call(r, today))
                         for n, r in enumerate(requests))
        answers = {}
        current = None
        for line in psql(args.port, args.db, script).splitlines():
            if line.startswith("@@"):
                current = int(line[2:])
                answers[current] = []
            elif line:
                answers[current].append(line.split("|"))
        for n, r in enumerate(requests):
            total += 1
            want = oracle.search(by_id.values(), r, policies, today)
            page, _ = oracle.page(want["results"], 0, r.get("page_size", 0))
            got_rows = answers[n]
            errors = []
            got_total = int(got_rows[0][4]) if got_rows else 0
            if got_total != want["total_matches"]:
                errors.append("total_matches oracle %d sql %d"
                              % (want["total_matches"], got_total))
            if got_rows and got_rows[0][5] != want["applied_policy"]:
                errors.append("applied_policy oracle %r sql %r"
                              % (want["applied_policy"], got_rows[0][5]))
            if len(got_rows) != len(page):
                errors.append("page length oracle %d sql %d" % (len(page), len(got_rows)))
            for i, (w, g) in enumerate(zip(page, got_rows)):
                if (w["id"] != g[0] or w["score"] != float(g[1]) or
                        w["distance_km"] != float(g[2]) or
                        w["register_level"] != int(g[3])):
                    errors.append("rank %d oracle %s %r %r L%d, sql %s %s %s L%s"
                                  % (i + 1, w["id"], w["score"], w["distance_km"],
                                     w["register_level"], g[0], g[1], g[2], g[3]))
            if errors:
                bad += 1
                print("MISMATCH seed %d search %d: %s" % (seed, n, json.dumps(r)))
                for e in errors[:10]:
                    print("  " + e)
    print("%s: %d of %d searches differ from the oracle"
          % ("IDENTICAL" if bad == 0 else "DIFFERENT", bad, total))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
