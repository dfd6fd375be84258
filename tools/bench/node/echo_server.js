'use strict';
// hlmhub.bench.Echo on grpc-js, the peer of the transport benchmark (tools/bench/transport.sh).
// Same proto and same behaviour as tools/HlmHub.Bench/EchoService.cs: messages are decoded and
// re-encoded, as any grpc-js service does. Usage: node echo_server.js --port N

const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO = path.join(__dirname, '..', '..', 'HlmHub.Bench', 'bench.proto');

function parsePort(argv) {
  const index = argv.indexOf('--port');
  const port = index >= 0 ? Number(argv[index + 1]) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error('usage: node echo_server.js --port N');
  }
  return port;
}

const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: false, longs: Number });
const bench = grpc.loadPackageDefinition(definition).hlmhub.bench;

const server = new grpc.Server();
server.addService(bench.Echo.service, {
  Unary(call, callback) {
    callback(null, call.request);
  },
  Bidi(call) {
    call.on('data', (message) => call.write(message));
    call.on('end', () => call.end());
    call.on('error', () => {});
  },
});

const port = parsePort(process.argv.slice(2));
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error, boundPort) => {
  if (error) {
    console.error(error.message);
    process.exit(1);
  }
  // The script waits for this line.
  console.log(`listening on 127.0.0.1:${boundPort} (grpc-js)`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.tryShutdown(() => process.exit(0)));
}
