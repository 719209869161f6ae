#!/usr/bin/python3
"""End-to-end test of examples/portal_watch.py against a real pa-matchd.

Starts pa-matchd on a fresh data directory (loopback, a free port), posts
jobs in three local authorities, and runs the consumer on two of them while
PAs join, change and leave. Meanwhile the consumer is killed (SIGKILL) and
restarted, once right after it wrote a notification and before it saved
its position (its test-only --crash_after_notifications), and the server
itself is killed and restarted under it. At the end the outbox must hold
exactly the MATCH_STARTED events of those two authorities, each once, in
order: the same list a fresh Watch from the start of the log returns, and
one notification per (watched job, PA who fits it).

Usage (tests/examples.cmake runs it):
  /usr/bin/python3 examples/portal_watch_test.py --server build/service/pa-matchd
Exit status: 0 pass, 1 fail.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import portal_watch  # noqa: E402

NEWCASTLE, GATESHEAD, SUNDERLAND = "E08000021", "E08000037", "E08000024"
WATCHED = [NEWCASTLE, GATESHEAD]


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """pa-matchd on a fixed port and data directory, across restarts.
    `extra_args` go on its command line; `open_channel(grpc, address)`
    (default: plain text) reaches it for the health check."""

    def __init__(self, binary, work, extra_args=(), open_channel=None):
        self.binary = binary
        self.work = work
        self.address = "127.0.0.1:%d" % free_port()
        self.log = open(os.path.join(work, "server.log"), "a")
        self.process = None
        self.extra_args = list(extra_args)
        self.open_channel = open_channel or (
            lambda grpc, address: grpc.insecure_channel(address))

    def start(self, grpc):
        """Starts it, waits until it is SERVING and returns the admin key
        (from data/admin.key, made at first start; None if there is none:
        a keys file made beforehand)."""
        self.process = subprocess.Popen(
            [self.binary, "--listen", self.address, "--data_dir",
             os.path.join(self.work, "data"), "--taxonomy",
             os.path.join(ROOT, "taxonomy", "north_east.json"),
             "--demo_profiles", "0", "--watch_heartbeat_seconds", "0.5"] +
            self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        channel = self.open_channel(grpc, self.address)
        health = channel.unary_unary("/grpc.health.v1.Health/Check",
                                     request_serializer=lambda raw: raw,
                                     response_deserializer=lambda raw: raw)
        deadline = time.time() + 60
        try:
            while time.time() < deadline:
                if self.process.poll() is not None:
                    raise SystemExit("pa-matchd exited: %s" %
                                     self.process.returncode)
                try:
                    if health(b"", timeout=2) == b"\x08\x01":  # SERVING
                        break
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
            else:
                raise SystemExit("pa-matchd not serving")
        finally:
            channel.close()
        try:
            with open(os.path.join(self.work, "data", "admin.key")) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class Consumer:
    """examples/portal_watch.py as a subprocess."""

    def __init__(self, server, key, work):
        self.args = [sys.executable, os.path.join(HERE, "portal_watch.py"),
                     "--server", server.address, "--key", key,
                     "--local_authorities", ",".join(WATCHED),
                     "--position_file", os.path.join(work, "position"),
                     "--outbox", os.path.join(work, "outbox.jsonl")]
        self.log = open(os.path.join(work, "consumer.log"), "a")
        self.position_file = os.path.join(work, "position")
        self.outbox = os.path.join(work, "outbox.jsonl")
        self.process = None

    def start(self, *extra):
        self.process = subprocess.Popen(self.args + list(extra),
                                        stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def position(self):
        try:
            return portal_watch.read_position(self.position_file)
        except SystemExit:
            return None

    def wait_position(self, sequence, timeout=30):
        """Waits until the consumer has saved a position >= sequence."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            position = self.position()
            if position is not None and position >= sequence:
                return True
            if self.process.poll() is not None:
                return False
            time.sleep(0.05)
        return False

    def notifications(self):
        with open(self.outbox) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.kill9()
        self.log.close()


class Client:
    """The writes and reads the test makes itself."""

    def __init__(self, pb, pb_grpc, grpc, address, key):
        self.pb, self.grpc = pb, grpc
        self.channel = grpc.insecure_channel(address)
        self.stub = pb_grpc.MatcherStub(self.channel)
        self.metadata = [("authorization", "Bearer " + key)]

    def job(self, job_id, la, lat, lon, max_km):
        pb = self.pb
        job = pb.Job(id=job_id, status=pb.OPEN, request=pb.SearchRequest(
            location=pb.GeoPoint(lat=lat, lon=lon), local_authority=la,
            max_distance_km=max_km))
        return self.stub.UpsertJob(pb.UpsertJobRequest(job=job),
                                   metadata=self.metadata, timeout=10)

    def profile(self, profile_id, lat=54.9783, lon=-1.6178, travel=20):
        pb = self.pb
        profile = pb.Profile(
            id=profile_id, version=0, status=pb.ACTIVE,
            location=pb.GeoPoint(lat=lat, lon=lon), local_authority=NEWCASTLE,
            max_travel_km=travel,
            checks=pb.Checks(identity_verified=True,
                             code_of_conduct_signed=True))
        return self.stub.UpsertProfile(pb.UpsertProfileRequest(profile=profile),
                                       metadata=self.metadata, timeout=10)

    def delete_profile(self, profile_id):
        return self.stub.DeleteProfile(
            self.pb.DeleteProfileRequest(id=profile_id),
            metadata=self.metadata, timeout=10)

    def last_sequence(self):
        return self.stub.GetStats(self.pb.GetStatsRequest(),
                                  metadata=self.metadata,
                                  timeout=10).last_event_sequence

    def started_events(self, codes):
        """Every MATCH_STARTED for `codes` from the start of the log, read by
        a fresh Watch up to the current last sequence."""
        pb = self.pb
        last = self.last_sequence()
        request = pb.WatchRequest(
            local_authorities=pb.LocalAuthoritySet(codes=codes),
            after_sequence=0)
        events = []
        stream = self.stub.Watch(request, metadata=self.metadata, timeout=30)
        for event in stream:
            if event.kind == pb.WatchEvent.MATCH_STARTED:
                events.append(event)
            if event.sequence >= last:
                stream.cancel()
                break
        return events

    def close(self):
        self.channel.close()


