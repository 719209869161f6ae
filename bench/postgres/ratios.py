#!/usr/bin/env python3
"""The ratios of a PostgreSQL baseline run (docs/POSTGRES-BASELINE.md).

Reads the closed-loop results that run.sh leaves in its results directory
(pamatch-cN.json and postgres-cN.json, written by `pa-match-pg-baseline run
--json_out`), pairs them by concurrency and prints, for each pair, the
throughput ratio (pa-match QPS / PostgreSQL QPS) and the median latency
ratio (PostgreSQL p50 / pa-match p50), overall and per query kind, against
issue 6's targets (both at least 100x). Writes the same as ratios.json in
that directory.

Usage: ratios.py RESULTS_DIR [--target 100] [--concurrency "4 16"]
(--concurrency: only these pairs, e.g. the ones this run wrote; the
directory may hold older runs at other concurrencies.)
Exit status: 0 when at least one pair was found (whether or not the targets
are met: this reports, it does not judge the run), 1 when none was.
"""
import argparse
import json
import pathlib
import re
import sys


def load_runs(results):
    """{concurrency: {"pamatch": run, "postgres": run}} from the JSON files."""
    runs = {}
    for path in sorted(results.glob("*-c*.json")):
        match = re.fullmatch(r"(pamatch|postgres)-c(\d+)\.json", path.name)
        if not match:
            continue
        with open(path) as f:
            run = json.load(f)
        runs.setdefault(int(match.group(2)), {})[match.group(1)] = run
    return {c: pair for c, pair in runs.items() if len(pair) == 2}


def ratio(numerator, denominator):
    return numerator / denominator if denominator > 0 else None


def compare(pair, target):
    ours, theirs = pair["pamatch"]["kinds"], pair["postgres"]["kinds"]
    kinds = [k for k in ours if k in theirs]
    rows = []
    for kind in kinds:
        a, b = ours[kind], theirs[kind]
        rows.append({
            "kind": kind,
            "pamatch_qps": a["qps"],
            "postgres_qps": b["qps"],
            "qps_ratio": ratio(a["qps"], b["qps"]),
            "pamatch_p50_ms": a["p50_ms"],
            "postgres_p50_ms": b["p50_ms"],
            "p50_ratio": ratio(b["p50_ms"], a["p50_ms"]),
        })
    overall = next((r for r in rows if r["kind"] == "all"), None)
    met = {
        "throughput": overall is not None and overall["qps_ratio"] is not None
        and overall["qps_ratio"] >= target,
        "median_latency": overall is not None and overall["p50_ratio"] is not None
        and overall["p50_ratio"] >= target,
    }
    return {"kinds": rows, "targets_met": met}


def fmt(value, digits=1):
    return "-" if value is None else f"{value:,.{digits}f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=pathlib.Path)
    parser.add_argument("--target", type=float, default=100.0)
    parser.add_argument("--concurrency", default="",
                        help="space-separated concurrencies to report")
    args = parser.parse_args()

    runs = load_runs(args.results)
    if args.concurrency.split():
        wanted = {int(c) for c in args.concurrency.split()}
        runs = {c: pair for c, pair in runs.items() if c in wanted}
    if not runs:
        print(f"ratios.py: no pamatch-cN.json / postgres-cN.json pair in "
              f"{args.results}", file=sys.stderr)
        return 1
    report = {"target": args.target, "by_concurrency": {}}
    for concurrency in sorted(runs):
        result = compare(runs[concurrency], args.target)
        report["by_concurrency"][str(concurrency)] = result
        print(f"concurrency {concurrency}: pa-match against PostgreSQL "
              f"(target >= {args.target:g}x for both ratios, row 'all')")
        print(f"  {'kind':<13} {'pa-match qps':>12} {'postgres qps':>12} "
              f"{'ratio':>8} {'pa-match p50':>12} {'postgres p50':>12} "
              f"{'ratio':>8}")
        for row in result["kinds"]:
            print(f"  {row['kind']:<13} {fmt(row['pamatch_qps']):>12} "
                  f"{fmt(row['postgres_qps']):>12} "
                  f"{fmt(row['qps_ratio']) + 'x':>8} "
                  f"{fmt(row['pamatch_p50_ms'], 2) + ' ms':>12} "
                  f"{fmt(row['postgres_p50_ms'], 2) + ' ms':>12} "
                  f"{fmt(row['p50_ratio']) + 'x':>8}")
        met = result["targets_met"]
        print(f"  throughput: {'met' if met['throughput'] else 'NOT MET'}; "
              f"median latency: {'met' if met['median_latency'] else 'NOT MET'}")
    with open(args.results / "ratios.json", "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
