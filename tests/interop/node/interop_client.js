'use strict';
// grpc interop client on @grpc/grpc-js, for HlmHub's conformance tests.
//
//   node interop_client.js --server_port 50051 --test_case empty_unary,large_unary
//
// Runs the cases of grpc's doc/interop-test-descriptions.md against a server speaking
// grpc.testing.TestService over cleartext HTTP/2. Prints one line per case ("PASS name" or
// "FAIL name: reason") and exits with 1 when any case failed, 2 on a usage or set-up error.
//
// grpc-js does not expose whether a received message was compressed: the server_compressed_*
// cases check the answers, and the flag itself is checked by HlmHub's raw HTTP/2 tests.
//
// Besides grpc's cases, health_check, reflection_v1 and reflection_v1alpha check the standard
// discovery services (grpc.health.v1, grpc.reflection) the way tools such as grpcurl use them.

const assert = require('assert');
const { grpc, loadTestingPackage, loadDiscoveryPackages, parseArguments } = require('./protos');

// A deadline on every call so a hung server fails the case instead of the whole run.
const CALL_TIMEOUT_MS = 15000;
const GZIP = 2; // grpc-js CompressionAlgorithms.gzip
const NO_COMPRESS = 2; // grpc-js WriteFlags.NoCompress, passed where a stream write takes its encoding

const ECHO_INITIAL_KEY = 'x-grpc-test-echo-initial';
const ECHO_INITIAL_VALUE = 'test_initial_metadata_value';
const ECHO_TRAILING_KEY = 'x-grpc-test-echo-trailing-bin';
const ECHO_TRAILING_VALUE = Buffer.from('ababab', 'hex');
const SPECIAL_STATUS_MESSAGE = '\t\ntest with whitespace\r\nand Unicode BMP \u263a and non-BMP \u{1f608}\t\n';

function deadline(milliseconds = CALL_TIMEOUT_MS) {
  return { deadline: new Date(Date.now() + milliseconds) };
}

function zeros(size) {
  return { body: Buffer.alloc(size) };
}

/** Unary call as a promise of { response, metadata (initial), status }. */
function unary(client, method, request, { metadata = new grpc.Metadata(), options = deadline() } = {}) {
  return new Promise((resolve, reject) => {
    let initial = null;
    let response;
    let error = null;
    let settled = 0;
    const finish = () => {
      settled += 1;
      if (settled === 2) {
        if (error) {
          reject(error);
        } else {
          resolve({ response, metadata: initial, status: call.finalStatus });
        }
      }
    };
    const call = client[method](request, metadata, options, (callError, value) => {
      error = callError;
      response = value;
      finish();
    });
    call.on('metadata', (value) => {
      initial = value;
    });
    call.on('status', (status) => {
      call.finalStatus = status;
      finish();
    });
  });
}

/** Collects a readable call's responses and final status (never rejects). */
function collect(call) {
  return new Promise((resolve) => {
    const responses = [];
    let initial = null;
    call.on('metadata', (value) => {
      initial = value;
    });
    call.on('data', (value) => responses.push(value));
    call.on('error', () => {});
    call.on('status', (status) => resolve({ responses, status, metadata: initial }));
  });
}

function nextResponse(call) {
  return new Promise((resolve, reject) => {
    const onData = (value) => {
      call.removeListener('status', onStatus);
      resolve(value);
    };
    const onStatus = (status) => {
      call.removeListener('data', onData);
      reject(new Error(`stream ended with ${status.code} (${status.details}) before a response`));
    };
    call.once('data', onData);
    call.once('status', onStatus);
  });
}

async function expectStatus(promise, code) {
  try {
    await promise;
  } catch (error) {
    assert.strictEqual(error.code, code, `expected status ${code}, got ${error.code}: ${error.details}`);
    return error;
  }
  throw new assert.AssertionError({ message: `expected status ${code}, but the call succeeded` });
}

function assertOk(status) {
  assert.strictEqual(status.code, grpc.status.OK, `status ${status.code}: ${status.details}`);
}

function assertEchoedMetadata(label, initial, trailing) {
  assert.ok(initial, `${label}: no initial metadata`);
  assert.deepStrictEqual(initial.get(ECHO_INITIAL_KEY), [ECHO_INITIAL_VALUE], `${label}: initial metadata`);
  const echoed = trailing.get(ECHO_TRAILING_KEY);
  assert.strictEqual(echoed.length, 1, `${label}: trailing metadata ${ECHO_TRAILING_KEY} missing`);
  assert.ok(ECHO_TRAILING_VALUE.equals(echoed[0]), `${label}: trailing metadata ${echoed[0].toString('hex')}`);
}

