import type { IncomingHttpHeaders } from 'node:http';

/**
 * Whether the client would rather read HTML than JSON: a top-level navigation (Fetch's
 * `Sec-Fetch-Mode: navigate`), or — since browsers send no `Sec-Fetch-*` over plain http — an `Accept` that
 * names `text/html` explicitly and ranks it at least as high as JSON. `*\/*` alone, which is what `fetch()`
 * sends, does not count (DESIGN 4.3).
 */
export function prefersHtml(headers: IncomingHttpHeaders): boolean {
  const mode = headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  const accept = headers.accept;
  if (accept === undefined || !accept.includes('text/html')) return false;
  return (
    qualityOf(accept, 'text/html') >= qualityOf(accept, 'application/json') &&
    qualityOf(accept, 'text/html') > 0
  );
}

/** The q-value (RFC 9110 §12.4.2) given to a media type, 0 when absent; wildcards do not count. */
function qualityOf(accept: string, mediaType: string): number {
  for (const item of accept.split(',')) {
    const [type = '', ...params] = item.split(';');
    if (type.trim().toLowerCase() !== mediaType) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = q === undefined ? 1 : Number(q.slice(2));
    return Number.isFinite(value) ? value : 0;
  }
  return 0;
}
