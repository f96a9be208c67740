-- wrk's summary as one JSON line, in the shape bench.load prints (latencies in ms).
done = function(summary, latency, requests)
  local e = summary.errors
  local errors = e.connect + e.read + e.write + e.status + e.timeout
  io.write(string.format(
    'JSON {"requests": %d, "errors": %d, "seconds": %f, "rate": %f, "p50_ms": %f, "p95_ms": %f, "p99_ms": %f}\n',
    summary.requests, errors, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
