#!/usr/bin/env python3
"""Calls HlmHub's Admin API with Python grpcio, as a partner's or club's own system would.

Stubs are generated at run time from protos/hlmhub/v1/admin.proto with Debian's protoc and
grpc_python_plugin (nothing generated is kept in the repository). The access token comes from the
HLMHUB_TOKEN environment variable (never the command line, which other users can read).

Usage: HLMHUB_TOKEN=... /usr/bin/python3 admin_client.py --target 127.0.0.1:5080 --proto-root protos
Prints one "PASS name" or "FAIL name: reason" line per check; exit code 0 when all passed, 1 when one
failed, 2 on a set-up error.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile


def luhn_siren():
    """A random 9-digit SIREN with a valid Luhn key."""
    digits = [random.randint(1, 9)] + [random.randint(0, 9) for _ in range(7)]
    for key in range(10):
        candidate = digits + [key]
        total = 0
        for index, digit in enumerate(reversed(candidate)):
            if index % 2 == 1:
                digit = digit * 2 - 9 if digit * 2 > 9 else digit * 2
            total += digit
        if total % 10 == 0:
            return "".join(str(d) for d in candidate)
    raise AssertionError("unreachable: one Luhn key always fits")


def generate_stubs(proto_root, output):
    subprocess.run(
        ["/usr/bin/protoc", f"-I{proto_root}", "-I/usr/include", f"--python_out={output}",
         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin", f"--grpc_python_out={output}",
         "hlmhub/v1/admin.proto"],
        check=True)
    sys.path.insert(0, output)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--proto-root", required=True)
    arguments = parser.parse_args()
    token = os.environ.get("HLMHUB_TOKEN")
    if not token:
        print("HLMHUB_TOKEN is not set", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory() as output:
        try:
            generate_stubs(arguments.proto_root, output)
            import grpc
            from hlmhub.v1 import admin_pb2, admin_pb2_grpc
        except Exception as error:  # noqa: BLE001 - any set-up failure is reported the same way
            print(f"set-up failed: {error}", file=sys.stderr)
            return 2

        failures = 0

        def check(name, condition, reason=""):
            nonlocal failures
            if condition:
                print(f"PASS {name}")
            else:
                failures += 1
                print(f"FAIL {name}: {reason}")

        with grpc.insecure_channel(arguments.target) as channel:
            admin = admin_pb2_grpc.AdminServiceStub(channel)
            metadata = [("authorization", "Bearer " + token)]
            landlord_id = f"python-{random.randrange(1 << 30):x}"
            created = admin.CreateLandlord(
                admin_pb2.CreateLandlordRequest(id=landlord_id, name="Office Public de l'Habitat", siren=luhn_siren()),
                metadata=metadata, timeout=30)
            check("create_landlord", created.id == landlord_id, f"created {created.id}")

            listed = admin.ListLandlords(admin_pb2.ListLandlordsRequest(page_size=500), metadata=metadata, timeout=30)
            check("list_landlords", any(l.id == landlord_id for l in listed.landlords), "the new landlord is not listed")

            try:
                admin.CreateLandlord(admin_pb2.CreateLandlordRequest(id=landlord_id, name="Again", siren=luhn_siren()),
                                     metadata=metadata, timeout=30)
                check("duplicate_is_already_exists", False, "the duplicate was accepted")
            except grpc.RpcError as error:
                check("duplicate_is_already_exists", error.code() == grpc.StatusCode.ALREADY_EXISTS, str(error.code()))

            try:
                admin.ListLandlords(admin_pb2.ListLandlordsRequest(), timeout=30)
                check("no_token_is_unauthenticated", False, "the call was served")
            except grpc.RpcError as error:
                check("no_token_is_unauthenticated", error.code() == grpc.StatusCode.UNAUTHENTICATED, str(error.code()))

        return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
