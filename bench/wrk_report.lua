-- wrk's result as one JSON line for bench/pages.py: "WRK-REPORT {...}".
-- wrk counts only statuses of 400 and above as errors; a redirect to the login page would pass
-- for a served page, so every status outside 2xx is counted here (in each thread's own Lua
-- state, summed in done()).

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   non_2xx = 0
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non_2xx = non_2xx + 1
   end
end

function done(summary, latency, requests)
   local non_2xx_total = 0
   for _, thread in ipairs(threads) do
      non_2xx_total = non_2xx_total + (thread:get("non_2xx") or 0)
   end
   local seconds = summary.duration / 1e6
   local errors = summary.errors
   io.write(string.format(
      'WRK-REPORT {"requests": %d, "seconds": %.6f, "requests_per_second": %.3f, '
      .. '"p50_ms": %.3f, "p90_ms": %.3f, "p99_ms": %.3f, "max_ms": %.3f, "non_2xx": %d, '
      .. '"status_errors": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"timeouts": %d, "bytes": %d}\n',
      summary.requests, seconds, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, non_2xx_total,
      errors.status, errors.connect, errors.read, errors.write, errors.timeout, summary.bytes))
end
