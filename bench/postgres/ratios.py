#!/usr/bin/env python3
"""The ratios of a PostgreSQL baseline run (docs/POSTGRES-BASELINE.md).

Reads the closed-loop results that run.sh leaves in its results directory
(pamatch-cN.json and postgres-cN.json, or with run.sh --rounds R,
pamatch-cN-rK.json and postgres-cN-rK.json for K = 1..R; written by
`pa-match-pg-baseline run --json_out`), groups them by concurrency and
prints, for each concurrency run on both systems, the throughput ratio
(pa-match QPS / PostgreSQL QPS) and the median latency ratio (PostgreSQL
p50 / pa-match p50), overall and per query kind, against issue 6's targets
(both at least 100x). Writes the same as ratios.json in that directory.

With several rounds, each system's QPS and p50 are the medians of its
rounds (per kind), the verdict is on those, and the report adds the
rounds' spread and the worst pairing (pa-match's worst round against
PostgreSQL's best), so a noisy machine shows as a range rather than as
one lucky or unlucky figure.

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
import statistics
import sys


def load_runs(results):
    """{concurrency: {"pamatch": [runs], "postgres": [runs]}} from the JSON
    files, for the concurrencies both systems ran."""
    runs = {}
    for path in sorted(results.glob("*-c*.json")):
        match = re.fullmatch(r"(pamatch|postgres)-c(\d+)(?:-r\d+)?\.json",
                             path.name)
        if not match:
            continue
        with open(path) as f:
            run = json.load(f)
        runs.setdefault(int(match.group(2)), {}).setdefault(
            match.group(1), []).append(run)
    return {c: pair for c, pair in runs.items() if len(pair) == 2}


def median_run(runs):
    """One run's "kinds" whose qps and p50_ms are the medians over `runs`
    (of the kinds every run has)."""
    kinds = [k for k in runs[0]["kinds"] if all(k in r["kinds"] for r in runs)]
    return {k: {field: statistics.median(r["kinds"][k][field] for r in runs)
                for field in ("qps", "p50_ms")}
            for k in kinds}


def spread(pair):
    """The row 'all' of every round, and the worst pairing of rounds."""
    ours = [r["kinds"]["all"] for r in pair["pamatch"] if "all" in r["kinds"]]
    theirs = [r["kinds"]["all"] for r in pair["postgres"] if "all" in r["kinds"]]
    if not ours or not theirs:
        return None
    return {
        "pamatch_qps": [r["qps"] for r in ours],
        "postgres_qps": [r["qps"] for r in theirs],
        "pamatch_p50_ms": [r["p50_ms"] for r in ours],
        "postgres_p50_ms": [r["p50_ms"] for r in theirs],
        "worst_qps_ratio": ratio(min(r["qps"] for r in ours),
                                 max(r["qps"] for r in theirs)),
        "worst_p50_ratio": ratio(min(r["p50_ms"] for r in theirs),
                                 max(r["p50_ms"] for r in ours)),
    }


def ratio(numerator, denominator):
    return numerator / denominator if denominator > 0 else None


def compare(pair, target):
    ours, theirs = median_run(pair["pamatch"]), median_run(pair["postgres"])
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
    return {"rounds": {"pamatch": len(pair["pamatch"]),
                       "postgres": len(pair["postgres"])},
            "kinds": rows, "targets_met": met, "spread": spread(pair)}


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
        rounds = result["rounds"]
        several = rounds["pamatch"] > 1 or rounds["postgres"] > 1
        if several:
            print(f"  medians of {rounds['pamatch']} pa-match and "
                  f"{rounds['postgres']} PostgreSQL rounds")
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
        spread_ = result["spread"]
        if several and spread_ is not None:
            def span(values, digits=1):
                return f"{fmt(min(values), digits)}-{fmt(max(values), digits)}"
            print(f"  rounds, row 'all': pa-match {span(spread_['pamatch_qps'])} "
                  f"qps, p50 {span(spread_['pamatch_p50_ms'], 2)} ms; "
                  f"PostgreSQL {span(spread_['postgres_qps'])} qps, p50 "
                  f"{span(spread_['postgres_p50_ms'], 2)} ms")
            print(f"  worst pairing (pa-match's worst round against "
                  f"PostgreSQL's best): {fmt(spread_['worst_qps_ratio'])}x "
                  f"throughput, {fmt(spread_['worst_p50_ratio'])}x median "
                  f"latency")
        met = result["targets_met"]
        print(f"  throughput: {'met' if met['throughput'] else 'NOT MET'}; "
              f"median latency: {'met' if met['median_latency'] else 'NOT MET'}")
    with open(args.results / "ratios.json", "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