// The cases of grpc's interop-test-descriptions.md ('all' runs these).
const standardCases = {
  async empty_unary({ client }) {
    const { response } = await unary(client, 'EmptyCall', {});
    assert.ok(response, 'no response');
  },

  async large_unary({ client }) {
    const { response } = await unary(client, 'UnaryCall', { response_size: 314159, payload: zeros(271828) });
    assert.strictEqual(response.payload.body.length, 314159);
    assert.ok(response.payload.body.equals(Buffer.alloc(314159)), 'payload is not zeros');
  },

  async client_streaming({ client }) {
    const result = new Promise((resolve, reject) => {
      const call = client.StreamingInputCall(deadline(), (error, response) => (error ? reject(error) : resolve(response)));
      for (const size of [27182, 8, 1828, 45904]) {
        call.write({ payload: zeros(size) });
      }
      call.end();
    });
    const response = await result;
    assert.strictEqual(response.aggregated_payload_size, 74922);
  },

  async server_streaming({ client }) {
    const sizes = [31415, 9, 2653, 58979];
    const call = client.StreamingOutputCall({ response_parameters: sizes.map((size) => ({ size })) }, deadline());
    const { responses, status } = await collect(call);
    assertOk(status);
    assert.deepStrictEqual(responses.map((response) => response.payload.body.length), sizes);
  },

  async ping_pong({ client }) {
    const requestSizes = [27182, 8, 1828, 45904];
    const responseSizes = [31415, 9, 2653, 58979];
    const call = client.FullDuplexCall(deadline());
    const ended = collectStatus(call);
    for (let index = 0; index < requestSizes.length; index += 1) {
      const received = nextResponse(call);
      call.write({ response_parameters: [{ size: responseSizes[index] }], payload: zeros(requestSizes[index]) });
      const response = await received;
      assert.strictEqual(response.payload.body.length, responseSizes[index], `response ${index}`);
    }
    call.on('data', () => assert.fail('extra response'));
    call.end();
    assertOk(await ended);
  },

  async empty_stream({ client }) {
    const call = client.FullDuplexCall(deadline());
    const collected = collect(call);
    call.end();
    const { responses, status } = await collected;
    assertOk(status);
    assert.strictEqual(responses.length, 0);
  },

  async custom_metadata({ client }) {
    const metadata = new grpc.Metadata();
    metadata.set(ECHO_INITIAL_KEY, ECHO_INITIAL_VALUE);
    metadata.set(ECHO_TRAILING_KEY, ECHO_TRAILING_VALUE);

    const unaryResult = await unary(client, 'UnaryCall', { response_size: 314159, payload: zeros(271828) }, { metadata });
    assert.strictEqual(unaryResult.response.payload.body.length, 314159);
    assertEchoedMetadata('unary', unaryResult.metadata, unaryResult.status.metadata);

    const call = client.FullDuplexCall(metadata, deadline());
    const collected = collect(call);
    call.write({ response_parameters: [{ size: 314159 }], payload: zeros(271828) });
    call.end();
    const { responses, status, metadata: initial } = await collected;
    assertOk(status);
    assert.deepStrictEqual(responses.map((response) => response.payload.body.length), [314159]);
    assertEchoedMetadata('full duplex', initial, status.metadata);
  },

  async status_code_and_message({ client }) {
    const request = { response_status: { code: 2, message: 'test status message' } };
    const error = await expectStatus(unary(client, 'UnaryCall', request), grpc.status.UNKNOWN);
    assert.strictEqual(error.details, 'test status message');

    const call = client.FullDuplexCall(deadline());
    const collected = collect(call);
    call.write(request);
    call.end();
    const { status } = await collected;
    assert.strictEqual(status.code, grpc.status.UNKNOWN);
    assert.strictEqual(status.details, 'test status message');
  },

  async special_status_message({ client }) {
    const request = { response_status: { code: 2, message: SPECIAL_STATUS_MESSAGE } };
    const error = await expectStatus(unary(client, 'UnaryCall', request), grpc.status.UNKNOWN);
    assert.strictEqual(error.details, SPECIAL_STATUS_MESSAGE);
  },

  async unimplemented_method({ client }) {
    await expectStatus(unary(client, 'UnimplementedCall', {}), grpc.status.UNIMPLEMENTED);
  },

  async unimplemented_service({ unimplementedClient }) {
    await expectStatus(unary(unimplementedClient, 'UnimplementedCall', {}), grpc.status.UNIMPLEMENTED);
  },

  async cancel_after_begin({ client }) {
    const result = new Promise((resolve, reject) => {
      const call = client.StreamingInputCall(deadline(), (error, response) => (error ? reject(error) : resolve(response)));
      call.cancel();
    });
    await expectStatus(result, grpc.status.CANCELLED);
  },

  async cancel_after_first_response({ client }) {
    const call = client.FullDuplexCall(deadline());
    const ended = collectStatus(call);
    const received = nextResponse(call);
    call.write({ response_parameters: [{ size: 31415 }], payload: zeros(27182) });
    const response = await received;
    assert.strictEqual(response.payload.body.length, 31415);
    call.cancel();
    assert.strictEqual((await ended).code, grpc.status.CANCELLED);
  },

  async timeout_on_sleeping_server({ client }) {
    const call = client.FullDuplexCall(deadline(1));
    const ended = collectStatus(call);
    call.write({ payload: zeros(27182) });
    assert.strictEqual((await ended).code, grpc.status.DEADLINE_EXCEEDED);
  },

  async client_compressed_unary({ client, compressingClient }) {
    const request = (expectCompressed) => ({
      expect_compressed: { value: expectCompressed },
      response_size: 314159,
      payload: zeros(271828),
    });
    await expectStatus(unary(client, 'UnaryCall', request(true)), grpc.status.INVALID_ARGUMENT);
    const compressed = await unary(compressingClient, 'UnaryCall', request(true));
    assert.strictEqual(compressed.response.payload.body.length, 314159);
    const uncompressed = await unary(client, 'UnaryCall', request(false));
    assert.strictEqual(uncompressed.response.payload.body.length, 314159);
  },

  async server_compressed_unary({ client }) {
    for (const value of [true, false]) {
      const { response } = await unary(client, 'UnaryCall', {
        response_compressed: { value },
        response_size: 314159,
        payload: zeros(271828),
      });
      assert.strictEqual(response.payload.body.length, 314159, `response_compressed=${value}`);
    }
  },

  async client_compressed_streaming({ client, compressingClient }) {
    const probe = new Promise((resolve, reject) => {
      const call = client.StreamingInputCall(deadline(), (error, response) => (error ? reject(error) : resolve(response)));
      call.write({ expect_compressed: { value: true }, payload: zeros(27182) });
      call.end();
    });
    await expectStatus(probe, grpc.status.INVALID_ARGUMENT);

    const result = new Promise((resolve, reject) => {
      const call = compressingClient.StreamingInputCall(deadline(), (error, response) => (error ? reject(error) : resolve(response)));
      call.write({ expect_compressed: { value: true }, payload: zeros(27182) });
      call.write({ expect_compressed: { value: false }, payload: zeros(45904) }, NO_COMPRESS);
      call.end();
    });
    assert.strictEqual((await result).aggregated_payload_size, 73086);
  },

  async server_compressed_streaming({ client }) {
    const call = client.StreamingOutputCall({
      response_parameters: [
        { compressed: { value: true }, size: 31415 },
        { compressed: { value: false }, size: 92653 },
      ],
    }, deadline());
    const { responses, status } = await collect(call);
    assertOk(status);
    assert.deepStrictEqual(responses.map((response) => response.payload.body.length), [31415, 92653]);
  },
};

