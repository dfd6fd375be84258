'use strict';
// grpc.testing.TestService on @grpc/grpc-js, so HlmHub's own client can be checked against a
// real peer (grpc's doc/interop-test-descriptions.md, "Server" section).
//
//   node interop_server.js --port 0
//
// Prints "listening on 127.0.0.1:PORT" once bound (port 0 picks a free one) and serves until
// SIGTERM/SIGINT, or until stdin closes with --stop_on_stdin_close true.
//
// Known limitation of the peer, not of this file: grpc-js servers never compress responses
// (its framing always writes the compressed flag 0), so response_compressed is accepted and
// ignored: the server_compressed_* cases cannot be checked against this server.

const { grpc, loadTestingPackage, parseArguments } = require('./protos');
const serverInterceptors = require('@grpc/grpc-js/build/src/server-interceptors');

const ECHO_INITIAL_KEY = 'x-grpc-test-echo-initial';
const ECHO_TRAILING_KEY = 'x-grpc-test-echo-trailing-bin';

// grpc-js does not tell a handler whether a request message arrived compressed, which the
// CompressedRequest feature (expect_compressed) needs. The decompression step of the pinned
// grpc-js version sees the message's flag byte: it tags the decompressed bytes, and the request
// deserializers below carry the tag over to the parsed message.
const WAS_COMPRESSED = Symbol('wasCompressed');
const baseCall = serverInterceptors.BaseServerInterceptingCall;
if (!baseCall || typeof baseCall.prototype.decompressMessage !== 'function') {
  throw new Error('this @grpc/grpc-js version has no BaseServerInterceptingCall.decompressMessage: update interop_server.js');
}
const originalDecompressMessage = baseCall.prototype.decompressMessage;
baseCall.prototype.decompressMessage = function decompressMessage(framedMessage, encoding) {
  const compressed = framedMessage.readUInt8(0) === 1;
  return Promise.resolve(originalDecompressMessage.call(this, framedMessage, encoding)).then((bytes) => {
    bytes[WAS_COMPRESSED] = compressed;
    return bytes;
  });
};

function withCompressionTag(serviceDefinition) {
  const tagged = {};
  for (const [name, method] of Object.entries(serviceDefinition)) {
    tagged[name] = {
      ...method,
      requestDeserialize: (bytes) => {
        const message = method.requestDeserialize(bytes);
        Object.defineProperty(message, WAS_COMPRESSED, { value: bytes[WAS_COMPRESSED] === true });
        return message;
      },
    };
  }
  return tagged;
}

function zeros(size) {
  return { type: 'COMPRESSABLE', body: Buffer.alloc(size) };
}

function echoInitialMetadata(call) {
  const values = call.metadata.get(ECHO_INITIAL_KEY);
  if (values.length > 0) {
    const initial = new grpc.Metadata();
    initial.set(ECHO_INITIAL_KEY, values[0]);
    call.sendMetadata(initial);
  }
}

function echoTrailingMetadata(call) {
  const trailers = new grpc.Metadata();
  const values = call.metadata.get(ECHO_TRAILING_KEY);
  if (values.length > 0) {
    trailers.set(ECHO_TRAILING_KEY, values[0]);
  }
  return trailers;
}

/** The status an Echo Status request asks for, or null when it asks for none. */
function requestedStatus(call, request) {
  const status = request.response_status;
  if (status && status.code !== 0) {
    return { code: status.code, details: status.message, metadata: echoTrailingMetadata(call) };
  }
  return null;
}

function missingCompression(call, expectCompressed, request) {
  if (expectCompressed && expectCompressed.value && !request[WAS_COMPRESSED]) {
    return {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'expected a compressed request message',
      metadata: echoTrailingMetadata(call),
    };
  }
  return null;
}

function sleepMicroseconds(microseconds) {
  return new Promise((resolve) => setTimeout(resolve, Math.ceil(microseconds / 1000)));
}

