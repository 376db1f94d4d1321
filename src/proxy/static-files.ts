/**
 * Serves the files of a `to: file:///dir` route — typically a single-page app's build output — as the
 * route's upstream answer. What it promises:
 *
 * - **Nothing outside the root.** The request path (normalized and rewritten by the route) is decoded
 *   segment by segment; a segment that is `.`/`..`, hidden (`.git`, `.env`; only `.well-known` is served),
 *   or decodes to a `/`, `\`, NUL or other control character, invalid UTF-8, or a name longer than a file
 *   system allows is refused. The file found is then resolved with `realpath` and must still lie under the
 *   root's own real path, so a symlink that points outside (`assets -> /etc`) is refused too; symlinks
 *   within the root work. It is opened by that real path with `O_NOFOLLOW` and checked with `fstat` to
 *   be a regular file: FIFOs, devices and sockets are never read.
 * - **No listings.** A directory serves its `index.html`, or 404.
 * - **SPA fallback.** A GET or HEAD for a path that names nothing, whose last segment has no extension
 *   (`/settings/profile`, not `/assets/app.js`) and whose `Accept` takes HTML (absent, `text/html`,
 *   `text/*` or `*\/*` with q > 0) is answered with the root's `index.html`, so client-side routes load
 *   the app; a missing asset stays a 404. Such answers carry `Vary: Accept`.
 * - **Caching.** A strong `ETag` from the size and the nanosecond modification time, and `Last-Modified`;
 *   conditional requests are evaluated in RFC 9110 §13.2.2 order (If-Match, If-Unmodified-Since →
 *   412; If-None-Match, If-Modified-Since → 304). HTML gets `Cache-Control: no-cache` (the entry point
 *   must be revalidated so a deploy is seen); other files leave freshness to the ETag.
 * - **Streamed.** Bodies are read from the open file in chunks with backpressure, never whole.
 *
 * GET and HEAD only; anything else is a 405 with `Allow`. Errors are thrown as GatehouseErrors for the
 * pipeline's renderer.
 */
import { constants, type BigIntStats } from 'node:fs';
import { open, realpath, type FileHandle } from 'node:fs/promises';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { join, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { GatehouseError } from '../shared/errors.js';

/** Media types by lower-case extension; the rest is `application/octet-stream` (with `nosniff`). */
const CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  // RFC 9239: text/javascript is the one media type for JavaScript, modules included.
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  json: 'application/json',
  map: 'application/json',
  webmanifest: 'application/manifest+json',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff2: 'font/woff2',
  woff: 'font/woff',
  txt: 'text/plain; charset=utf-8',
  wasm: 'application/wasm',
});

const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

