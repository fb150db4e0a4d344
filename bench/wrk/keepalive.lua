-- wrk script: POST /v3/lease/keepalive of one lease per request, cycling
-- through the granted leases.
-- Arguments after "--": <file with one lease ID (decimal) per line>
--
-- One keep-alive per HTTP request is what etcd's gateway handles reliably:
-- the answer is a chunked stream that ends after the one result, and the
-- connection stays open for the next request. (Several IDs in one body are
-- answered only if the gateway has read them all before it writes its
-- first answer; Go's HTTP/1 server discards the unread rest of a body.)
-- IDs stay strings: they are 63-bit and Lua numbers are doubles.

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local bodies = {}
local next_lease = 1

function init(args)
   for line in io.lines(args[1]) do
      if line ~= "" then bodies[#bodies + 1] = '{"ID":"' .. line .. '"}' end
   end
   -- Threads start at different leases so that they do not renew the same
   -- one at the same moment.
   next_lease = ((thread_index or 0) * 7919) % #bodies + 1
   wrk.method = "POST"
   wrk.path = "/v3/lease/keepalive"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local body = bodies[next_lease]
   next_lease = next_lease % #bodies + 1
   return wrk.format(nil, nil, nil, body)
end

-- A live lease answers with its TTL, which JSON leaves out when it is 0:
-- an expired or unknown lease has no "TTL" at all.
function check(body)
   return body:find('"TTL":"[1-9]') ~= nil and body:find('"error"', 1, true) == nil
end
