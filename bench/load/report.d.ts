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

/** One measurement: wrk's result and the CPU time the process wrk talked to used meanwhile. */
export interface Run {
  readonly result: WrkResult;
  readonly cpuSeconds: number;
}

export interface RunSummary {
  readonly requestsPerSecond: number;
  readonly minRequestsPerSecond: number;
  readonly maxRequestsPerSecond: number;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly cpuMicrosecondsPerRequest: number;
  /** CPU seconds the serving process used per second of the run (1 is one CPU's worth). */
  readonly cpuUse: number;
}

export interface CpuTimes {
  /** Clock ticks in all states. */
  readonly total: number;
  readonly steal: number;
}

/** The proxies measured after the direct upstream in every round. */
export type ProxyName = 'bare' | 'keepAlive' | 'gatehouse';
export type TargetName = 'direct' | ProxyName;
/** Gatehouse's signed-in route, measured next to its public route (`gatehouse`) in the same process. */
export type MeasuredName = ProxyName | 'signedIn';

export interface Figures {
  readonly date: string;
  readonly machine: string;
  /** Markdown saying how the targets were started and measured. */
  readonly setup: string;
  /**
   * One run per round, in round order, for each target; `signedIn` when the signed-in route was measured,
   * which adds its row and its cost over the public route.
   */
  readonly runs: { readonly [target in TargetName]: readonly Run[] } & { readonly signedIn?: readonly Run[] };
  /** Share of each used CPU's time stolen by the hypervisor over the measurements, 0 to 1. */
  readonly steal: readonly { readonly cpu: number; readonly share: number }[];
  readonly minimumRatioOverBare: number;
}

export const FIGURES_START: string;
export const FIGURES_END: string;
export const MINIMUM_LOAD_HEADROOM: number;
export const PROXIES: readonly ProxyName[];
export const TARGET_LABELS: { readonly [target in TargetName | 'signedIn']: string };
export function parseWrkResult(output: string): WrkResult;
export function findRunProblems(result: WrkResult): string[];
export function parseCpuSeconds(stat: string, clockTicksPerSecond: number): number;
export function parseCpuList(list: string): number[];
export function parseCpuTimes(procStat: string): Map<number, CpuTimes>;
export function median(values: readonly number[]): number;
export function summarizeRuns(runs: readonly Run[]): RunSummary;
export function roundRatios(baselineRuns: readonly Run[], gatehouseRuns: readonly Run[]): number[];
export function proxyOrder(round: number): ProxyName[];
export function measurementOrder(round: number): MeasuredName[];
export function renderFigures(figures: Figures): string;
export function replaceFigures(readme: string, figures: string): string;
