-- scripts/bench: PUT of distinct keys with a form body, as etcd clients send.
-- Keys: /v2/keys/bench/<prefix><thread>-<counter>; the prefix (first script
-- argument) keeps the keys of different runs and wrk processes apart.
-- Body: value=<128 bytes>, Content-Type: application/x-www-form-urlencoded.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "report.lua")
done = bench_report

local nthreads = 0
function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
end

local prefix = "p"
local counter = 0
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local body = "value=" .. string.rep("v", 128)

function init(args)
   prefix = (args[1] or "p") .. tostring(tid or 0) .. "-"
end

function request()
   counter = counter + 1
   return wrk.format("PUT", "/v2/keys/bench/" .. prefix .. counter, headers, body)
end
