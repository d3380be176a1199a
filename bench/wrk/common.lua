-- Shared by every scenario: unique request numbers per thread, and a machine-readable
-- result line that bench/run parses.
local counter = 0
thread_id = 0  -- global: set per thread by setup()
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

-- BENCH_NONCE differs per case, so no body repeats one from an earlier case (which the
-- service would answer from its cache).
local nonce = os.getenv("BENCH_NONCE") or "0"

function next_number()
  counter = counter + 1
  return nonce .. "-" .. (thread_id * 100000000 + counter)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d non2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors, summary.errors.status))
end
