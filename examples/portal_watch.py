#!/usr/bin/python3
"""The jobs portal's side of alerts: a small Watch consumer.

Follows every job of a set of local authorities on a pa-match server
(Matcher.Watch), and for each MATCH_STARTED "sends a notification" to the
family who posted the job (a real portal would e-mail them; this appends
one JSON line to an outbox file). It keeps its position in the event log
so that, stopped or killed at any moment and started again, it sends every
notification exactly once:

  - the outbox line carries the event's sequence, and is fsynced before
    the position moves past it;
  - at start the position is the larger of the position file's and the
    sequence of the outbox's last complete line (a line torn by a kill
    is dropped: that notification was never sent, and is sent again);
  - the position file is replaced atomically (temporary file, fsync,
    rename) after every event and heartbeat, so a quiet stream still
    moves it on.

A real portal would keep its position in the same database transaction as
the notifications it queues (the sequence as a unique key), which is the
same idea.

It reconnects (with back-off) when the server goes away or restarts, and
resumes after its position. If its position is older than the server's
retention (OUT_OF_RANGE), it stops with exit code 3: resynchronise (for
each job, MatchJobs or Search), then delete the position file and start
again.

Usage:
  /usr/bin/python3 examples/portal_watch.py --server 127.0.0.1:50051 \\
      --key_file data/admin.key --local_authorities E08000021,E08000037 \\
      --position_file portal.position --outbox portal.outbox.jsonl

The API's Python stubs are generated at start into a temporary directory
with Debian's protoc and grpc_python_plugin (packages protobuf-compiler,
protobuf-compiler-grpc, python3-grpcio, python3-protobuf); the protoc of
python3-grpc-tools is too old for the proto's `optional` fields.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile
import time

from pamatch_api import (add_connection_arguments,  # noqa: E402
                         generate_stubs, open_channel, read_key)


def log(message):
    print("portal_watch: %s" % message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# The position and the outbox: durable, and consistent with each other.
# ---------------------------------------------------------------------------


def fsync_dir(path):
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_position(path):
    """The saved sequence, or None if there is no position file yet."""
    try:
        with open(path) as f:
            text = f.read().strip()
    except FileNotFoundError:
        return None
    if not text.isdigit():
        raise SystemExit("portal_watch: %s does not hold a sequence number; "
                         "delete it to start from now" % path)
    return int(text)


def save_position(path, sequence):
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write("%d\n" % sequence)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)
    fsync_dir(path)


def recover_outbox(path):
    """Drops a last line torn by a kill; returns the sequence of the last
    complete line (None if the outbox is empty or missing)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    lines = data.split(b"\n")
    # A complete outbox ends with a newline: the last item is then empty.
    complete, torn = lines[:-1], lines[-1]
    last = None
    while complete:
        try:
            last = json.loads(complete[-1])["sequence"]
            break
        except (ValueError, KeyError):
            complete.pop()  # a torn line can only be the last one
            torn = b"x"
    if torn:
        with open(path, "wb") as f:
            f.write(b"".join(line + b"\n" for line in complete))
            f.flush()
            os.fsync(f.fileno())
        log("outbox: dropped a torn last line")
    return last


class Outbox:
    """Where notifications go: one JSON line each, fsynced."""

    def __init__(self, path):
        self.path = path
        self.file = open(path, "a")

    def send(self, event):
        line = json.dumps({
            "sequence": event.sequence,
            "job_id": event.job_id,
            "profile_id": event.profile_id,
            "score": event.score,
            "local_authority": event.local_authority,
            "day": event.day,
            "cause": event.cause,
            "sent_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        }, sort_keys=True)
        self.file.write(line + "\n")
        self.file.flush()
        os.fsync(self.file.fileno())


# ---------------------------------------------------------------------------
# The watch loop.
# ---------------------------------------------------------------------------


def watch(args, pb, pb_grpc, grpc):
    metadata = [("authorization",
                 "Bearer " + read_key(args.key, args.key_file))]
    codes = [c.strip() for c in args.local_authorities.split(",") if c.strip()]

    position = read_position(args.position_file)
    sent_up_to = recover_outbox(args.outbox)
    if sent_up_to is not None and (position is None or sent_up_to > position):
        position = sent_up_to
        save_position(args.position_file, position)
    outbox = Outbox(args.outbox)
    notifications = 0
    backoff = 0.2

    while True:
        request = pb.WatchRequest(
            local_authorities=pb.LocalAuthoritySet(codes=codes))
        if position is not None:
            request.after_sequence = position
        log("watching %s after %s" % (",".join(codes),
                                      "now" if position is None else position))
        channel = open_channel(grpc, args.server, args.tls_ca, args.tls_cert,
                               args.tls_key, args.tls_server_name)
        stub = pb_grpc.MatcherStub(channel)
        try:
            for event in stub.Watch(request, metadata=metadata):
                backoff = 0.2
                if event.kind == pb.WatchEvent.MATCH_STARTED:
                    outbox.send(event)
                    notifications += 1
                    if notifications == args.crash_after_notifications:
                        # Testing: die between the notification and the
                        # position, the moment that must not duplicate.
                        os._exit(9)
                # MATCH_ENDED needs no notification here (a portal might
                # take the PA off the family's shortlist); heartbeats only
                # move the position on.
                position = event.sequence
                save_position(args.position_file, position)
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.OUT_OF_RANGE:
                log("%s; resynchronise, then delete %s" %
                    (error.details(), args.position_file))
                return 3
            if code in (grpc.StatusCode.UNAVAILABLE,
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        grpc.StatusCode.CANCELLED, grpc.StatusCode.INTERNAL,
                        grpc.StatusCode.UNKNOWN):
                log("%s: %s; reconnecting in %.1f s" %
                    (code.name, error.details(), backoff))
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            log("%s: %s" % (code.name, error.details()))
            return 2
        finally:
            channel.close()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_arguments(parser)  # a key with scope search is enough
    parser.add_argument("--local_authorities", required=True,
                        help="ONS codes, comma separated")
    parser.add_argument("--position_file", required=True)
    parser.add_argument("--outbox", required=True,
                        help="notifications, one JSON line each")
    parser.add_argument("--crash_after_notifications", type=int, default=0,
                        help=argparse.SUPPRESS)  # testing only
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    stubs = tempfile.mkdtemp(prefix="portal-watch-stubs-")
    try:
        pb, pb_grpc = generate_stubs(args.proto_dir, stubs)
        import grpc  # noqa: E402
        return watch(args, pb, pb_grpc, grpc)
    except KeyboardInterrupt:
        return 0
    finally:
        shutil.rmtree(stubs, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
