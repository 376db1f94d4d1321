// The stronger baseline: the bare http-proxy script tuned with a keep-alive agent, so it reuses its
// upstream connections as Gatehouse does instead of opening one per request (http-proxy's default).
// Usage: node bench/load/keepalive-http-proxy.js <target URL> <port>
import http from 'node:http';
import process from 'node:process';
import httpProxy from 'http-proxy';

const [target, port] = process.argv.slice(2);
const proxy = httpProxy.createProxyServer({ target, agent: new http.Agent({ keepAlive: true }) });
// Without an 'error' listener http-proxy rethrows and the process dies on the first upstream error.
proxy.on('error', (_error, _req, res) => res.end());
http.createServer((req, res) => proxy.web(req, res)).listen(Number(port), '127.0.0.1');
