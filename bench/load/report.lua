-- Prints wrk's summary as one JSON line at the end of the run, so bench/load/run.js reads numbers rather
-- than wrk's human-readable (and rounded) text. Times are in microseconds, wrk's own unit.
-- errors.status counts responses outside 2xx/3xx: a fast error page must not pass for throughput.
done = function(summary, latency, _requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_RESULT {"requests":%d,"duration_us":%d,"latency_p50_us":%d,"latency_p99_us":%d,'
      .. '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
