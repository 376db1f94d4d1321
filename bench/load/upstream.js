// The upstream every target forwards to: a node:http server answering a small JSON body on every path,
// keep-alive on (Node's default), so what the benchmark measures is the proxy in front of it.
// Usage: node bench/load/upstream.js <port>
import { Buffer } from 'node:buffer';
import http from 'node:http';
import process from 'node:process';

const body = JSON.stringify({ message: 'HELLO WORLD' });
const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };

const server = http.createServer((_req, res) => {
  res.writeHead(200, headers);
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2]), '127.0.0.1');
