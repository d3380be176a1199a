-- Through the service: one body, answered from the cache after the first request.
dofile(os.getenv("BENCH_DIR") .. "/wrk/common.lua")
wrk.method = "POST"
wrk.path = "/v1/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "bench-service-key"
wrk.body = '{"messages":[{"role":"user","content":"The one benchmark question everybody asks."}]}'
