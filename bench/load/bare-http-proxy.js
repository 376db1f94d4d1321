// The baseline: the "bare 10-line http-proxy script" people put in front of an API, given a keep-alive
// agent so the comparison is fair. Usage: node bench/load/bare-http-proxy.js <target URL> <port>
import http from 'node:http';
import process from 'node:process';
import httpProxy from 'http-proxy';

const [target, port] = process.argv.slice(2);
const proxy = httpProxy.createProxyServer({ target, agent: new http.Agent({ keepAlive: true }) });
// Without an 'error' listener http-proxy rethrows and the process dies on the first upstream error.
proxy.on('error', (_error, _req, res) => res.end());
http.createServer((req, res) => proxy.web(req, res)).listen(Number(port), '127.0.0.1');
