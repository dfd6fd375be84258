'use strict';
// Loads grpc.testing (test.proto, messages.proto, empty.proto) from Debian's grpc-proto package,
// shared by the grpc-js interop client and server. The protos are never copied into this repository.

const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_ROOT = process.env.GRPC_PROTO_ROOT || '/usr/share/grpc-proto';

function loadTestingPackage() {
  const testProto = path.join(PROTO_ROOT, 'grpc', 'testing', 'test.proto');
  if (!fs.existsSync(testProto)) {
    throw new Error(`${testProto} not found: install Debian's grpc-proto package`);
  }
  const definition = protoLoader.loadSync('grpc/testing/test.proto', {
    includeDirs: [PROTO_ROOT],
    keepCase: true,
    defaults: true,
    enums: String,
    longs: Number,
  });
  return grpc.loadPackageDefinition(definition).grpc.testing;
}

/** grpc.health.v1 and both grpc.reflection versions, from the same Debian package. */
function loadDiscoveryPackages() {
  const definition = protoLoader.loadSync(
    ['grpc/health/v1/health.proto', 'grpc/reflection/v1/reflection.proto', 'grpc/reflection/v1alpha/reflection.proto'],
    { includeDirs: [PROTO_ROOT], keepCase: true, defaults: true, oneofs: true, enums: String, longs: Number },
  );
  const loaded = grpc.loadPackageDefinition(definition).grpc;
  return { health: loaded.health.v1, reflection: { v1: loaded.reflection.v1, v1alpha: loaded.reflection.v1alpha } };
}

/** Parses `--name value` and `--name=value` arguments into an object. */
function parseArguments(argv) {
  const result = {};
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index];
    if (!argument.startsWith('--')) {
      throw new Error(`unexpected argument ${argument}`);
    }
    const equals = argument.indexOf('=');
    if (equals > 0) {
      result[argument.slice(2, equals)] = argument.slice(equals + 1);
    } else {
      if (index + 1 >= argv.length) {
        throw new Error(`missing value for ${argument}`);
      }
      result[argument.slice(2)] = argv[index + 1];
      index += 1;
    }
  }
  return result;
}

module.exports = { grpc, loadTestingPackage, loadDiscoveryPackages, parseArguments };
