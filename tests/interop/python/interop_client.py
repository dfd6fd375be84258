#!/usr/bin/python3
"""grpc interop client on Debian's python3-grpcio, for HlmHub's conformance tests.

Runs the cases of grpc's doc/interop-test-descriptions.md against a server speaking
grpc.testing.TestService over cleartext HTTP/2:

    /usr/bin/python3 interop_client.py --server_port 50051 --test_case empty_unary,large_unary

Prints one line per case ("PASS name" or "FAIL name: reason") and exits with 1 when any case
failed, 2 on a usage or set-up error.

The stubs are generated at start-up into a temporary directory: the grpc.testing protos from
Debian's grpc-proto package would land in a Python package named grpc.testing, which collides
with the grpc library itself, so they are copied under another path (imports rewritten; the
proto package, and so the service name on the wire, stays grpc.testing).
"""

import argparse
import os
import queue
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import grpc
except ImportError:
    print("set-up failed: the grpc module is missing: install Debian's python3-grpcio and run with /usr/bin/python3",
          file=sys.stderr)
    sys.exit(2)

PROTO_ROOT_DEFAULT = "/usr/share/grpc-proto"
PROTO_FILES = ("empty.proto", "messages.proto", "test.proto")
STUB_PACKAGE = "hlmhub_interop_stubs"
PROTOC = "/usr/bin/protoc"
GRPC_PYTHON_PLUGIN = "/usr/bin/grpc_python_plugin"

# A deadline on every call so a hung server fails the case instead of the whole run.
CALL_TIMEOUT_SECONDS = 15.0

ECHO_INITIAL_KEY = "x-grpc-test-echo-initial"
ECHO_INITIAL_VALUE = "test_initial_metadata_value"
ECHO_TRAILING_KEY = "x-grpc-test-echo-trailing-bin"
ECHO_TRAILING_VALUE = b"\xab\xab\xab"
SPECIAL_STATUS_MESSAGE = "\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \U0001f608\t\n"

empty_pb2 = None
messages_pb2 = None
test_pb2_grpc = None


class CaseFailure(Exception):
    """A case's assertion did not hold."""


def check(condition, message):
    if not condition:
        raise CaseFailure(message)


def generate_stubs(proto_root, output_dir):
    """Copies the grpc.testing protos under STUB_PACKAGE and runs protoc on them."""
    for tool in (PROTOC, GRPC_PYTHON_PLUGIN):
        if not os.path.exists(tool):
            raise RuntimeError(
                f"{tool} not found: install Debian's protobuf-compiler and protobuf-compiler-grpc packages")
    source_dir = os.path.join(proto_root, "grpc", "testing")
    target_dir = os.path.join(output_dir, STUB_PACKAGE)
    os.makedirs(target_dir)
    for name in PROTO_FILES:
        source = os.path.join(source_dir, name)
        if not os.path.exists(source):
            raise RuntimeError(f"{source} not found: install Debian's grpc-proto package")
        with open(source, encoding="utf-8") as handle:
            text = handle.read()
        text = re.sub(r'import "grpc/testing/([a-z_]+\.proto)";', rf'import "{STUB_PACKAGE}/\1";', text)
        with open(os.path.join(target_dir, name), "w", encoding="utf-8") as handle:
            handle.write(text)
    command = [
        PROTOC,
        f"--proto_path={output_dir}",
        f"--python_out={output_dir}",
        f"--grpc_out={output_dir}",
        f"--plugin=protoc-gen-grpc={GRPC_PYTHON_PLUGIN}",
    ] + [f"{STUB_PACKAGE}/{name}" for name in PROTO_FILES]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"protoc failed ({result.returncode}): {result.stderr}")


def import_stubs(output_dir):
    global empty_pb2, messages_pb2, test_pb2_grpc
    sys.path.insert(0, output_dir)
    import importlib
    empty_pb2 = importlib.import_module(f"{STUB_PACKAGE}.empty_pb2")
    messages_pb2 = importlib.import_module(f"{STUB_PACKAGE}.messages_pb2")
    test_pb2_grpc = importlib.import_module(f"{STUB_PACKAGE}.test_pb2_grpc")


def zeros(size):
    return messages_pb2.Payload(body=bytes(size))


def bool_value(value):
    return messages_pb2.BoolValue(value=value)


