'use strict';
// Calls HlmHub's Admin API with @grpc/grpc-js, as a partner's or club's own Node system would.
// The contract is loaded at run time from protos/hlmhub/v1/admin.proto with @grpc/proto-loader.
// The access token comes from the HLMHUB_TOKEN environment variable (never the command line).
//
// Usage: HLMHUB_TOKEN=... node admin_client.js --target 127.0.0.1:5080 --proto-root protos
// Prints one "PASS name" or "FAIL name: reason" line per check; exit code 0 when all passed, 1 when one
// failed, 2 on a set-up error.

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

function parseArguments(argv) {
  const result = {};
  for (let index = 0; index < argv.length; index += 2) {
    if (!argv[index].startsWith('--') || index + 1 >= argv.length) {
      throw new Error(`unexpected argument ${argv[index]}`);
    }
    result[argv[index].slice(2)] = argv[index + 1];
  }
  return result;
}

function luhnSiren() {
  const digits = [1 + Math.floor(Math.random() * 9)];
  for (let i = 0; i < 7; i += 1) digits.push(Math.floor(Math.random() * 10));
  for (let key = 0; key < 10; key += 1) {
    const candidate = [...digits, key];
    let total = 0;
    candidate.slice().reverse().forEach((digit, index) => {
      let value = digit;
      if (index % 2 === 1) value = value * 2 > 9 ? value * 2 - 9 : value * 2;
      total += value;
    });
    if (total % 10 === 0) return candidate.join('');
  }
  throw new Error('unreachable: one Luhn key always fits');
}

function call(client, method, request, metadata) {
  return new Promise((resolve, reject) => {
    const deadline = new Date(Date.now() + 30_000);
    client[method](request, metadata, { deadline }, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

async function main() {
  const args = parseArguments(process.argv.slice(2));
  const token = process.env.HLMHUB_TOKEN;
  if (!args.target || !args['proto-root'] || !token) {
    console.error('usage: HLMHUB_TOKEN=... node admin_client.js --target HOST:PORT --proto-root DIR');
    return 2;
  }
  let AdminService;
  try {
    const definition = protoLoader.loadSync('hlmhub/v1/admin.proto', {
      includeDirs: [path.resolve(args['proto-root'])], keepCase: true, defaults: true, enums: String, longs: Number,
    });
    AdminService = grpc.loadPackageDefinition(definition).hlmhub.v1.AdminService;
  } catch (error) {
    console.error(`set-up failed: ${error.message}`);
    return 2;
  }

  let failures = 0;
  const check = (name, condition, reason = '') => {
    if (condition) {
      console.log(`PASS ${name}`);
    } else {
      failures += 1;
      console.log(`FAIL ${name}: ${reason}`);
    }
  };

  const client = new AdminService(args.target, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.add('authorization', `Bearer ${token}`);
  const landlordId = `node-${Math.floor(Math.random() * 2 ** 30).toString(16)}`;
  try {
    const created = await call(client, 'CreateLandlord', { id: landlordId, name: 'Office Public de l\'Habitat', siren: luhnSiren() }, metadata);
    check('create_landlord', created.id === landlordId, `created ${created.id}`);
    const listed = await call(client, 'ListLandlords', { page_size: 500 }, metadata);
    check('list_landlords', listed.landlords.some((landlord) => landlord.id === landlordId), 'the new landlord is not listed');
  } catch (error) {
    check('create_and_list', false, `${error.code} ${error.details}`);
  }
  try {
    await call(client, 'CreateLandlord', { id: landlordId, name: 'Again', siren: luhnSiren() }, metadata);
    check('duplicate_is_already_exists', false, 'the duplicate was accepted');
  } catch (error) {
    check('duplicate_is_already_exists', error.code === grpc.status.ALREADY_EXISTS, `${error.code} ${error.details}`);
  }
  try {
    await call(client, 'ListLandlords', {}, new grpc.Metadata());
    check('no_token_is_unauthenticated', false, 'the call was served');
  } catch (error) {
    check('no_token_is_unauthenticated', error.code === grpc.status.UNAUTHENTICATED, `${error.code} ${error.details}`);
  }
  // grpc-js decodes grpc-message as the gRPC spec percent-encodes it: only bytes outside printable ASCII, and '%'.
  // A ':' sent as %3A would reach the caller as "%3A".
  const garbage = new grpc.Metadata();
  garbage.add('authorization', 'Bearer not-a-jwt');
  try {
    await call(client, 'ListLandlords', {}, garbage);
    check('bad_token_message_reads_as_sent', false, 'the call was served');
  } catch (error) {
    check('bad_token_message_reads_as_sent',
      error.code === grpc.status.UNAUTHENTICATED && error.details === 'Invalid access token: the token is not a well-formed JWT.',
      `${error.code} ${error.details}`);
  }
  client.close();
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => { console.error(error); process.exit(2); });
