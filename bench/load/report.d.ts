// Types of report.js, which stays plain JavaScript so `node bench/load/run.js` needs no build step.

export interface WrkErrors {
  readonly connect: number;
  readonly read: number;
  readonly write: number;
  readonly status: number;
  readonly timeout: number;
}

export interface WrkResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly errors: WrkErrors;
}

export interface FigureRow {
  /** `direct`, `bare` or `gatehouse`: the ratios are computed from these. */
  readonly target: string;
  readonly label: string;
  readonly result: WrkResult;
}

export interface Figures {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  readonly rows: readonly FigureRow[];
  readonly minimumRatioOverBare: number;
}

export const FIGURES_START: string;
export const FIGURES_END: string;
export function parseWrkResult(output: string): WrkResult;
export function findRunProblems(result: WrkResult): string[];
export function renderFigures(figures: Figures): string;
export function replaceFigures(readme: string, figures: string): string;