class RequestQueue:
    """A request iterator the case feeds one message at a time (for ping-pong and cancellation)."""

    _END = object()

    def __init__(self):
        self._queue = queue.Queue()

    def send(self, request):
        self._queue.put(request)

    def close(self):
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        item = self._queue.get()
        if item is self._END:
            raise StopIteration
        return item


def expect_rpc_error(action, expected_code):
    try:
        action()
    except grpc.RpcError as error:
        check(error.code() == expected_code, f"expected {expected_code}, got {error.code()}: {error.details()!r}")
        return error
    raise CaseFailure(f"expected {expected_code}, but the call succeeded")


def metadata_value(metadata, key):
    values = [value for (name, value) in (metadata or ()) if name == key]
    return values[0] if values else None


# ---- Cases -----------------------------------------------------------------------------------


def empty_unary(stub, channel):
    response = stub.EmptyCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS)
    check(response is not None, "no response")
    check(response.ByteSize() == 0, "response is not empty")


def large_unary(stub, channel):
    request = messages_pb2.SimpleRequest(response_size=314159, payload=zeros(271828))
    response = stub.UnaryCall(request, timeout=CALL_TIMEOUT_SECONDS)
    check(len(response.payload.body) == 314159, f"payload size {len(response.payload.body)}")
    check(response.payload.body == bytes(314159), "payload is not zeros")


def client_streaming(stub, channel):
    sizes = (27182, 8, 1828, 45904)
    requests = (messages_pb2.StreamingInputCallRequest(payload=zeros(size)) for size in sizes)
    response = stub.StreamingInputCall(requests, timeout=CALL_TIMEOUT_SECONDS)
    check(response.aggregated_payload_size == 74922, f"aggregated size {response.aggregated_payload_size}")


def server_streaming(stub, channel):
    sizes = (31415, 9, 2653, 58979)
    request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=size) for size in sizes])
    received = [len(response.payload.body) for response in stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT_SECONDS)]
    check(received == list(sizes), f"response sizes {received}")


def ping_pong(stub, channel):
    request_sizes = (27182, 8, 1828, 45904)
    response_sizes = (31415, 9, 2653, 58979)
    requests = RequestQueue()
    call = stub.FullDuplexCall(requests, timeout=CALL_TIMEOUT_SECONDS)
    try:
        for request_size, response_size in zip(request_sizes, response_sizes):
            requests.send(messages_pb2.StreamingOutputCallRequest(
                response_parameters=[messages_pb2.ResponseParameters(size=response_size)],
                payload=zeros(request_size)))
            response = next(call)
            check(len(response.payload.body) == response_size,
                  f"response size {len(response.payload.body)}, expected {response_size}")
        requests.close()
        remaining = list(call)
        check(not remaining, f"{len(remaining)} extra responses")
        check(call.code() == grpc.StatusCode.OK, f"status {call.code()}")
    finally:
        requests.close()


def empty_stream(stub, channel):
    call = stub.FullDuplexCall(iter(()), timeout=CALL_TIMEOUT_SECONDS)
    responses = list(call)
    check(not responses, f"{len(responses)} responses")
    check(call.code() == grpc.StatusCode.OK, f"status {call.code()}")


def custom_metadata(stub, channel):
    metadata = ((ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE), (ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE))

    request = messages_pb2.SimpleRequest(response_size=314159, payload=zeros(271828))
    response, call = stub.UnaryCall.with_call(request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)
    check(len(response.payload.body) == 314159, f"unary payload size {len(response.payload.body)}")
    check_echoed_metadata(call, "unary")

    streaming_request = messages_pb2.StreamingOutputCallRequest(
        response_parameters=[messages_pb2.ResponseParameters(size=314159)], payload=zeros(271828))
    call = stub.FullDuplexCall(iter((streaming_request,)), metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)
    sizes = [len(item.payload.body) for item in call]
    check(sizes == [314159], f"full duplex response sizes {sizes}")
    check_echoed_metadata(call, "full duplex")


def check_echoed_metadata(call, label):
    initial = metadata_value(call.initial_metadata(), ECHO_INITIAL_KEY)
    check(initial == ECHO_INITIAL_VALUE, f"{label}: initial metadata {ECHO_INITIAL_KEY}={initial!r}")
    trailing = metadata_value(call.trailing_metadata(), ECHO_TRAILING_KEY)
    check(trailing == ECHO_TRAILING_VALUE, f"{label}: trailing metadata {ECHO_TRAILING_KEY}={trailing!r}")


