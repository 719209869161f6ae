#!/usr/bin/env python3
"""Tests bench/postgres/ratios.py on result files written here: pairs by
concurrency, both ratios (overall and per kind), the targets' verdicts, the
file it writes, several rounds (medians, spread, worst pairing), and its
refusal when there is nothing to compare."""
import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "bench/postgres/ratios.py"


def run_file(system, concurrency, kinds):
    return {"system": system, "concurrency": concurrency, "duration_s": 20.0,
            "warmup_s": 3.0,
            "kinds": {k: {"requests": 1, "qps": qps, "p50_ms": p50,
                          "p90_ms": p50, "p99_ms": p50, "max_ms": p50}
                      for k, (qps, p50) in kinds.items()}}


class RatiosTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.results = pathlib.Path(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def write(self, name, content):
        (self.results / name).write_text(json.dumps(content))

    def run_script(self, *flags):
        return subprocess.run(
            [sys.executable, str(SCRIPT), str(self.results), *flags],
            capture_output=True, text=True)

    def test_pairs_by_concurrency_and_judges_each(self):
        # C=4: 120x throughput, 150x median; C=16: 90x throughput, exactly
        # 100x median; C=32: exactly 100x throughput, 99.5x median (exactly
        # the target counts as met).
        self.write("pamatch-c4.json", run_file("pamatch", 4, {
            "all": (6000.0, 0.5), "narrow": (1200.0, 0.4)}))
        self.write("postgres-c4.json", run_file("postgres", 4, {
            "all": (50.0, 75.0), "narrow": (10.0, 20.0)}))
        self.write("pamatch-c16.json", run_file("pamatch", 16, {
            "all": (4500.0, 2.0)}))
        self.write("postgres-c16.json", run_file("postgres", 16, {
            "all": (50.0, 200.0)}))
        self.write("pamatch-c32.json", run_file("pamatch", 32, {
            "all": (5000.0, 2.0)}))
        self.write("postgres-c32.json", run_file("postgres", 32, {
            "all": (50.0, 199.0)}))
        # A run without its partner is left out.
        self.write("pamatch-c64.json", run_file("pamatch", 64, {
            "all": (1.0, 1.0)}))
        done = self.run_script()
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads((self.results / "ratios.json").read_text())
        self.assertEqual(sorted(report["by_concurrency"]), ["16", "32", "4"])
        c4 = report["by_concurrency"]["4"]
        rows = {r["kind"]: r for r in c4["kinds"]}
        self.assertAlmostEqual(rows["all"]["qps_ratio"], 120.0)
        self.assertAlmostEqual(rows["all"]["p50_ratio"], 150.0)
        self.assertAlmostEqual(rows["narrow"]["qps_ratio"], 120.0)
        self.assertAlmostEqual(rows["narrow"]["p50_ratio"], 50.0)
        self.assertEqual(c4["targets_met"],
                         {"throughput": True, "median_latency": True})
        c16 = report["by_concurrency"]["16"]
        self.assertEqual(c16["targets_met"],
                         {"throughput": False, "median_latency": True})
        c32 = report["by_concurrency"]["32"]
        self.assertEqual(c32["targets_met"],
                         {"throughput": True, "median_latency": False})
        self.assertIn("throughput: NOT MET; median latency: met", done.stdout)
        self.assertIn("throughput: met; median latency: NOT MET", done.stdout)
        self.assertIn("120.0x", done.stdout)

    def test_only_the_concurrencies_asked_for(self):
        for c in (4, 16):
            self.write(f"pamatch-c{c}.json", run_file("pamatch", c, {
                "all": (6000.0, 0.5)}))
            self.write(f"postgres-c{c}.json", run_file("postgres", c, {
                "all": (50.0, 75.0)}))
        done = self.run_script("--concurrency", "16 64")
        self.assertEqual(done.returncode, 0, done.stderr)
        report = json.loads((self.results / "ratios.json").read_text())
        self.assertEqual(list(report["by_concurrency"]), ["16"])
        self.assertNotIn("concurrency 4:", done.stdout)

    def test_rounds_give_medians_spread_and_worst_pairing(self):
        # pa-match rounds: 5000/0.8, 7000/0.5, 6000/0.6 (medians 6000, 0.6);
        # PostgreSQL rounds: 50/70, 60/80 (medians 55, 75).
        for k, (qps, p50) in enumerate([(5000.0, 0.8), (7000.0, 0.5),
                                        (6000.0, 0.6)], start=1):
            self.write(f"pamatch-c4-r{k}.json", run_file("pamatch", 4, {
                "all": (qps, p50), "broad": (qps / 5, p50 * 2)}))
        for k, (qps, p50) in enumerate([(50.0, 70.0), (60.0, 80.0)], start=1):
            self.write(f"postgres-c4-r{k}.json", run_file("postgres", 4, {
                "all": (qps, p50), "broad": (qps / 5, p50)}))
        done = self.run_script()
        self.assertEqual(done.returncode, 0, done.stderr)
        c4 = json.loads((self.results / "ratios.json").read_text())[
            "by_concurrency"]["4"]
        self.assertEqual(c4["rounds"], {"pamatch": 3, "postgres": 2})
        rows = {r["kind"]: r for r in c4["kinds"]}
        self.assertAlmostEqual(rows["all"]["pamatch_qps"], 6000.0)
        self.assertAlmostEqual(rows["all"]["postgres_qps"], 55.0)
        self.assertAlmostEqual(rows["all"]["qps_ratio"], 6000.0 / 55.0)
        self.assertAlmostEqual(rows["all"]["p50_ratio"], 75.0 / 0.6)
        self.assertAlmostEqual(rows["broad"]["qps_ratio"], 1200.0 / 11.0)
        self.assertAlmostEqual(rows["broad"]["p50_ratio"], 75.0 / 1.2)
        self.assertEqual(c4["targets_met"],
                         {"throughput": True, "median_latency": True})
        # The worst pairing: pa-match's slowest round against PostgreSQL's
        # fastest, 5000 / 60 and 70 / 0.8.
        self.assertAlmostEqual(c4["spread"]["worst_qps_ratio"], 5000.0 / 60.0)
        self.assertAlmostEqual(c4["spread"]["worst_p50_ratio"], 70.0 / 0.8)
        self.assertEqual(sorted(c4["spread"]["pamatch_qps"]),
                         [5000.0, 6000.0, 7000.0])
        self.assertIn("medians of 3 pa-match and 2 PostgreSQL rounds",
                      done.stdout)
        self.assertIn("83.3x throughput, 87.5x median latency", done.stdout)
        self.assertIn("pa-match 5,000.0-7,000.0 qps", done.stdout)

    def test_nothing_to_compare_is_an_error(self):
        self.write("postgres-c4.json", run_file("postgres", 4, {
            "all": (50.0, 75.0)}))
        done = self.run_script()
        self.assertEqual(done.returncode, 1)
        self.assertIn("no pamatch-cN.json / postgres-cN.json pair", done.stderr)
        self.assertFalse((self.results / "ratios.json").exists())


if __name__ == "__main__":
    unittest.main()
