-- Shared by put.lua and range.lua: base64, response accounting, and the
-- machine-readable result line that bench/gateway.py parses.
--
-- Each wrk thread runs its own Lua state; setup() and done() run in a
-- separate one, which reaches the per-thread counters through thread:get().

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function base64(s)
   local out = {}
   for i = 1, #s, 3 do
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + (b or 0) * 256 + (c or 0)
      local c1 = math.floor(n / 262144) % 64
      local c2 = math.floor(n / 4096) % 64
      local c3 = math.floor(n / 64) % 64
      local c4 = n % 64
      out[#out + 1] = b64chars:sub(c1 + 1, c1 + 1) .. b64chars:sub(c2 + 1, c2 + 1)
         .. (b and b64chars:sub(c3 + 1, c3 + 1) or "=")
         .. (c and b64chars:sub(c4 + 1, c4 + 1) or "=")
   end
   return table.concat(out)
end

-- Per-thread counters. A response counts as ok only with status 200 and a
-- body that the script's check accepts; anything else is an error the
-- report must flag.
status_200 = 0
status_other = 0
body_rejected = 0
first_bad = ""

-- check(body) is defined by each script; returns true for a well-formed answer.
function response(status, headers, body)
   if status ~= 200 then
      status_other = status_other + 1
      if first_bad == "" then first_bad = tostring(status) .. " " .. (body or ""):sub(1, 200) end
   elseif not check(body) then
      body_rejected = body_rejected + 1
      if first_bad == "" then first_bad = "200 " .. (body or ""):sub(1, 200) end
   else
      status_200 = status_200 + 1
   end
end

local threads = {}

function setup(thread)
   thread:set("thread_index", #threads)
   threads[#threads + 1] = thread
end

local function json_string(s)
   return '"' .. s:gsub('[%c"\\]', function(ch)
      return string.format("\\u%04x", ch:byte())
   end) .. '"'
end

-- One line, prefixed so the driver can find it among wrk's own output.
function done(summary, latency, requests)
   local ok, other, rejected, bad = 0, 0, 0, ""
   local samples = {}
   for _, t in ipairs(threads) do
      ok = ok + t:get("status_200")
      other = other + t:get("status_other")
      rejected = rejected + t:get("body_rejected")
      if bad == "" then bad = t:get("first_bad") end
      -- A sampled put is known answered only if at least as many requests
      -- as the thread has connections were sent after it (one request in
      -- flight per connection); later ones may have been cut off by the end
      -- of the run.
      local keys, seqs = t:get("sample_keys"), t:get("sample_seqs")
      if keys then
         local answered_below = t:get("sent") - t:get("connections_per_thread")
         for i, k in ipairs(keys) do
            if seqs[i] <= answered_below then samples[#samples + 1] = json_string(k) end
         end
      end
   end
   local e = summary.errors
   local fields = {
      string.format('"duration_us":%d', summary.duration),
      string.format('"requests":%d', summary.requests),
      string.format('"bytes":%d', summary.bytes),
      string.format('"status_200":%d', ok),
      string.format('"status_other":%d', other),
      string.format('"body_rejected":%d', rejected),
      string.format('"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}',
                    e.connect, e.read, e.write, e.status, e.timeout),
      string.format('"latency_us":{"min":%d,"mean":%.1f,"max":%d,"stdev":%.1f,"p50":%d,"p90":%d,"p99":%d,"p999":%d}',
                    latency.min, latency.mean, latency.max, latency.stdev,
                    latency:percentile(50), latency:percentile(90),
                    latency:percentile(99), latency:percentile(99.9)),
      '"first_bad":' .. json_string(bad),
      '"written_sample":[' .. table.concat(samples, ",") .. ']',
   }
   io.write("BENCH_RESULT {" .. table.concat(fields, ",") .. "}\n")
end