def status_code_and_message(stub, channel):
    status = messages_pb2.EchoStatus(code=2, message="test status message")
    error = expect_rpc_error(
        lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT_SECONDS),
        grpc.StatusCode.UNKNOWN)
    check(error.details() == "test status message", f"unary details {error.details()!r}")

    call = stub.FullDuplexCall(
        iter((messages_pb2.StreamingOutputCallRequest(response_status=status),)), timeout=CALL_TIMEOUT_SECONDS)
    error = expect_rpc_error(lambda: list(call), grpc.StatusCode.UNKNOWN)
    check(error.details() == "test status message", f"full duplex details {error.details()!r}")


def special_status_message(stub, channel):
    status = messages_pb2.EchoStatus(code=2, message=SPECIAL_STATUS_MESSAGE)
    error = expect_rpc_error(
        lambda: stub.UnaryCall(messages_pb2.SimpleRequest(response_status=status), timeout=CALL_TIMEOUT_SECONDS),
        grpc.StatusCode.UNKNOWN)
    check(error.details() == SPECIAL_STATUS_MESSAGE, f"details {error.details()!r}")


def unimplemented_method(stub, channel):
    expect_rpc_error(lambda: stub.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS),
                     grpc.StatusCode.UNIMPLEMENTED)


def unimplemented_service(stub, channel):
    unimplemented = test_pb2_grpc.UnimplementedServiceStub(channel)
    expect_rpc_error(lambda: unimplemented.UnimplementedCall(empty_pb2.Empty(), timeout=CALL_TIMEOUT_SECONDS),
                     grpc.StatusCode.UNIMPLEMENTED)


def cancel_after_begin(stub, channel):
    requests = RequestQueue()
    future = stub.StreamingInputCall.future(requests, timeout=CALL_TIMEOUT_SECONDS)
    try:
        future.cancel()
        check(future.cancelled(), "call not cancelled")
        check(future.code() == grpc.StatusCode.CANCELLED, f"status {future.code()}")
    finally:
        requests.close()


def cancel_after_first_response(stub, channel):
    requests = RequestQueue()
    call = stub.FullDuplexCall(requests, timeout=CALL_TIMEOUT_SECONDS)
    try:
        requests.send(messages_pb2.StreamingOutputCallRequest(
            response_parameters=[messages_pb2.ResponseParameters(size=31415)], payload=zeros(27182)))
        response = next(call)
        check(len(response.payload.body) == 31415, f"response size {len(response.payload.body)}")
        call.cancel()
        expect_rpc_error(lambda: next(call), grpc.StatusCode.CANCELLED)
        check(call.code() == grpc.StatusCode.CANCELLED, f"status {call.code()}")
    finally:
        requests.close()


def timeout_on_sleeping_server(stub, channel):
    requests = RequestQueue()
    call = stub.FullDuplexCall(requests, timeout=0.001)
    try:
        requests.send(messages_pb2.StreamingOutputCallRequest(payload=zeros(27182)))
        expect_rpc_error(lambda: list(call), grpc.StatusCode.DEADLINE_EXCEEDED)
    finally:
        requests.close()


def client_compressed_unary(stub, channel):
    def request(expect_compressed):
        return messages_pb2.SimpleRequest(
            expect_compressed=bool_value(expect_compressed), response_size=314159, payload=zeros(271828))

    expect_rpc_error(lambda: stub.UnaryCall(request(True), timeout=CALL_TIMEOUT_SECONDS),
                     grpc.StatusCode.INVALID_ARGUMENT)
    response = stub.UnaryCall(request(True), compression=grpc.Compression.Gzip, timeout=CALL_TIMEOUT_SECONDS)
    check(len(response.payload.body) == 314159, f"compressed call: payload size {len(response.payload.body)}")
    response = stub.UnaryCall(request(False), timeout=CALL_TIMEOUT_SECONDS)
    check(len(response.payload.body) == 314159, f"uncompressed call: payload size {len(response.payload.body)}")


def server_compressed_unary(stub, channel):
    # grpcio does not expose a received message's compressed flag: this checks that the server
    # answers both variants correctly; the flag itself is checked by the raw HTTP/2 tests.
    for compressed in (True, False):
        request = messages_pb2.SimpleRequest(
            response_compressed=bool_value(compressed), response_size=314159, payload=zeros(271828))
        response = stub.UnaryCall(request, timeout=CALL_TIMEOUT_SECONDS)
        check(len(response.payload.body) == 314159,
              f"response_compressed={compressed}: payload size {len(response.payload.body)}")


