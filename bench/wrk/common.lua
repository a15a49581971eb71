-- Shared by the benchmark's wrk scripts (loaded with dofile from each of them).
--
-- BENCH_THINK_MS, when set and above 0, turns on pacing: each connection waits an exponentially
-- distributed pause (mean BENCH_THINK_MS) before every request. With many connections this
-- approximates an arrival rate of connections / (pause + latency); bench/soak.py uses it to hold a
-- gentle, steady load. Not for latency: gunicorn's sync workers close every connection, wrk reconnects
-- at once and spends the pause on an idle open connection that blocks a worker, so latency grows with
-- the pause. bench/load.py measures latency at a set rate with bench/open_loop.py instead.
-- done() prints one JSON line with the totals and latency percentiles for the Python side.

local common = {}

function common.read_lines(path)
   local lines = {}
   for line in io.lines(path) do
      if #line > 0 then lines[#lines + 1] = line end
   end
   assert(#lines > 0, "no lines in " .. path)
   return lines
end

-- Requests are sent in turn from a prepared list, each thread starting at its own random place.
-- request() is defined here, at load time, because wrk checks for it before init() runs.
local prepared, index = {}, 0

function common.send_in_turn(requests)
   prepared = requests
   math.randomseed(os.time() + (thread_id or 0) * 7919)
   index = math.random(#prepared)
end

function request()
   index = index % #prepared + 1
   return prepared[index]
end

local think = tonumber(os.getenv("BENCH_THINK_MS") or "0")
if think > 0 then
   function delay()
      local pause = -think * math.log(1 - math.random())
      return math.floor(pause + math.random())  -- whole milliseconds, rounded without bias
   end
end

local next_id = 0
function setup(thread)
   next_id = next_id + 1
   thread:set("thread_id", next_id)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      '{"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "errors": %d}\n',
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
      latency:percentile(99), latency.max, e.connect + e.read + e.write + e.status + e.timeout))
end

return common
