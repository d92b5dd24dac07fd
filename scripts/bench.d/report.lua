-- Shared by every wrk run of scripts/bench: prints one machine-readable line
-- at the end, with exact percentiles (microseconds) from wrk's histogram.
function bench_report(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d p50_us=%d p99_us=%d max_us=%d\n",
      summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
      latency:percentile(50.0), latency:percentile(99.0), latency.max))
   io.flush()
end