def run(args, work):
    stubs = os.path.join(work, "stubs")
    os.makedirs(stubs)
    pb, pb_grpc = portal_watch.generate_stubs(
        os.path.join(ROOT, "proto"), stubs)
    import grpc  # noqa: E402

    server = Server(args.server, work)
    consumer = None
    client = None
    failures = []
    try:
        key = server.start(grpc)
        client = Client(pb, pb_grpc, grpc, server.address, key)
        # Two watched jobs in Newcastle, one in Gateshead (all reachable
        # from central Newcastle), and one in Sunderland nobody watches.
        client.job("ncl-1", NEWCASTLE, 54.9783, -1.6178, 30)
        client.job("ncl-2", NEWCASTLE, 54.98, -1.60, 30)
        client.job("gat-1", GATESHEAD, 54.95, -1.60, 30)
        client.job("sun-1", SUNDERLAND, 54.9069, -1.3838, 40)

        consumer = Consumer(server, key, work)
        consumer.start()
        if not consumer.wait_position(0):
            raise SystemExit("consumer never saved a position")

        joined = []

        def join(count):
            for _ in range(count):
                profile_id = "pa-%03d" % len(joined)
                client.profile(profile_id)
                joined.append(profile_id)

        join(3)
        if not consumer.wait_position(client.last_sequence()):
            failures.append("consumer did not catch up (round 1)")

        # Killed while PAs join; restarted after.
        consumer.kill9()
        join(3)
        client.delete_profile("pa-001")  # MATCH_ENDED: no notification
        consumer.start()
        join(2)
        if not consumer.wait_position(client.last_sequence()):
            failures.append("consumer did not catch up (round 2)")

        # Dies right after writing its next notification, before saving
        # its position: the restart must not send it again.
        consumer.kill9()
        consumer.start("--crash_after_notifications", "1")
        join(2)
        consumer.process.wait(timeout=30)
        if consumer.process.returncode != 9:
            failures.append("test hook: consumer exit %s, expected 9" %
                            consumer.process.returncode)
        consumer.start()
        if not consumer.wait_position(client.last_sequence()):
            failures.append("consumer did not catch up (round 3)")

        # The server is killed and restarted under the consumer, which
        # reconnects and resumes.
        server.kill9()
        client.close()
        key = server.start(grpc)
        client = Client(pb, pb_grpc, grpc, server.address, key)
        join(3)
        client.profile("pa-002")  # an update: still matching, no event
        if not consumer.wait_position(client.last_sequence(), timeout=60):
            failures.append("consumer did not catch up after the server "
                            "restart")

        # The outbox is exactly the MATCH_STARTED events of the watched
        # authorities, each once, in order.
        sent = consumer.notifications()
        expected = client.started_events(WATCHED)
        sent_keys = [(n["sequence"], n["job_id"], n["profile_id"])
                     for n in sent]
        expected_keys = [(e.sequence, e.job_id, e.profile_id)
                         for e in expected]
        if sent_keys != expected_keys:
            failures.append("outbox != the log's MATCH_STARTED events:\n"
                            "  sent     %s\n  expected %s" %
                            (sent_keys, expected_keys))
        pairs = [(n["job_id"], n["profile_id"]) for n in sent]
        if len(pairs) != len(set(pairs)):
            failures.append("a notification was sent twice: %s" % pairs)
        want = {(job, pa) for job in ("ncl-1", "ncl-2", "gat-1")
                for pa in joined}
        if set(pairs) != want:
            failures.append("notified pairs %s != expected %s" %
                            (sorted(set(pairs)), sorted(want)))
        if any(n["local_authority"] not in WATCHED for n in sent):
            failures.append("a notification outside the watched "
                            "authorities")
        print("%d notifications, %d PAs, %d jobs watched" %
              (len(sent), len(joined), 3))
    finally:
        if consumer is not None:
            consumer.stop()
        if client is not None:
            client.close()
        server.stop()
    return failures


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="pa-matchd binary")
    parser.add_argument("--keep", action="store_true",
                        help="keep the work directory")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pa-match-portal-watch-")
    failures = ["exception"]
    try:
        failures = run(args, work)
    finally:
        for failure in failures:
            print("FAIL: %s" % failure)
        if failures:
            for name in ("consumer.log", "server.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    with open(path) as f:
                        tail = f.readlines()[-40:]
                    print("--- %s (last lines)\n%s" % (name, "".join(tail)))
        if args.keep or failures:
            print("work directory kept: %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
