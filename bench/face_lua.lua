-- The Lua face of the benchmark (Lua 5.4 and LuaJIT alike): the acmpca
-- module's client, GetCertificate in a loop, one JSON line on stdout as in
-- bench/face.h (the protocol of bench/peers/build.sh).
--
--   LUA_CPATH="BUILD/bench/lua54/?.so;BUILD/lua54/?.so" BENCH_ENDPOINT=... \
--     lua5.4 bench/face_lua.lua
--
-- bench_clock (bench/lua_clock.c) gives the wall clock, getrusage and VmHWM
-- that standard Lua lacks. Credentials and region come from the environment.
local clock = require "bench_clock"
local t_main = clock.realtime() -- everything before this line is process start

local function count(name, default, min)
  local v = os.getenv(name)
  if v == nil or v == "" then return default end
  local n = tonumber(v)
  if not n or n < min or n % 1 ~= 0 then
    io.stderr:write(("%s: expected an integer >= %d, got '%s'\n"):format(name, min, v))
    os.exit(2)
  end
  return n
end

local endpoint = os.getenv("BENCH_ENDPOINT")
if not endpoint then
  io.stderr:write("BENCH_ENDPOINT: expected http://127.0.0.1:PORT, got nothing\n")
  os.exit(2)
end
local calls, warmup = count("BENCH_CALLS", 1000, 1), count("BENCH_WARMUP", 100, 0)
local ca = os.getenv("BENCH_CA_ARN") or
  "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/bench"
local params = {
  CertificateAuthorityArn = ca,
  CertificateArn = os.getenv("BENCH_CERT_ARN") or ca .. "/certificate/0123456789abcdef",
}

local t = clock.realtime()
local acmpca = require "acmpca"
local c = acmpca.new{ endpoint_url = endpoint }
local made = clock.realtime() - t

local function call()
  local out = c:get_certificate(params)
  if not tostring(out.Certificate):find("^%-%-%-%-%-BEGIN CERTIFICATE") then
    error("GetCertificate: unexpected answer")
  end
end

t = clock.realtime()
call()
local first = clock.realtime() - t
for _ = 2, warmup do call() end
local cpu0, wall0 = clock.cpu(), clock.monotonic()
for _ = 1, calls do call() end
local cpu, wall = clock.cpu() - cpu0, clock.monotonic() - wall0
c:close()

local t0 = tonumber(os.getenv("BENCH_T0") or "")
local name = (jit and "acmpca LuaJIT" or "acmpca " .. _VERSION)
io.write(('{"name":"%s","version":"%s","calls":%d,"cpu_us_per_call":%.3f,' ..
          '"wall_us_per_call":%.3f,"vmhwm_kb":%d,"t_process_start_ms":%s,' ..
          '"t_import_client_ms":%.3f,"t_first_call_ms":%.3f}\n'):format(
  name, acmpca.version, calls, cpu * 1e6 / calls, wall * 1e6 / calls, clock.vmhwm_kb(),
  t0 and ("%.3f"):format((t_main - t0 / 1e9) * 1e3) or "null", made * 1e3, first * 1e3))
