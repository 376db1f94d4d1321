/**
 * What `gatehouse demo` runs beside Gatehouse: the sample API and the development IdP, with a client
 * registered for Gatehouse's callback on the port it will listen on.
 */
import { randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { demoConfigYaml } from './demo-config.js';
import { startDevIdp } from './dev-idp.js';
import { startSampleApi } from './sample-api.js';

export interface RunningDemoParts {
  /** The demo config, for Gatehouse to load. */
  readonly yaml: string;
  /** The port Gatehouse must listen on: the IdP only returns users to that one. */
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_PORT = 8080;
const secret = () => randomBytes(32).toString('base64');

/** A free loopback port, found by listening on port 0 for a moment. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the sample API and the IdP. `requestedPort` is the port asked for (the `ADDRESS` override, or
 * 8080); 0 means any free one, chosen now because the IdP must know the callback URL before Gatehouse runs.
 */
export async function startDemoParts(requestedPort: number = DEFAULT_PORT): Promise<RunningDemoParts> {
  const port = requestedPort === 0 ? await freePort() : requestedPort;
  const clientSecret = secret();
  const signoutRedirectUrl = `http://localhost:${port}/public/`;
  const sampleApi = await startSampleApi(0);
  try {
    const idp = await startDevIdp({
      host: '127.0.0.1',
      port: 0,
      issuerHostname: 'localhost',
      clients: [
        {
          client_id: 'gatehouse-demo',
          client_secret: clientSecret,
          redirect_uris: [`http://localhost:${port}/oauth2/callback`],
          post_logout_redirect_uris: [signoutRedirectUrl],
        },
      ],
    });
    const yaml = demoConfigYaml({
      sampleApi: sampleApi.url,
      address: `127.0.0.1:${port}`,
      issuer: idp.issuer,
      clientId: 'gatehouse-demo',
      clientSecret,
      sharedSecret: secret(),
      cookieSecret: secret(),
      signoutRedirectUrl,
    });
    return {
      yaml,
      port,
      close: async () => {
        await Promise.all([sampleApi.close(), idp.close()]);
      },
    };
  } catch (error) {
    await sampleApi.close();
    throw error;
  }
}
