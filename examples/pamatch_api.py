"""What every Python client of pa-match needs: the API's stubs, a channel
(TLS, mTLS or loopback plain text), the API key on each call, and back-off
when a key is over its rate.

Stubs are generated at run time into a temporary directory with Debian's
protoc and grpc_python_plugin (packages protobuf-compiler,
protobuf-compiler-grpc, python3-grpcio, python3-protobuf); the protoc of
python3-grpc-tools is too old for the proto's `optional` fields.
"""

import os
import random
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.join(os.path.dirname(HERE), "proto")

PROTOS = ["pamatch/v1/matcher.proto", "google/rpc/status.proto",
          "google/rpc/error_details.proto"]


def generate_stubs(proto_dir, out_dir):
    """Compiles the API's protos into out_dir and imports them. Returns the
    (messages, services) modules of pamatch.v1; google.rpc's Status and
    RetryInfo become importable too (retry_delay uses them)."""
    protoc = shutil.which("protoc") or "/usr/bin/protoc"
    plugin = (shutil.which("grpc_python_plugin") or
              "/usr/bin/grpc_python_plugin")
    for tool in (protoc, plugin):
        if not os.path.exists(tool):
            raise SystemExit("need %s: apt-get install protobuf-compiler "
                             "protobuf-compiler-grpc" % tool)
    command = [protoc, "-I", proto_dir, "--python_out=" + out_dir,
               "--grpc_python_out=" + out_dir,
               "--plugin=protoc-gen-grpc_python=" + plugin] + PROTOS
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit("protoc failed: %s" % done.stderr)
    # `google` is a namespace package (Debian's python3-protobuf ships no
    # google/__init__.py), so google.rpc from out_dir joins google.protobuf.
    sys.path.insert(0, out_dir)
    from pamatch.v1 import matcher_pb2, matcher_pb2_grpc  # noqa: E402
    return matcher_pb2, matcher_pb2_grpc


def add_connection_arguments(parser):
    """--server, the key and the TLS options every client takes; pass the
    parsed arguments to connect()."""
    parser.add_argument("--server", default="127.0.0.1:50051")
    parser.add_argument("--key", default=os.environ.get("PA_MATCH_KEY", ""),
                        help="API key (else --key_file)")
    parser.add_argument("--key_file", default="data/admin.key")
    parser.add_argument("--tls_ca", default="",
                        help="CA certificate (PEM) of the server: use TLS")
    parser.add_argument("--tls_cert", default="",
                        help="client certificate (PEM), for mTLS")
    parser.add_argument("--tls_key", default="",
                        help="client private key (PEM), for mTLS")
    parser.add_argument("--tls_server_name", default="",
                        help="name to verify in the server's certificate")
    parser.add_argument("--proto_dir", default=DEFAULT_PROTO_DIR)


def connect(grpc, args):
    """(channel, metadata) from add_connection_arguments' arguments."""
    key = read_key(args.key, args.key_file)
    channel = open_channel(grpc, args.server, args.tls_ca, args.tls_cert,
                           args.tls_key, args.tls_server_name)
    return channel, [("authorization", "Bearer " + key)]


def read_key(key, key_file):
    """The API key: `key` if given, else the first line of key_file."""
    if key:
        return key
    with open(key_file) as f:
        return f.read().strip()


def open_channel(grpc, address, tls_ca="", tls_cert="", tls_key="",
                 tls_server_name=""):
    """A channel to pa-matchd: TLS when tls_ca is given (the CA that signed
    the server's certificate), with a client certificate for mTLS when
    tls_cert and tls_key are; plain text otherwise (loopback only: the
    server refuses plain text on other addresses by default)."""
    if not tls_ca:
        if tls_cert or tls_key:
            raise SystemExit("--tls_cert/--tls_key need --tls_ca")
        return grpc.insecure_channel(address)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(tls_ca),
        private_key=read(tls_key) if tls_key else None,
        certificate_chain=read(tls_cert) if tls_cert else None)
    options = []
    if tls_server_name:
        options.append(("grpc.ssl_target_name_override", tls_server_name))
    return grpc.secure_channel(address, credentials, options=options)


def retry_delay(error):
    """The delay (seconds) a RESOURCE_EXHAUSTED answer asks for: its
    google.rpc.RetryInfo, from the status details gRPC carries in the
    grpc-status-details-bin trailer. None if it names none."""
    from google.rpc import error_details_pb2, status_pb2  # noqa: E402
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        status = status_pb2.Status.FromString(value)
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Is(info.DESCRIPTOR) and detail.Unpack(info):
                return (info.retry_delay.seconds +
                        info.retry_delay.nanos / 1e9)
    return None


class BackOff:
    """Calls an RPC again while pa-matchd says RESOURCE_EXHAUSTED: over the
    key's rate (the answer says how long to wait) or shedding load (no
    delay given: exponential back-off with jitter). Counts its waits."""

    def __init__(self, grpc, max_attempts=20, max_wait=30.0):
        self.grpc = grpc
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.retries = 0
        self.waited = 0.0

    def call(self, method, request, **kwargs):
        pause = 0.05
        for attempt in range(self.max_attempts):
            try:
                return method(request, **kwargs)
            except self.grpc.RpcError as error:
                if (error.code() != self.grpc.StatusCode.RESOURCE_EXHAUSTED
                        or attempt + 1 == self.max_attempts):
                    raise
                asked = retry_delay(error)
                wait = asked if asked is not None else pause * (
                    1 + random.random())
                wait = min(wait, self.max_wait)
                pause = min(pause * 2, self.max_wait)
                self.retries += 1
                self.waited += wait
                time.sleep(wait)
        raise AssertionError("unreachable")
