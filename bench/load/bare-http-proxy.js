// The baseline, the "bare 10-line http-proxy script", as http-proxy's README writes it:
// `createProxyServer({ target }).listen(port)` with every default. Its default `agent: false` opens a
// new upstream connection per request (lib/http-proxy/common.js). Only the 'error' listener is added,
// and the address, since the benchmark listens on loopback only.
// Usage: node bench/load/bare-http-proxy.js <target URL> <port>
import process from 'node:process';
import httpProxy from 'http-proxy';

const [target, port] = process.argv.slice(2);
const proxy = httpProxy.createProxyServer({ target });
// Without an 'error' listener http-proxy rethrows and the process dies on the first upstream error.
proxy.on('error', (_error, _req, res) => res.end());
proxy.listen(Number(port), '127.0.0.1');
