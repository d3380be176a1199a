-- Through the service: every body unique, so every request is a cache miss and goes upstream.
-- Set STREAM=1 for /v1/completions/stream.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local path = os.getenv("STREAM") == "1" and "/v1/completions/stream" or "/v1/completions"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "bench-service-key"

function request()
  local body = string.format(
    '{"messages":[{"role":"user","content":"Benchmark question number %s?"}]}', next_number())
  return wrk.format(nil, path, nil, body)
end