/** The name (field 1) of a serialized FileDescriptorProto: enough to check reflection answers without a descriptor library. */
function fileDescriptorName(bytes) {
  assert.strictEqual(bytes[0], 0x0a, 'FileDescriptorProto does not start with its name');
  let length = 0;
  let shift = 0;
  let offset = 1;
  for (;;) {
    const byte = bytes[offset];
    offset += 1;
    length |= (byte & 0x7f) << shift;
    shift += 7;
    if ((byte & 0x80) === 0) {
      break;
    }
  }
  return bytes.subarray(offset, offset + length).toString('utf8');
}

/** One request/response exchange on a reflection stream. */
function reflect(call, request) {
  const received = nextResponse(call);
  call.write(request);
  return received;
}

async function checkReflection(reflectionPackage, serviceName, target, credentials) {
  const client = new reflectionPackage.ServerReflection(target, credentials);
  try {
    const call = client.ServerReflectionInfo(deadline());
    const ended = collectStatus(call);

    const list = await reflect(call, { list_services: '' });
    assert.strictEqual(list.message_response, 'list_services_response', `list_services answered ${list.message_response}`);
    const names = list.list_services_response.service.map((service) => service.name);
    for (const expected of ['grpc.testing.TestService', 'grpc.health.v1.Health', serviceName]) {
      assert.ok(names.includes(expected), `list_services lacks ${expected}: ${names.join(', ')}`);
    }

    const bySymbol = await reflect(call, { file_containing_symbol: 'grpc.testing.TestService' });
    assert.strictEqual(bySymbol.message_response, 'file_descriptor_response', `file_containing_symbol answered ${bySymbol.message_response}`);
    const files = bySymbol.file_descriptor_response.file_descriptor_proto.map(fileDescriptorName);
    assert.ok(files.includes('grpc/testing/test.proto'), `file_containing_symbol returned ${files.join(', ')}`);

    const byName = await reflect(call, { file_by_filename: 'grpc/testing/messages.proto' });
    assert.strictEqual(byName.message_response, 'file_descriptor_response', `file_by_filename answered ${byName.message_response}`);
    assert.ok(byName.file_descriptor_response.file_descriptor_proto.map(fileDescriptorName).includes('grpc/testing/messages.proto'));

    const missing = await reflect(call, { file_containing_symbol: 'no.such.Symbol' });
    assert.strictEqual(missing.message_response, 'error_response', `an unknown symbol answered ${missing.message_response}`);
    assert.strictEqual(missing.error_response.error_code, grpc.status.NOT_FOUND);

    call.end();
    assertOk(await ended);
  } finally {
    client.close();
  }
}

