-- scripts/bench: GET of the URL given on wrk's command line (a static
-- request: no request()/response() here, so wrk runs at full speed).
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
done = bench_report
