-- wrk script: POST one accident per request, cycling through the JSON bodies
-- in a file (one per line), and print one RESULT line at the end.
--
--   wrk -t1 -c1 -d5s -s eclo.lua http://127.0.0.1:PORT/api/predict/eclo -- bodies.jsonl
--
-- Each thread starts at its own place in the list, so concurrent connections
-- do not send the same accident at once.  Latencies are wrk's (microseconds,
-- from writing the request to reading the whole response).

local bodies = {}
local n = 0
local i = 0
local headers = { ["Content-Type"] = "application/json" }

local threads = {}
local counter = 0

function setup(thread)
	counter = counter + 1
	thread:set("offset", counter * 7919)
	table.insert(threads, thread)
end

function init(args)
	local path = args[1]
	if not path then
		error("eclo.lua: give the bodies file after --")
	end
	for line in io.lines(path) do
		if #line > 0 then
			n = n + 1
			bodies[n] = line
		end
	end
	if n == 0 then
		error("eclo.lua: no bodies in " .. path)
	end
	i = (offset or 0) % n
end

function request()
	i = i % n + 1
	return wrk.format("POST", wrk.path, headers, bodies[i])
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		"RESULT requests=%d duration_us=%d mean_us=%.1f stdev_us=%.1f p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d min_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
		summary.requests, summary.duration, latency.mean, latency.stdev,
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		latency:percentile(99.9), latency.max, latency.min, e.status, e.connect, e.read,
		e.write, e.timeout))
end
