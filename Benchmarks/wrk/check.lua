-- wrk script for Scripts/bench: cycles through a token file and classifies every answer.
--
-- VETO_BENCH_TOKENS names a file with one "<class> <token>" line per token; class "r" marks a token
-- revoked before the run, "a" one that must be allowed. Requests are prepared once in init(), so the
-- per-request cost on the load generator is a table lookup.
--
-- An answer tells which token it was for: a 200 carries X-Auth-Jti, a 401 for a revoked token says
-- `jti 'r-…'` in its WWW-Authenticate challenge. Revoked tokens have jtis starting with "r-".
-- done() prints one line "VETO-BENCH-JSON {…}" with the counts, latency percentiles and errors.
--
-- The abuse rows (Benchmarks/abuse.py) set VETO_BENCH_EXPECT: "invalid" when every token must be
-- refused 401 signature_invalid (class "b"), "refusal" when every request must be refused with a 4xx.
-- VETO_BENCH_BODY names a file sent as the JSON body of a POST (no token), instead of a token file.

local requests = {}
local classes = {}
local count = 0
local position = 0

-- Per-thread counters, read by done() through thread:get().
sent = 0
sent_revoked = 0
answered_200 = 0
answered_401 = 0
answered_other = 0
revoked_401 = 0      -- 401 token_revoked naming a revoked jti: the expected answer for a revoked token
wrong_allow = 0      -- 200 for a revoked token
wrong_deny = 0       -- 401 for a token that was not revoked, or for another reason than revocation
refused_as_expected = 0  -- abuse rows: the refusal they must get

local expect = os.getenv("VETO_BENCH_EXPECT") or "verdicts"

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   local body_path = os.getenv("VETO_BENCH_BODY")
   if body_path then
      local file = assert(io.open(body_path, "rb"))
      local body = file:read("*a")
      file:close()
      requests[1] = wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
      classes[1] = "j"
      count = 1
      return
   end
   local path = os.getenv("VETO_BENCH_TOKENS")
   for line in io.lines(path) do
      local class, token = line:match("^(%a) (%S+)$")
      if token then
         count = count + 1
         requests[count] = wrk.format(nil, nil, { ["Authorization"] = "Bearer " .. token })
         classes[count] = class
      end
   end
   if count == 0 then error("no tokens in " .. tostring(path)) end
end

function request()
   position = position % count + 1
   sent = sent + 1
   if classes[position] == "r" then sent_revoked = sent_revoked + 1 end
   return requests[position]
end

local find = string.find

-- Abuse rows: nothing may be allowed; a 401 (or, for "refusal", any 4xx) is the expected answer.
local function abuse_response(status, headers)
   if status == 200 then
      answered_200 = answered_200 + 1
      wrong_allow = wrong_allow + 1
      return
   end
   if status == 401 then answered_401 = answered_401 + 1 end
   local code = headers["X-Veto-Error"] or headers["x-veto-error"]
   if expect == "refusal" and status >= 400 and status < 500 then
      refused_as_expected = refused_as_expected + 1
   elseif expect == "invalid" and status == 401 and code == "signature_invalid" then
      refused_as_expected = refused_as_expected + 1
   elseif status == 401 then
      wrong_deny = wrong_deny + 1
   else
      answered_other = answered_other + 1
   end
end

function response(status, headers, body)
   if expect ~= "verdicts" then return abuse_response(status, headers) end
   if status == 200 then
      answered_200 = answered_200 + 1
      local jti = headers["X-Auth-Jti"] or headers["x-auth-jti"]
      if jti and find(jti, "r-", 1, true) == 1 then wrong_allow = wrong_allow + 1 end
   elseif status == 401 then
      answered_401 = answered_401 + 1
      local challenge = headers["WWW-Authenticate"] or headers["www-authenticate"] or ""
      local code = headers["X-Veto-Error"] or headers["x-veto-error"]
      if code == "token_revoked" and find(challenge, "jti 'r-", 1, true) then
         revoked_401 = revoked_401 + 1
      else
         wrong_deny = wrong_deny + 1
      end
   else
      answered_other = answered_other + 1
   end
end

function done(summary, latency, requests_stats)
   local totals = { sent = 0, sent_revoked = 0, answered_200 = 0, answered_401 = 0, answered_other = 0,
                    revoked_401 = 0, wrong_allow = 0, wrong_deny = 0, refused_as_expected = 0 }
   for _, thread in ipairs(threads) do
      for name, _ in pairs(totals) do
         totals[name] = totals[name] + (thread:get(name) or 0)
      end
   end
   local e = summary.errors
   local fields = {
      string.format('"requests":%d', summary.requests),
      string.format('"duration_us":%d', summary.duration),
      string.format('"p50_us":%d', latency:percentile(50)),
      string.format('"p90_us":%d', latency:percentile(90)),
      string.format('"p99_us":%d', latency:percentile(99)),
      string.format('"max_us":%d', latency.max),
      string.format('"mean_us":%.1f', latency.mean),
      string.format('"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d}',
                    e.connect, e.read, e.write, e.timeout, e.status),
   }
   for name, value in pairs(totals) do
      table.insert(fields, string.format('"%s":%d', name, value))
   end
   io.write("VETO-BENCH-JSON {" .. table.concat(fields, ",") .. "}\n")
end
