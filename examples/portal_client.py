#!/usr/bin/python3
"""A client as the jobs portal would write it.

Connects to pa-matchd over TLS (or mTLS) with an API key, and:

  import   reads profiles (JSON Lines, one pamatch.v1.Profile per line, as
           `pa-match import` takes them) and sends them on one
           BulkUpsertProfiles stream; prints accepted and rejected items;
  search   runs a search (a pamatch.v1.SearchRequest as JSON) with
           explanations and pages through every result, printing one JSON
           line per PA (id, score, distance, matched skills) and then a
           summary line (pages, total_matches, retries);
  delete   deletes profiles by id.

Every call goes through BackOff (pamatch_api.py): when pa-matchd answers
RESOURCE_EXHAUSTED (the key is over its rate, or the server is shedding
load) the call waits as long as the answer's google.rpc.RetryInfo says (or
backs off exponentially when it says nothing) and tries again, so a portal
under its rate limit slows down instead of failing its users.

Usage:
  /usr/bin/python3 examples/portal_client.py --server pa-match.example:50051 \\
      --tls_ca ca.pem --key_file portal.key \\
      import profiles.jsonl
  ... search '{"local_authority": "E08000021", "must_have_skills": ["personal_care"]}'
  ... delete pa-1 pa-2
"""

import argparse
import json
import shutil
import sys
import tempfile

from pamatch_api import (BackOff, add_connection_arguments,  # noqa: E402
                         connect, generate_stubs)


def import_profiles(stub, pb, backoff, metadata, path, json_format):
    """One BulkUpsertProfiles stream of every line of `path`. The stream is
    retried whole on RESOURCE_EXHAUSTED (upserts carry their versions, so a
    repeated item is refused as stale, never applied twice)."""
    requests = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            profile = pb.Profile()
            try:
                json_format.Parse(line, profile)
            except json_format.ParseError as error:
                raise SystemExit("%s line %d: %s" % (path, number, error))
            requests.append(pb.UpsertProfileRequest(profile=profile))
    response = backoff.call(
        lambda items, **kw: stub.BulkUpsertProfiles(iter(items), **kw),
        requests, metadata=metadata, timeout=60)
    for result in response.results:
        if result.code != 0:
            print(json.dumps({"rejected": result.id, "error": result.error}))
    print(json.dumps({"accepted": response.accepted,
                      "rejected": response.rejected,
                      "retries": backoff.retries}))
    return 0 if response.rejected == 0 else 1


def search(stub, pb, backoff, metadata, request_json, json_format,
           page_size):
    """Every page of one search, with explanations."""
    request = pb.SearchRequest()
    json_format.Parse(request_json, request)
    request.explain = True
    if page_size:
        request.page_size = page_size
    pages = 0
    seen = 0
    total = None
    while True:
        response = backoff.call(stub.Search, request, metadata=metadata,
                                timeout=10)
        pages += 1
        if total is None:
            total = response.total_matches
        elif response.total_matches != total:
            # The index changed between pages: the pages stay consistent
            # (one as_of, a cursor), but say so.
            print(json.dumps({"note": "total_matches moved",
                              "from": total,
                              "to": response.total_matches}))
        for result in response.results:
            seen += 1
            print(json.dumps({
                "id": result.id,
                "score": result.score,
                "distance_km": round(result.distance_km, 3),
                "matched_skills": list(result.explanation.matched_skills),
            }))
        if not response.next_page_token:
            break
        request.page_token = response.next_page_token
    print(json.dumps({"pages": pages, "results": seen,
                      "total_matches": total, "retries": backoff.retries,
                      "waited_seconds": round(backoff.waited, 3)}))
    return 0


def delete(stub, pb, backoff, metadata, ids):
    failed = 0
    for profile_id in ids:
        try:
            backoff.call(stub.DeleteProfile,
                         pb.DeleteProfileRequest(id=profile_id),
                         metadata=metadata, timeout=10)
            print(json.dumps({"deleted": profile_id}))
        except backoff.grpc.RpcError as error:
            failed += 1
            print(json.dumps({"not_deleted": profile_id,
                              "code": error.code().name,
                              "error": error.details()}))
    return 0 if failed == 0 else 1


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    add_connection_arguments(parser)
    parser.add_argument("--page_size", type=int, default=0)
    parser.add_argument("command", choices=["import", "search", "delete"])
    parser.add_argument("arguments", nargs="+",
                        help="import: FILE.jsonl; search: REQUEST_JSON; "
                             "delete: ID...")
    args = parser.parse_args()

    stubs = tempfile.mkdtemp(prefix="portal-client-stubs-")
    try:
        pb, pb_grpc = generate_stubs(args.proto_dir, stubs)
        import grpc  # noqa: E402
        from google.protobuf import json_format  # noqa: E402
        channel, metadata = connect(grpc, args)
        stub = pb_grpc.MatcherStub(channel)
        backoff = BackOff(grpc)
        try:
            if args.command == "import":
                return import_profiles(stub, pb, backoff, metadata,
                                       args.arguments[0], json_format)
            if args.command == "search":
                return search(stub, pb, backoff, metadata, args.arguments[0],
                              json_format, args.page_size)
            return delete(stub, pb, backoff, metadata, args.arguments)
        except grpc.RpcError as error:
            print(json.dumps({"error": error.code().name,
                              "details": error.details()}))
            return 2
        finally:
            channel.close()
    finally:
        shutil.rmtree(stubs, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
