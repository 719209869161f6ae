#!/usr/bin/python3
"""Differential test: the real pa-matchd against matching_oracle.py.

Starts the server on a fresh data directory, loads seeded random profiles
and policies (random_cases.py), runs random searches through the gRPC API,
walks every page, and compares each page with the oracle: total_matches,
as_of, applied_policy, the ordered ids, the rounded scores (exact), the
distances, register levels, next_page_token presence and, with explain, the
whole explanation. Also compares GetProfile's register_level and version
with the oracle's for every profile.

Three rounds of searches: after the initial bulk load; after a round of
writes (updates with version 0 and explicit versions, stale updates that must
fail with FAILED_PRECONDITION, deletes, a second bulk stream, policy sets and
deletes); and after a kill -9 and restart on the same data directory.

Usage:
  /usr/bin/python3 tests/oracle/differential_test.py \
      --server build/service/pa-matchd [--requests 300] [--seed N]
      [--profiles N] [--keep] [--max-reports 10]
      [--haversine degrees|radians-diff] [--no-restart]
      [--distance-quantum-km Q]
The server path may also come from $PA_MATCHD, the request count from
$PA_ORACLE_REQUESTS and the seed from $PA_ORACLE_SEED. A new seed is drawn
each run unless given; it is printed first so a failure can be replayed.
Exit status: 0 all pages agree, 1 any disagreement, 2 set-up failure.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import matching_oracle  # noqa: E402
import random_cases  # noqa: E402

SCORE_COMPONENT_TOL = 1e-9
DISTANCE_TOL_KM = 1e-9


class SetupError(Exception):
    pass


# ---------------------------------------------------------------------------
# Set-up: stubs, server, channel.
# ---------------------------------------------------------------------------


def generate_stubs(out_dir):
    """Compiles the API's Python stubs with Debian's protoc (the protoc in
    python3-grpc-tools predates proto3 `optional`)."""
    os.makedirs(out_dir, exist_ok=True)
    protoc = shutil.which("protoc") or "/usr/bin/protoc"
    plugin = shutil.which("grpc_python_plugin") or "/usr/bin/grpc_python_plugin"
    if not os.path.exists(protoc) or not os.path.exists(plugin):
        raise SetupError("need protoc and grpc_python_plugin: apt-get install "
                         "protobuf-compiler protobuf-compiler-grpc")
    cmd = [protoc, "--python_out=" + out_dir, "--grpc_python_out=" + out_dir,
           "--plugin=protoc-gen-grpc_python=" + plugin,
           "-I", os.path.join(ROOT, "proto"), "pamatch/v1/matcher.proto"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SetupError("protoc failed: %s" % done.stderr)
    sys.path.insert(0, out_dir)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The pa-matchd process under test, on a fresh data directory that
    survives restarts."""

    def __init__(self, binary, work_dir, taxonomy_path):
        self.binary = binary
        self.taxonomy_path = taxonomy_path
        self.data_dir = os.path.join(work_dir, "data")
        self.log_path = os.path.join(work_dir, "server.log")
        self.log = open(self.log_path, "a")
        self.process = None
        self.address = None

    def start(self):
        self.address = "127.0.0.1:%d" % free_port()
        cmd = [self.binary, "--listen", self.address, "--data_dir",
               self.data_dir, "--taxonomy", self.taxonomy_path,
               "--demo_profiles", "0"]
        self.process = subprocess.Popen(cmd, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        print("server: pid %d, %s" % (self.process.pid, " ".join(cmd)))

    def log_tail(self, lines=30):
        self.log.flush()
        with open(self.log_path) as f:
            return "".join(f.readlines()[-lines:])

    def wait_ready(self, grpc, timeout_s=60):
        """Waits for admin.key and a SERVING health check (or, if there is no
        health service, any answer). Returns the admin key."""
        deadline = time.time() + timeout_s
        key_path = os.path.join(self.data_dir, "admin.key")
        channel = grpc.insecure_channel(self.address)
        health = channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=lambda raw: raw,
            response_deserializer=lambda raw: raw)
        try:
            while time.time() < deadline:
                if self.process.poll() is not None:
                    raise SetupError("server exited with %s:\n%s" %
                                     (self.process.returncode, self.log_tail()))
                key = ""
                if os.path.exists(key_path):
                    with open(key_path) as f:
                        key = f.read().strip()
                if key:
                    try:
                        # HealthCheckResponse{status: SERVING} is 08 01.
                        if health(b"", timeout=2) == b"\x08\x01":
                            return key
                    except grpc.RpcError as err:
                        if err.code() == grpc.StatusCode.UNIMPLEMENTED:
                            return key
                time.sleep(0.2)
        finally:
            channel.close()
        raise SetupError("server not ready after %ds:\n%s" %
                         (timeout_s, self.log_tail()))

    def kill9(self):
        """SIGKILL, as a crash or power cut would: acknowledged writes must
        survive it."""
        self.process.kill()
        self.process.wait()
        print("server: killed with SIGKILL")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


