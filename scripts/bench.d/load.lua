-- scripts/bench: loads a fixed number of distinct keys, as fast as the
-- server takes them. Arguments: keys per thread, key prefix.
-- Key names are 64 bytes (/v2/keys/load/<64 bytes>), values 128 bytes.
-- Each thread issues exactly its quota of PUTs (then returns an empty request:
-- the connection stays idle), counts the answers, and when all of them came
-- back prints "DONE <thread> <answers> <answers with status >= 300>" and stops.
-- scripts/bench reads those lines and ends wrk with SIGINT once every thread
-- is done (wrk itself would sleep for the whole -d).
local nthreads = 0
function setup(thread)
   thread:set("tid", nthreads)
   nthreads = nthreads + 1
end

local quota, prefix = 0, "k"
local issued, answered, bad = 0, 0, 0
-- wrk calls thread 0's request() once before the run to check the request
-- (script_verify_request) and never sends it: that call must not use up a key.
local verified = false
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local body = "value=" .. string.rep("w", 128)

function init(args)
   quota = tonumber(args[1])
   prefix = (args[2] or "k") .. string.format("%02d", tid or 0) .. "-"
end

local function key(i)
   local name = prefix .. string.format("%012d", i)
   name = name .. string.rep("x", 64 - #name)
   return wrk.format("PUT", "/v2/keys/load/" .. name, headers, body)
end

function request()
   if tid == 0 and not verified then
      verified = true
      return key(1)
   end
   if issued >= quota then
      return ""
   end
   issued = issued + 1
   return key(issued)
end

function response(status, hdrs, b)
   answered = answered + 1
   if status >= 300 then
      bad = bad + 1
   end
   if answered == quota then
      io.write(string.format("DONE %d %d %d\n", tid or 0, answered, bad))
      io.flush()
      wrk.thread:stop()
   end
end
