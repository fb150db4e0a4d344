-- wrk script: linearizable POST /v3/kv/range of one random preloaded key.
-- Arguments after "--": <key prefix> <number of preloaded keys>
-- Preloaded keys are <prefix><index as 8 digits>, index in [0, count).

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local key_prefix, key_count

function init(args)
   key_prefix = args[1]
   key_count = tonumber(args[2])
   math.randomseed(os.time() * 1000 + (thread_index or 0) * 7919 + math.floor(os.clock() * 1e6))
   wrk.method = "POST"
   wrk.path = "/v3/kv/range"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local key = key_prefix .. string.format("%08d", math.random(0, key_count - 1))
   return wrk.format(nil, nil, nil, '{"key":"' .. base64(key) .. '"}')
end

-- Every preloaded key exists, so an answer without exactly one kv is wrong.
function check(body)
   return body:find('"count":"1"', 1, true) ~= nil
end
