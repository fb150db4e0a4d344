-- wrk script: POST /v3/kv/put with a random key and a fixed 256-byte value.
-- Arguments after "--": <key prefix> <value, base64> <sample every N requests>
--                        <connections per thread>
-- Keys are <prefix><thread>/<random 0..2^31>; collisions are rare and merely
-- overwrite a key.

dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "common.lua")

local key_prefix, value_b64, sample_every
-- Read by done() through thread:get(), so these are globals.
sent = 0
sample_keys, sample_seqs = {}, {}
connections_per_thread = 0

function init(args)
   key_prefix = args[1]
   value_b64 = args[2]
   sample_every = tonumber(args[3])
   connections_per_thread = tonumber(args[4])
   math.randomseed(os.time() * 1000 + (thread_index or 0) * 7919 + math.floor(os.clock() * 1e6))
   wrk.method = "POST"
   wrk.path = "/v3/kv/put"
   wrk.headers["Content-Type"] = "application/json"
end

function request()
   local key = key_prefix .. tostring(thread_index) .. "/" .. tostring(math.random(0, 2147483647))
   sent = sent + 1
   if sent % sample_every == 0 then
      sample_keys[#sample_keys + 1] = key
      sample_seqs[#sample_seqs + 1] = sent
   end
   local body = '{"key":"' .. base64(key) .. '","value":"' .. value_b64 .. '"}'
   return wrk.format(nil, nil, nil, body)
end

-- A put answers with a header carrying the new revision.
function check(body)
   return body:find('"revision":"', 1, true) ~= nil
end
