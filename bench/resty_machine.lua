-- resty.acmpca's per-call work without sockets: the call machine driven as
-- resty.acmpca drives it for the usual GetCertificate (c:machine with the
-- first step, m:take_answer with the next: the signed request's bytes, the
-- canned server's whole answer taken, the result and meta as Lua tables),
-- in a LuaJIT loop. bench/c_phases prices the same phases in the core alone;
-- bench/resty_bench.py prints the two side by side, and what is left of
-- resty.acmpca's CPU per request over the raw cosocket floor is this loop's
-- figure plus its own Lua around the cosockets.
--
--   luajit bench/resty_machine.lua [BUILD_DIR] [CALLS] [ROUNDS]
--
-- Prints one line: {"cpu_us_per_call": least of ROUNDS rounds, "calls": CALLS}.
-- Deterministic enough for callgrind (no I/O, no clock read in the loop).
local build = arg[1] or "build"
local calls = tonumber(arg[2] or "100000")
local rounds = tonumber(arg[3] or "3")
package.cpath = build .. "/luajit/?.so;" .. package.cpath
local acmpca = require "acmpca"

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
local params = { CertificateAuthorityArn = CA, CertificateArn = CA .. "/certificate/0123456789abcdef" }
-- bench/canned_server.c's answer, whole, as one receiveany brings it.
local body = '{"Certificate":"-----BEGIN CERTIFICATE-----\\nMIIBcanned\\n-----END CERTIFICATE-----",' ..
             '"CertificateChain":"-----BEGIN CERTIFICATE-----\\nMIIBchain\\n-----END CERTIFICATE-----"}'
local answer = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n" ..
               "x-amzn-RequestId: 6f1c2d3e-0000-4000-8000-000000000001\r\n" ..
               "Content-Length: " .. #body .. "\r\nConnection: keep-alive\r\n\r\n" .. body
local tail = "User-Agent: acmpca/" .. acmpca.version .. " resty\r\n"

local c = acmpca.new{ region = "us-east-1", endpoint_url = "http://127.0.0.1:9",
                      credentials = { access_key_id = "AKIDBENCH", secret_access_key = "s" } }
local into = {}

local function loop(n)
  for _ = 1, n do
    local m, kind = c:machine("get_certificate", params, tail, into)
    local keep, done, res = m:take_answer(answer, tail, into)
    if kind ~= "send" or not keep or done ~= "done" or res.Certificate:byte(1) ~= 45 then
      error("resty_machine.lua: unexpected step " .. tostring(done))
    end
  end
end

loop(math.min(calls, 1000))   -- warm-up: the JIT, the signing key, the step table
local best
for _ = 1, rounds do
  local t = os.clock()
  loop(calls)
  local us = (os.clock() - t) / calls * 1e6
  if not best or us < best then best = us end
end
print(('{"cpu_us_per_call": %.3f, "calls": %d}'):format(best, calls))
