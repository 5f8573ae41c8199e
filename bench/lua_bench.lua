-- Client CPU per get_certificate call: Lua 5.4 through the acmpca module vs
-- C through the core (bench/c_get_certificate.c), against the same local
-- moto server, printed side by side with the ratio.
--
--   python3 tests/fixtures/with_server.py moto -- \
--     lua5.4 bench/lua_bench.lua [BUILD_DIR] [CALLS_PER_ROUND] [ROUNDS]
--   python3 tests/fixtures/with_server.py moto -- \
--     lua5.4 bench/lua_bench.lua BUILD_DIR --instructions [CALLS]
--
-- Default mode: CPU time (os.clock in Lua, getrusage in C: user + system of
-- the client process), not wall time, so the server's own cost stays out.
-- Rounds alternate C and Lua in random order; reported are the medians, the
-- best rounds and the median of the per-round ratios (the server shares the
-- machine, so single rounds are noisy: use many).
--
-- --instructions: the same calls counted in CPU instructions under valgrind's
-- callgrind (two run lengths differenced, so start-up and set-up cancel out).
-- Deterministic, so it shows small differences the timing noise hides.
--
-- BUILD_DIR (default: build) holds lua54/acmpca.so and bench/c_get_certificate.
-- A benchmark, not a test: it prints figures, it never fails on them.
local build = arg[1] or "build"
package.cpath = build .. "/lua54/?.so;" .. package.cpath
local acmpca = require "acmpca"

-- Internal: the Lua side of --instructions, run under callgrind.
if arg[2] == "--loop" then
  local c = acmpca.new{}
  local params = { CertificateAuthorityArn = arg[3], CertificateArn = arg[4] }
  for _ = 1, 10 + tonumber(arg[5]) do c:get_certificate(params) end
  c:close()
  return
end

local endpoint = assert(os.getenv("ACMPCA_TEST_ENDPOINT"),
                        "run under tests/fixtures/with_server.py moto")
local c_bench = build .. "/bench/c_get_certificate"
assert(io.open(c_bench, "rb"), "no " .. c_bench .. " (build with cmake first)"):close()

local function sh_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("*a")
  p:close()
  return out
end

local function median(t)
  local s = {}
  for i, v in ipairs(t) do s[i] = v end
  table.sort(s)
  local m = #s // 2
  return #s % 2 == 1 and s[m + 1] or (s[m] + s[m + 1]) / 2
end

-- A CA and an issued certificate to fetch.
local c = acmpca.new{ endpoint_url = endpoint }
local ca = c:create_certificate_authority{
  CertificateAuthorityType = "ROOT",
  CertificateAuthorityConfiguration = { KeyAlgorithm = "RSA_2048",
    SigningAlgorithm = "SHA256WITHRSA", Subject = { CommonName = "bench" } },
}.CertificateAuthorityArn
local csr = c:wait("certificate_authority_csr_created", { CertificateAuthorityArn = ca }).Csr
local cert = c:issue_certificate{ CertificateAuthorityArn = ca, Csr = csr,
  SigningAlgorithm = "SHA256WITHRSA", TemplateArn = "arn:aws:acm-pca:::template/RootCACertificate/V1",
  Validity = { Value = 365, Type = "DAYS" } }.CertificateArn
local params = { CertificateAuthorityArn = ca, CertificateArn = cert }
c:wait("certificate_issued", params)

if arg[2] == "--instructions" then
  local n = tonumber(arg[3]) or 300
  local function ir(cmd)
    local out = run("valgrind --tool=callgrind --callgrind-out-file=/dev/null " .. cmd)
    local refs = out:match("refs:%s*([%d,]+)")
    return assert(refs, "callgrind failed: " .. out):gsub(",", "") + 0
  end
  local function per_call(cmd_for)
    return (ir(cmd_for(2 * n)) - ir(cmd_for(n))) / n
  end
  local ci = per_call(function(k)
    return ("%s %s %s %d 10"):format(sh_quote(c_bench), sh_quote(ca), sh_quote(cert), k)
  end)
  local li = per_call(function(k)
    return ("%s %s %s --loop %s %s %d"):format(sh_quote(arg[-1] or "lua5.4"), sh_quote(arg[0]),
                                             sh_quote(build), sh_quote(ca), sh_quote(cert), k)
  end)
  io.write(("get_certificate, instructions per call (callgrind, %d vs %d calls differenced)\n")
           :format(2 * n, n))
  io.write(("%14s %14s %8s\n"):format("C", "Lua 5.4", "Lua/C"))
  io.write(("%14.0f %14.0f %8.3f\n"):format(ci, li, li / ci))
  io.write(("Lua 5.4 costs %+.1f%% instructions per get_certificate vs C (target: within 10%%)\n")
           :format((li / ci - 1) * 100))
  c:close()
  return
end

local calls = tonumber(arg[2]) or 400
local rounds = tonumber(arg[3]) or 21

local function lua_round(n)
  for _ = 1, 20 do c:get_certificate(params) end  -- warm the connection
  local t0 = os.clock()
  for _ = 1, n do
    local out = c:get_certificate(params)
    if not out.Certificate then error("no certificate") end
  end
  return (os.clock() - t0) * 1e6 / n
end

local function c_round(n)
  local out = run(("%s %s %s %d 20"):format(sh_quote(c_bench), sh_quote(ca), sh_quote(cert), n))
  return assert(tonumber(out:match("\"cpu_us_per_call\":%s*([%d%.]+)")), "C bench failed: " .. out)
end

local cs, ls, rs = {}, {}, {}
math.randomseed(os.time())
io.write(("get_certificate: %d rounds of %d calls against %s\n"):format(rounds, calls, endpoint))
io.write(("%-6s %14s %14s %8s\n"):format("round", "C us/call", "Lua us/call", "Lua/C"))
for r = 1, rounds do
  if math.random() < 0.5 then
    cs[r] = c_round(calls)
    ls[r] = lua_round(calls)
  else
    ls[r] = lua_round(calls)
    cs[r] = c_round(calls)
  end
  rs[r] = ls[r] / cs[r]
  io.write(("%-6d %14.1f %14.1f %8.3f\n"):format(r, cs[r], ls[r], rs[r]))
end
local mc, ml = median(cs), median(ls)
local bc, bl = math.min(table.unpack(cs)), math.min(table.unpack(ls))
io.write(("%-6s %14.1f %14.1f %8.3f\n"):format("median", mc, ml, ml / mc))
io.write(("%-6s %14.1f %14.1f %8.3f\n"):format("best", bc, bl, bl / bc))
io.write(("%-6s %14s %14s %8.3f\n"):format("ratio", "", "", median(rs)))
io.write(("Lua 5.4 client CPU per get_certificate vs C: %+.1f%% by medians, %+.1f%% by best " ..
          "rounds, %+.1f%% by the median round ratio (target: within 10%%)\n")
         :format((ml / mc - 1) * 100, (bl / bc - 1) * 100, (median(rs) - 1) * 100))
c:close()
