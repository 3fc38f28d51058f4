-- wrk script for the login scenario of bench/http/run: every request is
--   POST <url> {"email": $BENCH_EMAIL, "password": $BENCH_PASSWORD}
-- (one prebuilt request, as wrk does without a request() function).  It
-- also counts the answers by status and counts 200s whose body holds no
-- access_token, and prints both at the end as
--   status <code> <count>
--   bad_body <count>
-- so the run can say what the non-2xx answers were (503 busy, 429 rate
-- limited, 401...).  The values must need no JSON escaping.

local email = os.getenv("BENCH_EMAIL")
local password = os.getenv("BENCH_PASSWORD")
if not email or not password then
	io.stderr:write("login.lua: set BENCH_EMAIL and BENCH_PASSWORD\n")
	os.exit(2)
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"email":"' .. email .. '","password":"' .. password .. '"}'

local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	statuses = {}
	bad_body = 0
end

function response(status, headers, body)
	statuses[status] = (statuses[status] or 0) + 1
	if status == 200 and not (body and body:find('"access_token":"', 1, true)) then
		bad_body = bad_body + 1
	end
end

function done(summary, latency, requests)
	local total, bad = {}, 0
	for _, t in ipairs(threads) do
		for code, n in pairs(t:get("statuses")) do
			total[code] = (total[code] or 0) + n
		end
		bad = bad + t:get("bad_body")
	end
	for code, n in pairs(total) do
		io.write(string.format("status %d %d\n", code, n))
	end
	io.write(string.format("bad_body %d\n", bad))
end
