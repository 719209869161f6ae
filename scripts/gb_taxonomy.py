#!/usr/bin/env python3
"""Writes taxonomy/great_britain.json from taxonomy/gb_places.csv.

The national vocabulary is the North East one (taxonomy/north_east.json:
skills, training, qualifications, interests, languages, copied unchanged)
with one local authority per row of the places table (code, name and the
row's point as the authority's centre), in table order. Run it after editing
the table; tests/demo_data_national_test.cc fails while the two disagree.

Usage: python3 scripts/gb_taxonomy.py [--check]
  --check: exit 1 if the committed file differs from what would be written.
"""
import csv
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PLACES = ROOT / "taxonomy" / "gb_places.csv"
NORTH_EAST = ROOT / "taxonomy" / "north_east.json"
OUT = ROOT / "taxonomy" / "great_britain.json"


def authorities():
    """The table's rows as taxonomy local_authorities entries."""
    with PLACES.open(newline="") as f:
        lines = [line for line in f if not line.startswith("#")]
    rows = list(csv.DictReader(lines))
    seen = set()
    out = []
    for row in rows:
        code = row["la_code"]
        if code in seen:
            sys.exit(f"{PLACES}: duplicate la_code {code}")
        seen.add(code)
        out.append({"code": code, "name": row["la_name"],
                    "lat": float(row["lat"]), "lon": float(row["lon"])})
    return out


def render():
    base = json.loads(NORTH_EAST.read_text())
    base["local_authorities"] = authorities()
    # Same layout as north_east.json (json.dump, indent 1, final newline).
    return json.dumps(base, indent=1, ensure_ascii=False) + "\n"


def main():
    text = render()
    if "--check" in sys.argv[1:]:
        if OUT.read_text() != text:
            print(f"{OUT} is stale: run scripts/gb_taxonomy.py",
                  file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
