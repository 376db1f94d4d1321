/**
 * Checks on the top-level keys that the schema cannot express key by key: TLS needs both a certificate
 * and its key unless the server is plain HTTP behind a TLS terminator, the listen address must be one
 * Node can listen on, and trusted proxies must be addresses or CIDRs.
 */
import { isIpOrCidr } from '../shared/ip-range.js';
import { readListenAddress } from './address.js';
import type { Mapping } from './mapping.js';
import type { ProblemAt } from './schema-issues.js';

const TLS_ADVICE =
  'TLS needs certificate_file and certificate_key_file, or set insecure_server: true behind a TLS terminator';

function checkTls(draft: Mapping): ProblemAt[] {
  if (draft.insecure_server !== undefined && draft.insecure_server !== false) return [];
  const isGiven = (key: string) => draft[key] !== undefined || draft[`${key}_file`] !== undefined;
  const missing = ['certificate', 'certificate_key'].filter((key) => !isGiven(key));
  if (missing.length === 2) return [{ path: [], message: TLS_ADVICE }];
  return missing.map((key) => ({ path: [key], message: `is missing; ${TLS_ADVICE}` }));
}

function checkAddress(draft: Mapping): ProblemAt[] {
  if (typeof draft.address !== 'string') return [];
  const address = readListenAddress(draft.address, draft.insecure_server === true);
  return address.ok ? [] : [{ path: ['address'], message: address.message }];
}

function checkTrustedProxies(draft: Mapping): ProblemAt[] {
  if (!Array.isArray(draft.trusted_proxies)) return [];
  return draft.trusted_proxies.flatMap((entry: unknown, index) =>
    typeof entry === 'string' && !isIpOrCidr(entry)
      ? [
          {
            path: ['trusted_proxies', index],
            message: `"${entry}" is not an IP address or a CIDR such as 10.0.0.0/8`,
          },
        ]
      : [],
  );
}

/** Runs before `*_file` keys are read, so a certificate whose file is unreadable still counts as given. */
export function validateServer(draft: Mapping): ProblemAt[] {
  return [...checkTls(draft), ...checkAddress(draft), ...checkTrustedProxies(draft)];
}