// HlmHub's own checks of the standard discovery services, as tools like grpcurl use them.
const extraCases = {
  async health_check({ target, credentials }) {
    const { health } = loadDiscoveryPackages();
    const client = new health.Health(target, credentials);
    try {
      for (const service of ['', 'grpc.testing.TestService']) {
        const { response } = await unary(client, 'Check', { service });
        assert.strictEqual(response.status, 'SERVING', `Check('${service}')`);
      }
      await expectStatus(unary(client, 'Check', { service: 'no.such.Service' }), grpc.status.NOT_FOUND);

      const watch = client.Watch({ service: 'grpc.testing.TestService' }, deadline());
      const ended = collectStatus(watch);
      const first = await nextResponse(watch);
      assert.strictEqual(first.status, 'SERVING', 'Watch first answer');
      watch.cancel();
      assert.strictEqual((await ended).code, grpc.status.CANCELLED);
    } finally {
      client.close();
    }
  },

  reflection_v1({ target, credentials }) {
    return checkReflection(loadDiscoveryPackages().reflection.v1, 'grpc.reflection.v1.ServerReflection', target, credentials);
  },

  reflection_v1alpha({ target, credentials }) {
    return checkReflection(loadDiscoveryPackages().reflection.v1alpha, 'grpc.reflection.v1alpha.ServerReflection', target, credentials);
  },
};

const cases = { ...standardCases, ...extraCases };

function collectStatus(call) {
  return new Promise((resolve) => {
    call.on('error', () => {});
    call.on('status', resolve);
  });
}

async function main() {
  let args;
  try {
    args = parseArguments(process.argv.slice(2));
    if (args.server_port === undefined || args.test_case === undefined) {
      throw new Error('usage: node interop_client.js --server_port PORT --test_case NAME[,NAME...]|all');
    }
  } catch (error) {
    console.error(error.message);
    return 2;
  }
  const names = args.test_case === 'all' ? Object.keys(standardCases) : args.test_case.split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !(name in cases));
  if (unknown.length > 0) {
    console.error(`unknown test case(s): ${unknown.join(', ')}`);
    return 2;
  }
  const testing = loadTestingPackage();
  const target = `${args.server_host || '127.0.0.1'}:${args.server_port}`;
  const credentials = grpc.credentials.createInsecure();

  let failures = 0;
  for (const name of names) {
    // Fresh clients per case (grpc.use_local_subchannel_pool gives each its own connection), so
    // a case that breaks its connection cannot fail the next one.
    const options = { 'grpc.use_local_subchannel_pool': 1 };
    const peers = {
      target,
      credentials,
      client: new testing.TestService(target, credentials, options),
      compressingClient: new testing.TestService(target, credentials, { ...options, 'grpc.default_compression_algorithm': GZIP }),
      unimplementedClient: new testing.UnimplementedService(target, credentials, options),
    };
    const started = process.hrtime.bigint();
    try {
      await cases[name](peers);
      console.log(`PASS ${name} (${Number((process.hrtime.bigint() - started) / 1000000n)} ms)`);
    } catch (error) {
      failures += 1;
      let reason;
      if (error instanceof assert.AssertionError) {
        reason = error.message;
      } else if (error && typeof error.code === 'number') {
        reason = `unexpected status ${error.code}: ${JSON.stringify(error.details)}`;
      } else {
        reason = (error && error.stack) || String(error);
      }
      console.log(`FAIL ${name}: ${reason}`);
    } finally {
      for (const peer of [peers.client, peers.compressingClient, peers.unimplementedClient]) {
        peer.close();
      }
    }
  }
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error.stack || String(error));
    process.exit(2);
  },
);