const INDEX_FILE = 'index.html';
const ALLOWED_METHODS = 'GET, HEAD';
/** NAME_MAX and PATH_MAX of Linux; longer names cannot exist, so they are not looked up. */
const MAX_SEGMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;
/** Hidden segments are refused, except this one (RFC 8615 well-known URIs: assetlinks, security.txt). */
const WELL_KNOWN = '.well-known';
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const FORBIDDEN_IN_SEGMENT = /[\x00-\x1f\x7f/\\]/;
/** O_NONBLOCK so that opening a FIFO cannot hang; O_NOFOLLOW so that the resolved path stays resolved. */
const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** The content type of a file name (the part after the last `.`, case-insensitive). */
export function contentTypeOf(fileName: string): string {
  const dot = fileName.lastIndexOf('.');
  if (dot <= 0) return DEFAULT_CONTENT_TYPE;
  return CONTENT_TYPES[fileName.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

export interface RequestedFile {
  /** Decoded path segments under the root; empty for the root itself. */
  readonly segments: readonly string[];
  /** Whether the path ended in `/` (it names a directory). */
  readonly isDirectory: boolean;
}

/**
 * The file a request path names, as segments relative to the root, or undefined when the path may not
 * name anything there. `path` is the route's normalized and rewritten path: percent-encoded, starting
 * with `/`; a rewrite may have put anything in it, so nothing about it is taken for granted.
 */
export function resolveRequestPath(path: string): RequestedFile | undefined {
  if (!path.startsWith('/') || Buffer.byteLength(path) > MAX_PATH_BYTES) return undefined;
  const raw = path.slice(1).split('/');
  const segments: string[] = [];
  for (const encoded of raw) {
    // Empty segments (`//`, a trailing `/`) name nothing on a file system.
    if (encoded === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(encoded);
    } catch {
      return undefined; // an invalid escape, or bytes that are not UTF-8
    }
    if (!isServableName(segment)) return undefined;
    segments.push(segment);
  }
  return { segments, isDirectory: path.endsWith('/') };
}

function isServableName(segment: string): boolean {
  if (segment === '' || FORBIDDEN_IN_SEGMENT.test(segment)) return false;
  if (segment.startsWith('.') && segment !== WELL_KNOWN) return false;
  return Buffer.byteLength(segment) <= MAX_SEGMENT_BYTES;
}

/**
 * Whether a client that did not find a file may be given the app's `index.html` instead: the last segment
 * has no extension (so missing assets stay 404) and `Accept` takes HTML.
 */
export function mayFallBack(requested: RequestedFile, accept: string | undefined): boolean {
  const last = requested.segments.at(-1);
  const hasExtension = !requested.isDirectory && last !== undefined && last.lastIndexOf('.') > 0;
  return !hasExtension && acceptsHtml(accept);
}

/**
 * RFC 9110 §12.5.1: whether `text/html` is acceptable, by the most specific range that names it
 * (`text/html`, then `text/*`, then `*\/*`); no `Accept` at all means anything is.
 */
export function acceptsHtml(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  let specificity = 0;
  let quality = 0;
  for (const item of accept.split(',')) {
    const [range = '', ...params] = item.split(';');
    const type = range.trim().toLowerCase();
    const rank = type === 'text/html' ? 3 : type === 'text/*' ? 2 : type === '*/*' ? 1 : 0;
    if (rank <= specificity) continue;
    specificity = rank;
    const q = params.map((param) => param.trim()).find((param) => /^q=/i.test(param));
    const value = q === undefined ? 1 : Number(q.slice(2));
    quality = Number.isFinite(value) ? value : 0;
  }
  return quality > 0;
}

export interface FileValidators {
  readonly etag: string;
  /** Milliseconds since the epoch. */
  readonly modifiedMs: number;
}

/** Strong: size and modification time to the nanosecond change whenever a deploy rewrites the file. */
export function etagOf(stats: Pick<BigIntStats, 'size' | 'mtimeNs'>): string {
  return `"${stats.size.toString(16)}-${stats.mtimeNs.toString(16)}"`;
}

export type ConditionOutcome = 'send' | 'not-modified' | 'precondition-failed';

/** RFC 9110 §13.2.2: the preconditions of a GET or HEAD, in the order the standard evaluates them. */
export function evaluateConditions(headers: IncomingHttpHeaders, file: FileValidators): ConditionOutcome {
  const modifiedSeconds = Math.floor(file.modifiedMs / 1000);
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    // §13.1.1: strong comparison.
    if (!matchesEntityTag(ifMatch, file.etag, false)) return 'precondition-failed';
  } else {
    const since = parseHttpDate(headers['if-unmodified-since']);
    if (since !== undefined && modifiedSeconds > since) return 'precondition-failed';
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    // §13.1.2: weak comparison; a present If-None-Match makes If-Modified-Since irrelevant.
    return matchesEntityTag(ifNoneMatch, file.etag, true) ? 'not-modified' : 'send';
  }
  const since = parseHttpDate(headers['if-modified-since']);
  return since !== undefined && modifiedSeconds <= since ? 'not-modified' : 'send';
}

const ENTITY_TAG = /(W\/)?"([^"]*)"/g;

function matchesEntityTag(field: string, etag: string, weak: boolean): boolean {
  if (field.trim() === '*') return true;
  for (const [, weakPrefix, opaque] of field.matchAll(ENTITY_TAG)) {
    if (weakPrefix !== undefined && !weak) continue;
    if (`"${opaque}"` === etag) return true;
  }
  return false;
}

/** Seconds since the epoch, or undefined for an absent or unparseable date (which is then ignored). */
function parseHttpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** Outcome of looking a file up under the root. */
type Lookup =
  | { readonly kind: 'file'; readonly handle: FileHandle; readonly stats: BigIntStats; readonly name: string }
  | { readonly kind: 'missing' }
  /** A path that exists but may not be served: a directory without index.html, a symlink out, a FIFO. */
  | { readonly kind: 'refused' };

const MISSING: Lookup = { kind: 'missing' };
const REFUSED: Lookup = { kind: 'refused' };

/** Errors that mean "there is nothing servable at this path", as opposed to a broken disk. */
const NOT_FOUND_CODES = new Set(['ENOENT', 'ENOTDIR', 'ENAMETOOLONG', 'ELOOP', 'EACCES', 'EPERM']);

function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && NOT_FOUND_CODES.has(String(error.code));
}