const handlers = {
  EmptyCall(call, callback) {
    echoInitialMetadata(call);
    callback(null, {}, echoTrailingMetadata(call));
  },

  UnaryCall(call, callback) {
    echoInitialMetadata(call);
    const request = call.request;
    const failure = missingCompression(call, request.expect_compressed, request) || requestedStatus(call, request);
    if (failure) {
      callback(failure);
      return;
    }
    callback(null, { payload: zeros(request.response_size) }, echoTrailingMetadata(call));
  },

  CacheableUnaryCall(call, callback) {
    callback(null, { payload: { type: 'COMPRESSABLE', body: Buffer.from(String(process.hrtime.bigint())) } });
  },

  async StreamingOutputCall(call) {
    echoInitialMetadata(call);
    const request = call.request;
    const failure = requestedStatus(call, request);
    if (failure) {
      call.emit('error', failure);
      return;
    }
    for (const parameters of request.response_parameters) {
      if (parameters.interval_us > 0) {
        await sleepMicroseconds(parameters.interval_us);
      }
      if (call.cancelled) {
        return;
      }
      call.write({ payload: zeros(parameters.size) });
    }
    call.end(echoTrailingMetadata(call));
  },

  StreamingInputCall(call, callback) {
    echoInitialMetadata(call);
    let aggregatedPayloadSize = 0;
    let failed = false;
    call.on('data', (request) => {
      if (failed) {
        return;
      }
      const failure = missingCompression(call, request.expect_compressed, request);
      if (failure) {
        failed = true;
        callback(failure);
        return;
      }
      aggregatedPayloadSize += request.payload ? request.payload.body.length : 0;
    });
    call.on('end', () => {
      if (!failed) {
        callback(null, { aggregated_payload_size: aggregatedPayloadSize }, echoTrailingMetadata(call));
      }
    });
    call.on('error', () => {});
  },

  FullDuplexCall(call) {
    echoInitialMetadata(call);
    // Responses are produced in order, one request at a time, even when interval_us makes a
    // request wait: a promise chain keeps the order.
    let chain = Promise.resolve();
    let finished = false;
    call.on('data', (request) => {
      chain = chain.then(async () => {
        if (finished) {
          return;
        }
        const failure = requestedStatus(call, request);
        if (failure) {
          finished = true;
          call.emit('error', failure);
          return;
        }
        for (const parameters of request.response_parameters) {
          if (parameters.interval_us > 0) {
            await sleepMicroseconds(parameters.interval_us);
          }
          if (call.cancelled) {
            return;
          }
          call.write({ payload: zeros(parameters.size) });
        }
      });
    });
    call.on('end', () => {
      chain = chain.then(() => {
        if (!finished) {
          finished = true;
          call.end(echoTrailingMetadata(call));
        }
      });
    });
    call.on('error', () => {});
  },

  HalfDuplexCall(call) {
    echoInitialMetadata(call);
    const requests = [];
    call.on('data', (request) => requests.push(request));
    call.on('end', () => {
      for (const request of requests) {
        for (const parameters of request.response_parameters) {
          call.write({ payload: zeros(parameters.size) });
        }
      }
      call.end(echoTrailingMetadata(call));
    });
    call.on('error', () => {});
  },
  // UnimplementedCall is deliberately absent: grpc-js answers UNIMPLEMENTED for it.
};

function main() {
  const args = parseArguments(process.argv.slice(2));
  if (args.port === undefined) {
    throw new Error('usage: node interop_server.js --port PORT');
  }
  const testing = loadTestingPackage();
  const server = new grpc.Server();
  server.addService(withCompressionTag(testing.TestService.service), handlers);
  server.bindAsync(`127.0.0.1:${args.port}`, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      console.error(`bind failed: ${error.message}`);
      process.exit(2);
    }
    console.log(`listening on 127.0.0.1:${port}`);
  });
  const stop = () => server.tryShutdown(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (args.stop_on_stdin_close === 'true') {
    // The test host owns this process: when the host goes away (stdin closes), so does the server.
    process.stdin.on('end', stop);
    process.stdin.resume();
  }
}

main();
