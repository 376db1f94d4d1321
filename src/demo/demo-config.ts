/**
 * The demo's configuration, written in the same YAML a user would write and loaded through the same
 * parser, so the demo can never drift from what a real config accepts.
 */
export function demoConfigYaml(sampleApi: URL): string {
  const upstream = sampleApi.origin;
  return `# Gatehouse demo: plain HTTP on loopback, in front of the bundled sample API.
insecure_server: true
address: 127.0.0.1:8080
routes:
  # The API under /api, with the prefix cut off before it reaches the upstream.
  - from: http://localhost
    prefix: /api
    prefix_rewrite: /
    to: ${upstream}
    allow_public_unauthenticated_access: true
    set_response_headers:
      X-Served-By: gatehouse-demo
  # Everything else on the same host goes to the sample API's root too.
  - from: http://localhost
    to: ${upstream}
    allow_public_unauthenticated_access: true
`;
}
