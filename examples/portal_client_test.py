#!/usr/bin/python3
"""End-to-end test of examples/portal_client.py against a real pa-matchd
over TLS, with a rate-limited key (issue 18 point 7).

Makes a CA and a server certificate with Debian's openssl, starts
pa-matchd with --tls_cert/--tls_key and a keys file holding a portal key
limited to 3 calls/s (burst 3), then runs the client as the portal would:
imports 15 profiles, searches with explanations two results a page (so its
key runs over its rate and the client must wait as RESOURCE_EXHAUSTED's
RetryInfo says), checks every page was read and every PA found once,
deletes three and searches again. A plain-text client is refused by the
TLS server.

Usage (tests/examples.cmake runs it):
  /usr/bin/python3 examples/portal_client_test.py --server build/service/pa-matchd
Exit status: 0 pass, 1 fail.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pamatch_api import open_channel  # noqa: E402
from portal_watch_test import Server  # noqa: E402

NEWCASTLE, GATESHEAD = "E08000021", "E08000037"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True)


def make_certificates(work):
    """ca.pem, and server.pem/server.key for 127.0.0.1 signed by it."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=portal-test-ca", "-keyout", "ca.key", "-out",
            "ca.pem", cwd=work)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=pa-match",
            "-keyout", "server.key", "-out", "server.csr", cwd=work)
    with open(os.path.join(work, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
            "-out", "server.pem", cwd=work)


def keygen(binary, keys_file, name, *limits):
    done = subprocess.run(
        [binary, "keygen", "--name", name, "--scopes", "search,write",
         "--keys_file", keys_file] + list(limits),
        capture_output=True, text=True, check=True)
    return [line for line in done.stdout.splitlines()
            if line.startswith("pam_")][0]


def profile(profile_id, la, lat, lon):
    return {"id": profile_id, "version": 1, "status": "ACTIVE",
            "location": {"lat": lat, "lon": lon}, "local_authority": la,
            "max_travel_km": 20, "skills": ["personal_care", "medication_support"],
            "checks": {"identity_verified": True,
                       "code_of_conduct_signed": True}}


class Client:
    def __init__(self, server, key, work):
        self.base = [sys.executable, os.path.join(HERE, "portal_client.py"),
                     "--server", server.address, "--key", key,
                     "--tls_ca", os.path.join(work, "ca.pem")]

    def run(self, *args, tls=True):
        command = self.base + list(args)
        if not tls:
            at = command.index("--tls_ca")
            del command[at:at + 2]
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=120)
        lines = [json.loads(line) for line in done.stdout.splitlines()
                 if line.strip()]
        return done.returncode, lines, done.stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--server", required=True, help="pa-matchd binary")
    args = parser.parse_args()
    import grpc  # noqa: E402

    work = tempfile.mkdtemp(prefix="portal-client-test-")
    failures = []

    def check(condition, what):
        print(("ok   " if condition else "FAIL ") + what, flush=True)
        if not condition:
            failures.append(what)

    server = None
    try:
        make_certificates(work)
        data = os.path.join(work, "data")
        os.makedirs(data)
        keys_file = os.path.join(data, "api_keys.txt")
        key = keygen(args.server, keys_file, "portal", "--rate", "3",
                     "--burst", "3")
        ca = os.path.join(work, "ca.pem")
        server = Server(
            args.server, work,
            extra_args=["--allow_new_db",  # the keys file is made first
                        "--tls_cert", os.path.join(work, "server.pem"),
                        "--tls_key", os.path.join(work, "server.key")],
            open_channel=lambda grpc, address: open_channel(grpc, address,
                                                            tls_ca=ca))
        server.start(grpc)
        client = Client(server, key, work)

        profiles = os.path.join(work, "profiles.jsonl")
        expected = set()
        with open(profiles, "w") as f:
            for i in range(12):
                f.write(json.dumps(profile("ncl-%d" % i, NEWCASTLE,
                                           54.9783 + 0.002 * i, -1.6178)) +
                        "\n")
                expected.add("ncl-%d" % i)
            for i in range(3):
                f.write(json.dumps(profile("gat-%d" % i, GATESHEAD,
                                           54.9527, -1.6034 + 0.002 * i)) +
                        "\n")
                expected.add("gat-%d" % i)

        code, lines, err = client.run("import", profiles)
        check(code == 0 and lines[-1]["accepted"] == 15,
              "import: 15 profiles accepted over TLS (%s %s)" %
              (lines[-1:], err[-300:]))

        request = json.dumps({"local_authority": NEWCASTLE,
                              "max_distance_km": 15,
                              "nice_to_have_skills": ["medication_support"]})
        code, lines, err = client.run("--page_size", "2", "search", request)
        summary = lines[-1] if lines else {}
        ids = [line["id"] for line in lines if "id" in line]
        check(code == 0, "search: exit 0 (%s)" % err[-300:])
        check(sorted(ids) == sorted(expected) and len(ids) == len(set(ids)),
              "search: every PA once over %s pages" % summary.get("pages"))
        check(summary.get("total_matches") == 15 and summary.get("pages") == 8,
              "search: total_matches 15 on 8 pages (%s)" % summary)
        check(all(line["matched_skills"] == ["medication_support"]
                  for line in lines if "id" in line),
              "search: explanations name the matched skill")
        check(summary.get("retries", 0) > 0 and
              summary.get("waited_seconds", 0) > 0,
              "search: over its rate (3/s) the client waited as told (%s)"
              % summary)

        code, lines, err = client.run("delete", "ncl-0", "gat-1", "nobody")
        check(code == 1 and lines[:2] == [{"deleted": "ncl-0"},
                                          {"deleted": "gat-1"}] and
              lines[2].get("code") == "NOT_FOUND",
              "delete: two deleted, the unknown id NOT_FOUND (%s)" % lines)
        code, lines, err = client.run("search", request)
        check(code == 0 and lines[-1].get("total_matches") == 13,
              "search after delete: 13 left (%s)" % lines[-1:])

        code, lines, err = client.run("search", request, tls=False)
        check(code == 2 and lines and lines[-1].get("error") == "UNAVAILABLE",
              "a plain-text client is refused by the TLS server (%s)" % lines)
    except (SystemExit, Exception) as error:  # keep the work dir to look at
        failures.append("stopped: %r" % error)
        print("FAIL stopped: %r" % error, flush=True)
    finally:
        if server is not None:
            server.stop()
        if failures:
            print("kept %s for inspection" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("PASS" if not failures else "FAIL: %d" % len(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
