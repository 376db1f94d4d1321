import { describe, expect, it } from 'vitest';
import { prefersHtml } from './negotiate.js';

describe('prefersHtml', () => {
  it('treats a top-level navigation as a browser page load', () => {
    expect(prefersHtml({ 'sec-fetch-mode': 'navigate', accept: '*/*' })).toBe(true);
  });

  it('treats fetch and XHR modes as API calls even when they accept HTML', () => {
    expect(prefersHtml({ 'sec-fetch-mode': 'cors', accept: 'text/html' })).toBe(false);
    expect(prefersHtml({ 'sec-fetch-mode': 'same-origin', accept: 'text/html' })).toBe(false);
  });

  it("answers HTML to a plain-http browser's Accept header", () => {
    expect(prefersHtml({ accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' })).toBe(
      true,
    );
  });

  it('answers JSON to fetch() defaults and to clients that prefer JSON', () => {
    expect(prefersHtml({ accept: '*/*' })).toBe(false);
    expect(prefersHtml({})).toBe(false);
    expect(prefersHtml({ accept: 'application/json, text/html;q=0.5' })).toBe(false);
    expect(prefersHtml({ accept: 'text/html;q=0' })).toBe(false);
  });
});
