-- Straight to the simulator (or through nginx to it): the Anthropic Messages API, every body
-- unique. Set STREAM=1 for streamed answers.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
local stream = os.getenv("STREAM") == "1"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = "bench-upstream-key"
wrk.headers["anthropic-version"] = "2023-06-01"

function request()
  local body = string.format(
    '{"model":"claude-sonnet-4-6","max_tokens":1024,"stream":%s,"messages":[{"role":"user","content":"Benchmark question number %s?"}]}',
    stream and "true" or "false", next_number())
  return wrk.format(nil, "/v1/messages", nil, body)
end
