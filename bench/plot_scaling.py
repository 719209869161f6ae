#!/usr/bin/env python3
"""Plots how search cost grows with the number of profiles.

Reads Google Benchmark JSON files written by search_bench
(--benchmark_format=json, one per population) and writes one self-contained
SVG: p50 latency per query type against profiles, log-log, index (solid)
and reference scan (dashed). No plotting library needed.

  for n in 10000 100000 1000000; do
    PA_MATCH_BENCH_PROFILES=$n build/bench/search_bench --benchmark_min_time=0.5 \
      --benchmark_format=json > /tmp/scaling-$n.json
  done
  python3 bench/plot_scaling.py /tmp/scaling-*.json > docs/img/search-scaling.svg
"""
import json
import math
import sys

COLOURS = {"dense_city": "#1b9e77", "broad": "#d95f02", "rural": "#7570b3",
           "narrow": "#e7298a", "short_notice": "#66a61e",
           "mix": "#333333"}  # the five kinds in turn (index only)


def load(paths):
    """{(kind, 'index'|'scan'): {profiles: p50_us}}"""
    series = {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        for b in data["benchmarks"]:
            name = b["name"]  # BM_IndexSearch/dense_city
            system = "index" if name.startswith("BM_IndexSearch") else "scan"
            kind = name.split("/")[1]
            series.setdefault((kind, system), {})[int(b["profiles"])] = b["p50_us"]
    return series


def main(paths):
    series = load(paths)
    xs = sorted({n for s in series.values() for n in s})
    ys = [v for s in series.values() for v in s.values()]
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    w, h, left, right, top, bottom = 720, 440, 70, 150, 30, 50
    pw, ph = w - left - right, h - top - bottom

    def px(n):
        return left + (math.log10(n) - x0) / max(1e-9, x1 - x0) * pw

    def py(us):
        return top + ph - (math.log10(us) - y0) / (y1 - y0) * ph

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">Search p50 latency against '
           'profiles (national data, single thread, log-log)</text>']
    for e in range(y0, y1 + 1):
        y = py(10 ** e)
        label = f"{10 ** e:g} us" if e < 3 else f"{10 ** (e - 3):g} ms"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for n in xs:
        x = px(n)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{n:,}</text>')
    out.append(f'<text x="{left + pw / 2}" y="{h - 8}" text-anchor="middle">profiles</text>')
    for (kind, system), points in sorted(series.items()):
        pts = " ".join(f"{px(n):.1f},{py(v):.1f}" for n, v in sorted(points.items()))
        dash = "" if system == "index" else ' stroke-dasharray="6,4"'
        out.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS.get(kind, "#333")}" '
                   f'stroke-width="2"{dash}/>')
        for n, v in sorted(points.items()):
            out.append(f'<circle cx="{px(n):.1f}" cy="{py(v):.1f}" r="3" '
                       f'fill="{COLOURS.get(kind, "#333")}"/>')
    ly = top + 10
    for kind, colour in COLOURS.items():
        out.append(f'<line x1="{left + pw + 15}" y1="{ly}" x2="{left + pw + 40}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{left + pw + 45}" y="{ly + 4}">{kind}</text>')
        ly += 18
    out.append(f'<text x="{left + pw + 15}" y="{ly + 10}">solid: index</text>')
    out.append(f'<text x="{left + pw + 15}" y="{ly + 28}">dashed: scan</text>')
    out.append("</svg>")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