function isWithin(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * Finds the file `segments` name under `root`, following symlinks only as far as they stay inside it;
 * a directory stands for its index.html. On `file`, the caller owns (and must close) the handle.
 */
export async function lookUpFile(root: string, segments: readonly string[]): Promise<Lookup> {
  let realRoot: string;
  try {
    // Per request, not once at load: a deploy that swaps a `current -> release-N` symlink is seen.
    realRoot = await realpath(root);
  } catch (error) {
    if (isNotFound(error)) return MISSING;
    throw error;
  }
  const first = await openWithin(realRoot, join(realRoot, ...segments));
  if (first.kind !== 'directory') return first;
  const index = await openWithin(realRoot, join(first.path, INDEX_FILE));
  // A directory without an index.html (or whose index.html is not a file) is not listed.
  return index.kind === 'file' ? index : REFUSED;
}

type Opened = Lookup | { readonly kind: 'directory'; readonly path: string };

async function openWithin(realRoot: string, candidate: string): Promise<Opened> {
  // The segments are checked already; this only guards against a mistake in that check.
  if (!isWithin(realRoot, candidate)) return REFUSED;
  let real: string;
  try {
    real = await realpath(candidate);
  } catch (error) {
    if (isNotFound(error)) return MISSING;
    throw error;
  }
  if (!isWithin(realRoot, real)) return REFUSED;
  let handle: FileHandle;
  try {
    handle = await open(real, OPEN_FLAGS);
  } catch (error) {
    // ELOOP: the path became a symlink after it was resolved.
    if (isNotFound(error)) return MISSING;
    throw error;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    if (stats.isFile()) return { kind: 'file', handle, stats, name: real };
    await handle.close();
    return stats.isDirectory() ? { kind: 'directory', path: real } : REFUSED;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export interface StaticRequest {
  /** The route's normalized, rewritten path. */
  readonly path: string;
  /** Edits the response headers (security headers, request id, CORS) before they are written. */
  decorateResponse(status: number, headers: Record<string, string | string[]>): void;
}

export interface StaticResult {
  readonly status: number;
  /** A read failure after the response had started, for the log; the client's response was cut. */
  readonly error?: GatehouseError;
}

export interface StaticFiles {
  readonly root: string;
  /** Answers one request from the files; throws a GatehouseError (404, 405, 412) for the renderer. */
  serve(req: IncomingMessage, res: ServerResponse, request: StaticRequest): Promise<StaticResult>;
}

export function createStaticFiles(root: string): StaticFiles {
  return { root, serve: (req, res, request) => serveFile(root, req, res, request) };
}

async function serveFile(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  request: StaticRequest,
): Promise<StaticResult> {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    throw new GatehouseError('ERR_METHOD_NOT_ALLOWED', `Use ${ALLOWED_METHODS} for these files.`, {
      headers: { allow: ALLOWED_METHODS },
    });
  }
  const requested = resolveRequestPath(request.path);
  if (requested === undefined) throw notFound();
  let found = await lookUpFile(root, requested.segments);
  let varyOnAccept = false;
  if (found.kind === 'missing') {
    varyOnAccept = true;
    // The answer to this path depends on Accept, whichever way it goes.
    if (!mayFallBack(requested, req.headers.accept)) throw notFound({ vary: 'Accept' });
    found = await lookUpFile(root, []);
    if (found.kind !== 'file') throw notFound({ vary: 'Accept' });
  }
  if (found.kind !== 'file') throw notFound();
  return send(req, res, request, found.handle, found.stats, found.name, varyOnAccept);
}

function notFound(headers?: Readonly<Record<string, string>>): GatehouseError {
  return new GatehouseError(
    'ERR_FILE_NOT_FOUND',
    'There is no file at this path.',
    headers === undefined ? {} : { headers },
  );
}

async function send(
  req: IncomingMessage,
  res: ServerResponse,
  request: StaticRequest,
  handle: FileHandle,
  stats: BigIntStats,
  name: string,
  varyOnAccept: boolean,
): Promise<StaticResult> {
  const size = Number(stats.size);
  const validators: FileValidators = { etag: etagOf(stats), modifiedMs: Number(stats.mtimeMs) };
  const contentType = contentTypeOf(name);
  const headers: Record<string, string | string[]> = {
    etag: validators.etag,
    'last-modified': new Date(validators.modifiedMs).toUTCString(),
  };
  if (contentType.startsWith('text/html')) headers['cache-control'] = 'no-cache';
  if (varyOnAccept) headers.vary = 'Accept';

  const outcome = evaluateConditions(req.headers, validators);
  if (outcome === 'precondition-failed') {
    await handle.close();
    throw new GatehouseError('ERR_PRECONDITION_FAILED', 'The file does not match the request’s conditions.');
  }
  if (outcome === 'not-modified' || req.method === 'HEAD' || size === 0) {
    await handle.close();
    const status = outcome === 'not-modified' ? 304 : 200;
    if (status === 200) {
      headers['content-type'] = contentType;
      headers['content-length'] = String(size);
    }
    request.decorateResponse(status, headers);
    res.writeHead(status, headers);
    res.end();
    return { status };
  }

  headers['content-type'] = contentType;
  headers['content-length'] = String(size);
  request.decorateResponse(200, headers);
  // The length announced is the length read, even if the file grows meanwhile; autoClose closes the handle.
  const body = handle.createReadStream({ start: 0, end: size - 1 });
  let readError: unknown;
  body.once('error', (error) => {
    readError = error;
  });
  res.writeHead(200, headers);
  try {
    await pipeline(body, res);
  } catch {
    // Either the file could not be read (cut the response: the client must not take it as complete) or
    // the client went away (nothing to report).
    if (readError !== undefined) {
      res.destroy();
      return {
        status: 200,
        error: new GatehouseError('ERR_INTERNAL', 'reading a static file failed', { cause: readError }),
      };
    }
  }
  return { status: 200 };
}
