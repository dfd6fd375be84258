"""What every Python example needs: settings, an access token, stubs from protos/, and errors a person can act on.

Settings come from the environment, with the defaults of a hub started by
`dotnet run --project src/HlmHub.Server -- --seed-demo` on this machine (see examples/README.md).
"""
import base64
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
START_HINT = "start it with `dotnet run --project src/HlmHub.Server -- --seed-demo`"
GRPC_ADDRESS = os.environ.get("HLMHUB_GRPC_ADDRESS", "127.0.0.1:5080")
HTTP_URL = os.environ.get("HLMHUB_HTTP_URL", "http://127.0.0.1:5081").rstrip("/")


class Failure(Exception):
    """One line for the person running the example: what went wrong and what to do."""


def demo_credentials(client_id):
    """The demo client's secret, from demo-clients.json in the hub's data directory."""
    candidates = [os.environ.get("HLMHUB_DEMO_CLIENTS"), ROOT / "src/HlmHub.Server/data/demo-clients.json",
                  ROOT / "data/demo-clients.json"]
    for path in filter(None, candidates):
        if pathlib.Path(path).is_file():
            for client in json.loads(pathlib.Path(path).read_text())["clients"]:
                if client["client_id"] == client_id:
                    return client["client_secret"]
    raise Failure(f"no secret for {client_id}: set HLMHUB_CLIENT_SECRET, or seed the demo ({START_HINT}), "
                  "which writes demo-clients.json to src/HlmHub.Server/data/")


def access_token(default_client_id):
    """HLMHUB_ACCESS_TOKEN if set (a token you got yourself, e.g. with curl), else a client-credentials token from
    the hub's token endpoint (HTTP/1.1, client_secret_basic)."""
    if os.environ.get("HLMHUB_ACCESS_TOKEN"):
        return os.environ["HLMHUB_ACCESS_TOKEN"]
    client_id = os.environ.get("HLMHUB_CLIENT_ID", default_client_id)
    secret = os.environ.get("HLMHUB_CLIENT_SECRET") or demo_credentials(client_id)
    basic = base64.b64encode(f"{urllib.parse.quote(client_id)}:{urllib.parse.quote(secret)}".encode()).decode()
    request = urllib.request.Request(f"{HTTP_URL}/connect/token", data=b"grant_type=client_credentials",
                                     headers={"Authorization": "Basic " + basic,
                                              "Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)["access_token"]
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        code = (json.loads(body).get("error") if body.startswith("{") else None) or f"HTTP {error.code}"
        if code == "invalid_client":
            raise Failure(f"wrong client id or secret for {client_id}: check HLMHUB_CLIENT_ID and "
                          "HLMHUB_CLIENT_SECRET (the demo's are in src/HlmHub.Server/data/demo-clients.json)") from None
        raise Failure(f"the token endpoint refused {client_id}: {code}: {body}") from None
    except (urllib.error.URLError, ConnectionError) as error:
        raise Failure(f"hub not reachable at {HTTP_URL} ({getattr(error, 'reason', error)}): {START_HINT}") from None


def load_stubs(*names):
    """Generates the Python stubs of protos/hlmhub/v1/<name>.proto with protoc and its gRPC plugin, then imports them.

    The HTTP annotations (redemption.proto, statement.proto) are for the hub's JSON endpoint only; the copy compiled
    here leaves them out, so protoc needs no googleapis protos. The messages and the services are unchanged.
    """
    output = tempfile.mkdtemp(prefix="hlmhub-stubs-")
    source = pathlib.Path(output, "protos/hlmhub/v1")
    shutil.copytree(ROOT / "protos/hlmhub/v1", source)
    for proto in source.glob("*.proto"):
        text = proto.read_text().replace('import "google/api/annotations.proto";', "")
        proto.write_text(re.sub(r"\)\s*\{\s*option \(google\.api\.http\)\s*=\s*\{[^}]*\};\s*\}", ");", text))
    command = ["/usr/bin/protoc", f"-I{output}/protos", "-I/usr/include", f"--python_out={output}",
               "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", f"--grpc_python_out={output}"]
    subprocess.run(command + [f"hlmhub/v1/{name}.proto" for name in ("admin", "federation") + names], check=True)
    sys.path.insert(0, output)
    import importlib
    return [(importlib.import_module(f"hlmhub.v1.{name}_pb2"), importlib.import_module(f"hlmhub.v1.{name}_pb2_grpc"))
            for name in names]


def explain(error, needs):
    """One line for a failed gRPC call (a grpc.RpcError); `needs` says which scope and client kind the rpc takes."""
    import grpc
    code, details = error.code(), error.details()
    if code == grpc.StatusCode.UNAVAILABLE:
        return f"hub not reachable at {GRPC_ADDRESS} ({details}): {START_HINT}"
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return f"the hub refused the access token (expired, or from another hub): get a new one; hub said: {details}"
    if code == grpc.StatusCode.PERMISSION_DENIED:
        return f"permission denied: this call needs {needs}; register such a client; hub said: {details}"
    return f"{code.name}: {details}"


def run(main):
    """Runs main(); a Failure prints its one line on stderr and exits 1."""
    try:
        sys.exit(main())
    except Failure as failure:
        print(f"error: {failure}", file=sys.stderr)
        sys.exit(1)