def client_compressed_streaming(stub, channel):
    probe = messages_pb2.StreamingInputCallRequest(expect_compressed=bool_value(True), payload=zeros(27182))
    expect_rpc_error(lambda: stub.StreamingInputCall(iter((probe,)), timeout=CALL_TIMEOUT_SECONDS),
                     grpc.StatusCode.INVALID_ARGUMENT)
    # grpcio's public API compresses per call, not per message: the second message is compressed
    # too, which the case allows (expect_compressed=false only means "not required").
    requests = (
        messages_pb2.StreamingInputCallRequest(expect_compressed=bool_value(True), payload=zeros(27182)),
        messages_pb2.StreamingInputCallRequest(expect_compressed=bool_value(False), payload=zeros(45904)),
    )
    response = stub.StreamingInputCall(iter(requests), compression=grpc.Compression.Gzip, timeout=CALL_TIMEOUT_SECONDS)
    check(response.aggregated_payload_size == 73086, f"aggregated size {response.aggregated_payload_size}")


def server_compressed_streaming(stub, channel):
    request = messages_pb2.StreamingOutputCallRequest(response_parameters=[
        messages_pb2.ResponseParameters(compressed=bool_value(True), size=31415),
        messages_pb2.ResponseParameters(compressed=bool_value(False), size=92653),
    ])
    sizes = [len(response.payload.body) for response in stub.StreamingOutputCall(request, timeout=CALL_TIMEOUT_SECONDS)]
    check(sizes == [31415, 92653], f"response sizes {sizes}")


CASES = {
    "empty_unary": empty_unary,
    "large_unary": large_unary,
    "client_streaming": client_streaming,
    "server_streaming": server_streaming,
    "ping_pong": ping_pong,
    "empty_stream": empty_stream,
    "custom_metadata": custom_metadata,
    "status_code_and_message": status_code_and_message,
    "special_status_message": special_status_message,
    "unimplemented_method": unimplemented_method,
    "unimplemented_service": unimplemented_service,
    "cancel_after_begin": cancel_after_begin,
    "cancel_after_first_response": cancel_after_first_response,
    "timeout_on_sleeping_server": timeout_on_sleeping_server,
    "client_compressed_unary": client_compressed_unary,
    "server_compressed_unary": server_compressed_unary,
    "client_compressed_streaming": client_compressed_streaming,
    "server_compressed_streaming": server_compressed_streaming,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server_host", default="127.0.0.1")
    parser.add_argument("--server_port", type=int, required=True)
    parser.add_argument("--test_case", required=True,
                        help="comma-separated case names, or 'all': " + ", ".join(CASES))
    parser.add_argument("--use_tls", default="false", choices=("false",),
                        help="only cleartext HTTP/2 is supported")
    parser.add_argument("--proto_root", default=PROTO_ROOT_DEFAULT)
    arguments = parser.parse_args()

    names = list(CASES) if arguments.test_case == "all" else [n.strip() for n in arguments.test_case.split(",") if n.strip()]
    unknown = [name for name in names if name not in CASES]
    if unknown:
        print(f"unknown test case(s): {', '.join(unknown)}", file=sys.stderr)
        return 2

    stub_dir = tempfile.mkdtemp(prefix="hlmhub-interop-python-")
    try:
        try:
            generate_stubs(arguments.proto_root, stub_dir)
            import_stubs(stub_dir)
        except RuntimeError as error:
            print(f"set-up failed: {error}", file=sys.stderr)
            return 2

        failures = 0
        target = f"{arguments.server_host}:{arguments.server_port}"
        for name in names:
            # A channel per case, so a case that breaks its connection cannot fail the next one.
            with grpc.insecure_channel(target) as channel:
                stub = test_pb2_grpc.TestServiceStub(channel)
                started = time.monotonic()
                try:
                    CASES[name](stub, channel)
                    print(f"PASS {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
                except CaseFailure as failure:
                    failures += 1
                    print(f"FAIL {name}: {failure}", flush=True)
                except grpc.RpcError as error:
                    failures += 1
                    print(f"FAIL {name}: unexpected status {error.code()}: {error.details()!r}", flush=True)
                except Exception:  # noqa: BLE001 - any other error fails the case, with its trace
                    failures += 1
                    print(f"FAIL {name}: {traceback.format_exc()}", flush=True)
        return 1 if failures else 0
    finally:
        shutil.rmtree(stub_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