# ---------------------------------------------------------------------------
# Comparison.
# ---------------------------------------------------------------------------


def result_as_dict(result, json_format):
    return json_format.MessageToDict(result, preserving_proto_field_name=True,
                                     including_default_value_fields=True)


def compare_result(server, expected, explain):
    """Differences between one server SearchResult and the oracle's, as a
    list of strings (empty = same)."""
    diffs = []
    if server.id != expected["id"]:
        return ["id %r != oracle %r" % (server.id, expected["id"])]
    if server.score != expected["score"]:
        diffs.append("score %r != oracle %r (oracle unrounded %r)" %
                     (server.score, expected["score"], expected["raw_score"]))
    if abs(server.distance_km - expected["distance_km"]) > DISTANCE_TOL_KM:
        diffs.append("distance_km %r != oracle %r" %
                     (server.distance_km, expected["distance_km"]))
    if server.register_level != expected["register_level"]:
        diffs.append("register_level %d != oracle %d" %
                     (server.register_level, expected["register_level"]))
    has = server.HasField("explanation")
    if has != explain:
        diffs.append("explanation present=%s, explain=%s" % (has, explain))
    if not (explain and has):
        return diffs
    got = server.explanation
    want = expected["explanation"]
    got_components = [(c.name, c.value, c.weight) for c in got.components]
    if [c[0] for c in got_components] != [c[0] for c in want["components"]]:
        diffs.append("components %s != oracle %s" %
                     ([c[0] for c in got_components],
                      [c[0] for c in want["components"]]))
    else:
        for (name, value, weight), (_, wvalue, wweight) in zip(
                got_components, want["components"]):
            if abs(value - wvalue) > SCORE_COMPONENT_TOL:
                diffs.append("component %s value %r != oracle %r" %
                             (name, value, wvalue))
            if abs(weight - wweight) > 1e-12:
                diffs.append("component %s weight %r != oracle %r" %
                             (name, weight, wweight))
    for field in ("matched_skills", "missing_skills", "shared_interests"):
        # In the request's order (first occurrence), as the proto says.
        if list(getattr(got, field)) != want[field]:
            diffs.append("%s %s != oracle %s" %
                         (field, list(getattr(got, field)), want[field]))
    # Rounded to 3 decimals on both sides (the exact binary value, ties to
    # even): equal, unless the raw distances straddle a half by an ulp.
    if got.distance_km != want["distance_km"]:
        diffs.append("explanation.distance_km %r != oracle %r" %
                     (got.distance_km, want["distance_km"]))
    for field in ("covered_slots", "needed_slots", "register_level"):
        if getattr(got, field) != want[field]:
            diffs.append("explanation.%s %d != oracle %d" %
                         (field, getattr(got, field), want[field]))
    return diffs


class Mismatch(Exception):
    """One disagreement; category groups similar ones in the summary."""

    def __init__(self, category, message):
        super().__init__(message)
        self.category = category


def categorize(diffs, got, exp):
    """A short name for the first difference of a result, for the summary."""
    first = diffs[0]
    if got is None or exp is None:
        return "result " + first
    if got is not None and exp is not None and got.id != exp["id"]:
        if got.score != exp["score"]:
            return "order: different scores at this position"
        if got.distance_km == exp["distance_km"]:
            return "order: same score and distance, id order differs"
        if abs(got.distance_km - exp["distance_km"]) <= 1e-9:
            return ("order: same score, distances differ by < 1e-9 km "
                    "(float noise, e.g. mirror-image points)")
        return "order: same score, different distance"
    return first.split(" ")[0].split("=")[0]


