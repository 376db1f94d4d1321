#!/usr/bin/env node
/**
 * The `gatehouse` executable. It tunes the heap, then loads the commands (cli-commands.ts): the tuning
 * must happen before any other module loads, which a static import would not allow.
 *
 * Why: a streamed body leaves a trail of 64 KiB socket buffers whose memory V8 reclaims only when the
 * small objects pointing at them are collected. By default the young generation grows to 16 MiB and those
 * collections come late: a 100 MB download through Gatehouse peaked at 143–145 MB RSS on the development
 * machine. Kept at its initial size, it is collected sooner: 122–125 MB, with no throughput change the load
 * benchmark could tell from noise (bench/README.md). V8 reads the flag whenever it considers growing the
 * space, so setting it at run time takes effect.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--semi-space-growth-factor=1');
await import('./cli-commands.js');