class Run:
    def __init__(self, args, pb2, pb2_grpc, grpc, json_format):
        self.args = args
        self.pb2 = pb2
        self.grpc = grpc
        self.json_format = json_format
        with open(args.taxonomy) as f:
            self.taxonomy = json.load(f)
        distance_fn = (matching_oracle.haversine_km_radians_diff
                       if args.haversine == "radians-diff"
                       else matching_oracle.haversine_km)
        self.oracle = matching_oracle.Oracle(self.taxonomy, distance_fn,
                                             args.distance_quantum_km)
        self.gen = random_cases.CaseGenerator(self.taxonomy, args.seed)
        self.channel = None
        self.stub = None
        self.pb2_grpc = pb2_grpc
        self.metadata = None
        self.request_number = 0
        self.profiles = {}   # id -> the profile dict last acknowledged
        self.versions = {}   # id -> its stored version
        self.policies = {}   # local_authority -> policy dict
        self.failures = []
        self.pages_checked = 0
        self.results_checked = 0

    def connect(self, address, key):
        if self.channel is not None:
            self.channel.close()
        self.channel = self.grpc.insecure_channel(address)
        self.stub = self.pb2_grpc.MatcherStub(self.channel)
        self.metadata = (("authorization", "Bearer " + key),)

    def fail(self, kind, detail):
        self.failures.append({"kind": kind, "detail": detail})

    # ---- writes ------------------------------------------------------------

    def bulk_upsert(self, profiles, what, stale=()):
        """Streams the profiles; records the accepted ones (and their stored
        versions) as the oracle's state. Every item is valid, so every item
        must be accepted, except the positions in `stale`, which carry a
        version <= the stored one and must fail with FAILED_PRECONDITION (9).
        Items are applied in stream order (an id may come twice)."""
        requests = [self.json_format.ParseDict({"profile": p},
                                               self.pb2.UpsertProfileRequest())
                    for p in profiles]
        reply = self.stub.BulkUpsertProfiles(iter(requests),
                                             metadata=self.metadata, timeout=300)
        if len(reply.results) != len(profiles):
            self.fail("bulk upsert", "%s: %d results for %d items" % (
                what, len(reply.results), len(profiles)))
        for r in reply.results:
            p = profiles[r.index]
            if r.index in stale:
                if r.code != 9:
                    self.fail("bulk upsert of a stale version",
                              "%s: index %d id %r (stored %d, sent %d): code %d %s" % (
                                  what, r.index, r.id, self.versions[r.id],
                                  p["version"], r.code, r.error))
                if r.code != 0:
                    continue
            elif r.code != 0:
                self.fail("bulk upsert rejected a valid profile",
                          "%s: index %d id %r code %d: %s\nprofile: %s" % (
                              what, r.index, r.id, r.code, r.error,
                              json.dumps(p, sort_keys=True)))
                continue
            expected_version = (p["version"] if p["version"] > 0 else
                                self.versions.get(p["id"], 0) + 1)
            if r.version != expected_version or r.id != p["id"]:
                self.fail("bulk upsert version",
                          "%s: index %d id %r: stored version %d, expected %d" % (
                              what, r.index, r.id, r.version, expected_version))
            self.profiles[p["id"]] = p
            self.versions[p["id"]] = r.version
        print("%s: %d sent, %d accepted" % (what, len(profiles), reply.accepted))

    def upsert(self, profile, expect_stale=False):
        message = self.json_format.ParseDict({"profile": profile},
                                             self.pb2.UpsertProfileRequest())
        pid = profile["id"]
        try:
            reply = self.stub.UpsertProfile(message, metadata=self.metadata,
                                            timeout=30)
        except self.grpc.RpcError as err:
            if expect_stale and err.code() == self.grpc.StatusCode.FAILED_PRECONDITION:
                return
            self.fail("upsert", "id %r (stored version %s, sent %d): %s %s" % (
                pid, self.versions.get(pid), profile["version"], err.code(),
                err.details()))
            return
        if expect_stale:
            self.fail("stale upsert accepted",
                      "id %r: stored version %d, sent %d, got OK version %d" % (
                          pid, self.versions[pid], profile["version"],
                          reply.version))
        expected_version = (profile["version"] if profile["version"] > 0 else
                            self.versions.get(pid, 0) + 1)
        if reply.version != expected_version:
            self.fail("upsert version", "id %r: stored %d, expected %d" % (
                pid, reply.version, expected_version))
        self.profiles[pid] = profile
        self.versions[pid] = reply.version

    def set_policy(self, policy):
        self.stub.SetPolicy(self.json_format.ParseDict(
            {"policy": policy}, self.pb2.SetPolicyRequest()),
            metadata=self.metadata, timeout=30)
        self.policies[policy["local_authority"]] = policy

    def load(self):
        rng = random.Random(self.args.seed ^ 0x5EED)
        count = self.args.profiles or rng.randint(200, 2000)
        self.bulk_upsert(self.gen.profiles(count), "profiles")
        for policy in self.gen.policies().values():
            self.set_policy(policy)
        print("policies: %s" % json.dumps(self.policies, sort_keys=True))

    def write_phase(self):
        """Updates, stale updates, deletes, a second bulk load and policy
        changes between two rounds of searches: a search must see exactly
        the acknowledged state (no stale index entries)."""
        gen = self.gen
        ids = sorted(self.profiles)
        count = max(5, len(ids) // 10)
        for pid in gen.rng.sample(ids, count):
            self.upsert(gen.mutated(self.profiles[pid], self.versions[pid]))
        for pid in gen.rng.sample(ids, max(2, count // 4)):
            stale = gen.mutated(self.profiles[pid], self.versions[pid])
            stale["version"] = max(1, self.versions[pid] - gen.rng.choice([0, 0, 1]))
            self.upsert(stale, expect_stale=True)
        for pid in gen.rng.sample(sorted(self.profiles), max(2, count // 3)):
            try:
                self.stub.DeleteProfile(self.pb2.DeleteProfileRequest(id=pid),
                                        metadata=self.metadata, timeout=30)
            except self.grpc.RpcError as err:
                self.fail("delete", "id %r: %s %s" % (pid, err.code(), err.details()))
                continue
            del self.profiles[pid]
            del self.versions[pid]
        # A second bulk stream: new profiles and updates of existing ones.
        batch = gen.profiles(max(5, count // 2))
        for pid in gen.rng.sample(sorted(self.profiles), max(2, count // 4)):
            batch.append(gen.mutated(self.profiles[pid], self.versions[pid]))
        gen.rng.shuffle(batch)
        # One id twice, both "version 0": stored + 1, then stored + 2; and a
        # stale item (its version is the stored one) that must fail alone.
        twice = gen.rng.choice(sorted(self.profiles))
        first = gen.mutated(self.profiles[twice], self.versions[twice])
        first["version"] = 0
        second = gen.mutated(first, 0)
        second["version"] = 0
        batch += [first, second]
        victim = gen.rng.choice([pid for pid in sorted(self.profiles)
                                 if pid != twice])
        stale = gen.mutated(self.profiles[victim], self.versions[victim])
        stale["version"] = self.versions[victim]
        batch.append(stale)
        self.bulk_upsert(batch, "second bulk load", stale={len(batch) - 1})
        sets, deletes = gen.policy_changes(self.policies)
        for la in deletes:
            try:
                self.stub.DeletePolicy(self.pb2.DeletePolicyRequest(local_authority=la),
                                       metadata=self.metadata, timeout=30)
                del self.policies[la]
            except self.grpc.RpcError as err:
                self.fail("delete policy", "%s: %s %s" % (la, err.code(), err.details()))
        for policy in sets.values():
            self.set_policy(policy)
        print("writes: %d profiles now, policies %s" % (
            len(self.profiles), json.dumps(self.policies, sort_keys=True)))

    def check_profiles(self):
        """GetProfile of every stored profile: register_level as derived by
        the oracle, and the stored version."""
        for pid, p in self.profiles.items():
            try:
                got = self.stub.GetProfile(self.pb2.GetProfileRequest(id=pid),
                                           metadata=self.metadata, timeout=30)
            except self.grpc.RpcError as err:
                self.fail("GetProfile", "id %r: %s %s" % (pid, err.code(), err.details()))
                continue
            want = matching_oracle.register_level(p, self.oracle.taxonomy)
            if got.register_level != want:
                self.fail("GetProfile register_level",
                          "id %r: server %d, oracle %d\nprofile: %s" % (
                              pid, got.register_level, want,
                              json.dumps(p, sort_keys=True)))
            if got.profile.version != self.versions[pid]:
                self.fail("GetProfile version", "id %r: server %d, expected %d" % (
                    pid, got.profile.version, self.versions[pid]))

    # ---- searching ---------------------------------------------------------

    def run_request(self, number, req):
        today_before = datetime.datetime.now(datetime.timezone.utc).date()
        message = self.json_format.ParseDict(req, self.pb2.SearchRequest())
        page_sizes = []
        offset = 0
        page_index = 0
        expected = None
        token = ""
        explain = bool(req.get("explain"))
        # Its own RNG: how many pages there are must not shift the stream
        # the next requests are drawn from.
        paging_rng = random.Random(self.args.seed * 100003 + number)
        vary_size = paging_rng.random() < 0.1
        while True:
            if token:
                message.page_token = token
                if vary_size:
                    message.page_size = paging_rng.choice([1, 5, 20, 100])
            page_sizes.append(message.page_size)
            try:
                resp = self.stub.Search(message, metadata=self.metadata,
                                        timeout=60)
            except self.grpc.RpcError as err:
                raise Mismatch("Search failed: %s" % err.code(),
                               "page %d: Search failed: %s %s (page sizes %s)" %
                               (page_index, err.code(), err.details(), page_sizes))
            if expected is None:
                today_after = datetime.datetime.now(datetime.timezone.utc).date()
                today = datetime.date.fromisoformat(resp.as_of) if (
                    not req.get("as_of") and resp.as_of in (
                        today_before.isoformat(), today_after.isoformat())
                ) else today_before
                expected = self.oracle.search(self.profiles.values(), req,
                                              self.policies, today)
            self.compare_page(req, page_index, offset, message.page_size,
                              resp, expected, explain)
            self.pages_checked += 1
            offset += len(resp.results)
            token = resp.next_page_token
            if not token:
                return expected["total_matches"], page_index + 1
            page_index += 1
            if page_index > 10000:
                raise Mismatch("paging", "more than 10000 pages")

    def compare_page(self, req, page_index, offset, page_size, resp, expected,
                     explain):
        where = "page %d (offset %d, page_size %d)" % (page_index, offset,
                                                       page_size)
        if resp.total_matches != expected["total_matches"]:
            raise Mismatch("total_matches", "%s: total_matches %d != oracle %d" % (
                where, resp.total_matches, expected["total_matches"]))
        if resp.as_of != expected["as_of"]:
            raise Mismatch("as_of", "%s: as_of %r != oracle %r" % (
                where, resp.as_of, expected["as_of"]))
        if resp.applied_policy != expected["applied_policy"]:
            raise Mismatch("applied_policy", "%s: applied_policy %r != oracle %r" % (
                where, resp.applied_policy, expected["applied_policy"]))
        want, has_more = matching_oracle.Oracle.page(
            expected["results"], offset, page_size)
        got_ids = [r.id for r in resp.results]
        want_ids = [r["id"] for r in want]
        for pos in range(max(len(got_ids), len(want_ids))):
            got = resp.results[pos] if pos < len(got_ids) else None
            exp = want[pos] if pos < len(want_ids) else None
            diffs = (compare_result(got, exp, explain) if got and exp else
                     ["missing on the server" if exp else "extra on the server"])
            if diffs:
                category = categorize(diffs, got, exp)
                if category.startswith("order: same score") and \
                        self.mirror_tie(req, got.id, exp["id"]):
                    category = ("order: mirror-image tie (equal distances in "
                                "exact arithmetic; the server's differ in the "
                                "last bits)")
                raise Mismatch(
                    category,
                    "%s, position %d (overall %d): %s\n  server ids: %s\n"
                    "  oracle ids: %s\n  server: %s\n  oracle: %s%s" % (
                        where, pos, offset + pos, "; ".join(diffs), got_ids,
                        want_ids,
                        json.dumps(result_as_dict(got, self.json_format))
                        if got else None,
                        json.dumps(exp) if exp else None,
                        self.profiles_text(got, exp)))
        self.results_checked += len(want)
        if bool(resp.next_page_token) != has_more:
            raise Mismatch("next_page_token", "%s: next_page_token %s but the oracle has %s" % (
                where, "set" if resp.next_page_token else "empty",
                "more results" if has_more else "no more results"))

    def mirror_tie(self, req, id_a, id_b):
        """True when the two profiles are mirror images about the search's
        meridian (same latitude, longitudes lon0 - d and lon0 + d), so
        their distances are equal in exact arithmetic."""
        a, b = self.profiles.get(id_a), self.profiles.get(id_b)
        if a is None or b is None:
            return False
        if "location" in req:
            lon0 = req["location"]["lon"]
        else:
            lon0 = self.oracle.taxonomy.centres[req["local_authority"]][1]
        la, lb = a["location"], b["location"]
        return (la["lat"] == lb["lat"] and
                abs((la["lon"] - lon0) + (lb["lon"] - lon0)) < 1e-12 and
                la["lon"] != lb["lon"])

    def profiles_text(self, got, exp):
        ids = []
        for r in (got, exp):
            if r is None:
                continue
            pid = r["id"] if isinstance(r, dict) else r.id
            if pid not in ids:
                ids.append(pid)
        return "".join("\n  profile %s: %s" % (
            pid, json.dumps(self.profiles.get(pid), sort_keys=True)) for pid in ids)

    def run_searches(self, count):
        ids = list(self.profiles) + ["deleted-or-unknown"]
        policy_las = list(self.policies)
        pages_before = self.pages_checked
        total_results = 0
        for _ in range(count):
            number = self.request_number
            self.request_number += 1
            req = self.gen.request(ids, policy_las)
            try:
                matches, pages = self.run_request(number, req)
                total_results += matches
            except Mismatch as m:
                self.fail("search: " + m.category, "request #%d %s\n%s" % (
                    number, json.dumps(req, sort_keys=True), m))
        print("searches: %d requests, %d pages, %d matches" % (
            count, self.pages_checked - pages_before, total_results))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", default=os.environ.get("PA_MATCHD"))
    parser.add_argument("--requests", type=int,
                        default=int(os.environ.get("PA_ORACLE_REQUESTS", "300")))
    parser.add_argument("--seed", type=int,
                        default=(int(os.environ["PA_ORACLE_SEED"])
                                 if os.environ.get("PA_ORACLE_SEED") else None))
    parser.add_argument("--profiles", type=int, default=0,
                        help="population size (default: random 200..2000)")
    parser.add_argument("--taxonomy",
                        default=os.path.join(ROOT, "taxonomy", "north_east.json"))
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory (data, server log)")
    parser.add_argument("--max-reports", type=int, default=10)
    parser.add_argument("--no-restart", dest="restart", action="store_false",
                        help="skip the kill -9 and restart before the last "
                             "third of the searches")
    parser.add_argument(
        "--haversine", choices=("degrees", "radians-diff"), default="degrees",
        help="oracle distance: 'degrees' (the contract: differences taken in "
             "degrees, mirror images tie exactly) or 'radians-diff' "
             "(diagnostic: mimic an engine that subtracts radians, to look "
             "past that disagreement)")
    parser.add_argument(
        "--distance-quantum-km", type=float, default=0.0,
        help="order equal scores by distance rounded to this many km "
             "(default 0: full precision, as MATCHING.md says); for trying a "
             "tie rule that float noise cannot break")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2**31)
    print("seed: %d (replay with --seed %d)" % (args.seed, args.seed))
    sys.stdout.flush()
    if not args.server or not os.path.exists(args.server):
        print("no server binary: pass --server or set PA_MATCHD (got %r)" %
              args.server)
        return 2

    work_dir = tempfile.mkdtemp(prefix="pa-oracle-")
    server = None
    try:
        generate_stubs(os.path.join(work_dir, "gen"))
        try:
            import grpc
            from google.protobuf import json_format
            from pamatch.v1 import matcher_pb2, matcher_pb2_grpc
        except ImportError as err:
            raise SetupError("%s: apt-get install python3-grpcio "
                             "python3-protobuf" % err)
        server = Server(os.path.abspath(args.server), work_dir, args.taxonomy)
        server.start()
        key = server.wait_ready(grpc)
        run = Run(args, matcher_pb2, matcher_pb2_grpc, grpc, json_format)
        run.connect(server.address, key)
        started = time.time()
        first = args.requests // 3
        second = args.requests // 3
        third = args.requests - first - second
        run.load()
        run.check_profiles()
        run.run_searches(first)
        run.write_phase()
        run.check_profiles()
        run.run_searches(second)
        if args.restart:
            server.kill9()
            server.start()
            key = server.wait_ready(grpc)
            run.connect(server.address, key)
            run.check_profiles()
        run.run_searches(third)
        print("time: %.1f s; %d pages, %d results compared" % (
            time.time() - started, run.pages_checked, run.results_checked))
    except SetupError as err:
        print("SET-UP FAILURE: %s" % err)
        return 2
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print("work dir kept: %s" % work_dir)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    if run.failures:
        print("\nFAILED: %d disagreement(s), seed %d" % (len(run.failures),
                                                         args.seed))
        kinds = {}
        for failure in run.failures:
            kinds[failure["kind"]] = kinds.get(failure["kind"], 0) + 1
        for kind, count in sorted(kinds.items(), key=lambda kv: -kv[1]):
            print("  %4d  %s" % (count, kind))
        for failure in run.failures[:args.max_reports]:
            print("\n--- %s\n%s" % (failure["kind"], failure["detail"]))
        if len(run.failures) > args.max_reports:
            print("\n(%d more not shown)" % (len(run.failures) - args.max_reports))
        return 1
    print("OK: server and oracle agree (seed %d)" % args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
