-- Shared helpers of the busted specs in tests/lua (run by tests/lua/run.sh,
-- which puts the module under test first on package.cpath and this
-- directory on package.path). Works under Lua 5.4 and LuaJIT.
local acmpca = require "acmpca"

local M = { acmpca = acmpca }

M.endpoint = os.getenv("ACMPCA_TEST_ENDPOINT")
M.is54 = _VERSION == "Lua 5.4"
M.CLOSED_PORT_URL = "http://127.0.0.1:1"
M.CREDS = { access_key_id = "testing", secret_access_key = "testing" }
M.CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/" ..
           "11111111-2222-3333-4444-555555555555"

-- acmpca.new with the fields of `config` (a fresh table, taken) and `extra`'s over them.
function M.new_client(config, extra)
  for k, v in pairs(extra or {}) do config[k] = v end
  return acmpca.new(config)
end

-- A client for the test server (or any config given).
function M.client(extra)
  return M.new_client({ region = "us-east-1", endpoint_url = M.endpoint, credentials = M.CREDS },
                      extra)
end

-- A client whose machines a spec drives by hand: a port nobody listens on, 3 attempts.
function M.machine_client(extra)
  return M.new_client({ region = "us-east-1", endpoint_url = M.CLOSED_PORT_URL,
                        credentials = M.CREDS, max_attempts = 3 }, extra)
end

-- A client pointed at a port nobody listens on: any I/O shows as a connection error.
function M.offline_client()
  return acmpca.new{ region = "us-east-1", endpoint_url = M.CLOSED_PORT_URL,
                     credentials = M.CREDS, max_attempts = 1, connect_timeout = 2 }
end

-- Call fn(...) expecting it to raise; returns the error value.
function M.raises(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error, the call succeeded")
  return err
end

-- Call fn(...) expecting an acmpca error object with `code`; returns it.
function M.raises_code(code, fn, ...)
  local err = M.raises(fn, ...)
  assert(type(err) == "table" and getmetatable(err) == acmpca.Error,
         "expected an acmpca error object, got: " .. tostring(err))
  assert(err.code == code, ("expected code %s, got %s"):format(code, tostring(err)))
  return err
end

function M.is_integer(v)
  if math.type then return math.type(v) == "integer" end
  return type(v) == "number" and v % 1 == 0
end

-- n times: t = make(), then garbage whose finalizer calls fill(t), then
-- read(t). With Lua 5.4's generational collector at its smallest minor step,
-- pending finalizers run at nearly every allocation, so some run while the
-- module is in the middle of reading t (LuaJIT: only userdata have
-- finalizers, and they run later). Returns how many finalizers ran.
function M.with_finalizers(n, make, fill, read)
  local ran = 0
  local generational = pcall(collectgarbage, "generational", 1, 100)
  for i = 1, n do
    local t = make()
    local function finalizer() ran = ran + 1; fill(t) end
    if newproxy then
      getmetatable(newproxy(true)).__gc = finalizer
    else
      setmetatable({}, { __gc = finalizer })
    end
    local garbage = {}
    for j = 1, i % 37 do garbage[j] = tostring(j) .. "x" end
    read(t)
  end
  if generational then collectgarbage("incremental") end
  collectgarbage()
  return ran
end

-- Run a shell command; returns its stdout and whether it exited 0.
function M.sh(cmd)
  local f = assert(io.popen(cmd .. "; echo \"__rc=$?\"", "r"))
  local out = f:read("*a")
  f:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return (out:gsub("__rc=%d+%s*$", "")), rc == 0
end

function M.shell_quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

function M.tmpdir()
  local out, ok = M.sh("mktemp -d")
  assert(ok, "mktemp failed")
  return (out:gsub("%s+$", ""))
end

function M.rmdir(dir)
  if dir and dir:match("^/tmp/") then M.sh("rm -rf " .. M.shell_quote(dir)) end
end

function M.write(path, data)
  local f = assert(io.open(path, "wb"))
  f:write(data)
  f:close()
end

function M.read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

-- An EC P-256 key and a CSR for `cn` (with a DNS SAN) made by `openssl req`.
function M.make_csr(dir, cn)
  local key, csr = dir .. "/" .. cn .. ".key", dir .. "/" .. cn .. ".csr"
  local out, ok = M.sh(("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 " ..
                        "-nodes -keyout %s -out %s -subj %s -addext %s 2>&1")
                       :format(M.shell_quote(key), M.shell_quote(csr),
                               M.shell_quote("/CN=" .. cn),
                               M.shell_quote("subjectAltName=DNS:" .. cn)))
  assert(ok, "openssl req failed: " .. out)
  return M.read(csr)
end

-- The certificate's serial as the service wants it: "0a:1b:...", lowercase.
function M.serial(dir, pem)
  local path = dir .. "/serial.pem"
  M.write(path, pem)
  local out, ok = M.sh("openssl x509 -noout -serial -in " .. M.shell_quote(path))
  assert(ok, out)
  local hex = out:match("serial=(%x+)"):lower()
  if #hex % 2 == 1 then hex = "0" .. hex end
  return (hex:gsub("(%x%x)", "%1:"):gsub(":$", ""))
end

-- `openssl verify` of leaf against root; returns ok and the output.
function M.verify(dir, leaf_pem, root_pem)
  M.write(dir .. "/leaf.pem", leaf_pem)
  M.write(dir .. "/root.pem", root_pem)
  local out, ok = M.sh(("openssl verify -CAfile %s %s 2>&1"):format(
    M.shell_quote(dir .. "/root.pem"), M.shell_quote(dir .. "/leaf.pem")))
  return ok and out:find(": OK") ~= nil, out
end

function M.subject(dir, pem)
  M.write(dir .. "/subject.pem", pem)
  local out = M.sh("openssl x509 -noout -subject -in " .. M.shell_quote(dir .. "/subject.pem"))
  return out
end

-- Standard base64 decoding (for checking request bodies).
function M.b64decode(s)
  local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
  local map, out, acc, bits = {}, {}, 0, 0
  for i = 1, 64 do map[alphabet:sub(i, i)] = i - 1 end
  for c in s:gmatch("[%w%+/]") do
    acc, bits = acc * 64 + map[c], bits + 6
    if bits >= 8 then
      bits = bits - 8
      out[#out + 1] = string.char(math.floor(acc / 2 ^ bits) % 256)
      acc = acc % 2 ^ bits
    end
  end
  return table.concat(out)
end

-- A minimal JSON reader for request bodies (objects, arrays, strings, numbers,
-- true/false/null). Returns the value and, for numbers, keeps their raw text in
-- M.raw_numbers so tests can tell 365 from 365.0.
function M.json_decode(text)
  local pos = 1
  local function ws() pos = text:find("[^ \t\r\n]", pos) or #text + 1 end
  local value
  local function str()
    local out, i = {}, pos + 1
    while true do
      local c = text:sub(i, i)
      if c == '"' then break end
      if c == "\\" then
        local e = text:sub(i + 1, i + 1)
        local map = { n = "\n", t = "\t", r = "\r", b = "\b", f = "\f" }
        if e == "u" then
          out[#out + 1] = string.char(tonumber(text:sub(i + 2, i + 5), 16) % 256)
          i = i + 6
        else
          out[#out + 1] = map[e] or e
          i = i + 2
        end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
    pos = i + 1
    return table.concat(out)
  end
  function value()
    ws()
    local c = text:sub(pos, pos)
    if c == "{" then
      local obj = {}
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "}" then pos = pos + 1; return setmetatable(obj, { json = "object" }) end
      while true do
        ws()
        local k = str()
        ws(); pos = pos + 1  -- ':'
        obj[k] = value()
        ws()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == "}" then return setmetatable(obj, { json = "object" }) end
      end
    elseif c == "[" then
      local arr = {}
      pos = pos + 1
      ws()
      if text:sub(pos, pos) == "]" then pos = pos + 1; return setmetatable(arr, { json = "array" }) end
      while true do
        arr[#arr + 1] = value()
        ws()
        local d = text:sub(pos, pos); pos = pos + 1
        if d == "]" then return setmetatable(arr, { json = "array" }) end
      end
    elseif c == '"' then
      return str()
    elseif text:sub(pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif text:sub(pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif text:sub(pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = text:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      pos = pos + #num
      return tonumber(num)
    end
  end
  return value()
end

-- "object" or "array" for a table made by json_decode.
function M.json_kind(t)
  local mt = getmetatable(t)
  return mt and mt.json
end

-- Epoch seconds of an X-Amz-Date ("20150830T123600Z"), computed in UTC.
function M.amz_date_epoch(s)
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$")
  y, mo, d = tonumber(y), tonumber(mo), tonumber(d)
  -- days from civil (Howard Hinnant)
  if mo <= 2 then y = y - 1 end
  local era = math.floor(y / 400)
  local yoe = y - era * 400
  local mp = (mo + 9) % 12
  local doy = math.floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + math.floor(yoe / 4) - math.floor(yoe / 100) + doy
  local days = era * 146097 + doe - 719468
  return days * 86400 + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(se)
end

-- POST a JSON text to the test server's control API (fault server) with curl.
function M.post(path, body)
  local out, ok = M.sh(("curl -sS -X POST -H 'Content-Type: application/json' --data-binary %s %s")
                       :format(M.shell_quote(body), M.shell_quote(M.endpoint .. path)))
  assert(ok, "POST " .. path .. " failed: " .. out)
  return out
end

-- GET a path of a loopback server (default: the test server) with curl; returns the body.
function M.get(path, base)
  local out, ok = M.sh(("curl -sS --fail %s"):format(M.shell_quote((base or M.endpoint) .. path)))
  assert(ok, "GET " .. path .. " failed: " .. out)
  return out
end

-- ---- the fault server's control API (tests/fixtures/fault_server.py) ----

-- A variable the fault server's run sets; fails the spec when it is missing.
function M.fault_env(name)
  local v = os.getenv(name)
  assert(v and v ~= "", name .. " is not set: run under tests/fixtures/with_server.py fault")
  return v
end

-- Forget everything, then script the next answers (a JSON list of actions).
function M.fault_script(actions)
  M.post("/_fault/reset", "")
  M.post("/_fault/script", actions)
end

-- The server's log: the list of requests and the whole document.
function M.fault_requests()
  local doc = M.json_decode(M.get("/_fault/requests"))
  return doc.requests, doc
end

-- Wall-clock seconds with a fraction (os.time has whole seconds only).
function M.now()
  local out = M.sh("date +%s.%N")
  return tonumber((out:gsub("%s+$", "")))
end

-- Lowercase hex SHA-256 of a string (openssl dgst).
function M.sha256_hex(s)
  local dir = M.tmpdir()
  M.write(dir .. "/in", s)
  local out, ok = M.sh("openssl dgst -sha256 -r " .. M.shell_quote(dir .. "/in"))
  M.rmdir(dir)
  assert(ok, out)
  return out:match("^(%x+)")
end

-- A list_tags call of `ca` by a child interpreter (ACMPCA_LUA_EXE, with the
-- module under test) run inside tests/fixtures/recording_proxy.py (`forward`:
-- passing calls on to their endpoint), which gives it ACMPCA_TEST_PROXY. The
-- child's client has static keys, one attempt and the fields `config` (Lua
-- text, may be empty) adds; `env` (`env` arguments, expanded by sh) sets its
-- environment. Only the child gets a sanitizer runtime preloaded (the ASan
-- build's run): Python and curl hang under it. Returns the output (the call's
-- pcall results first) and the requests the proxy saw.
function M.list_tags_through_proxy(forward, env, config, ca)
  local lua = os.getenv("ACMPCA_LUA_EXE") or (M.is54 and "lua5.4" or "luajit")
  local cpath = package.searchpath("acmpca", package.cpath)
  assert(cpath, "acmpca.so not on package.cpath")
  local child = ("package.cpath = %q; local a = require 'acmpca'; " ..
                 "local c = a.new{ region = 'us-east-1', max_attempts = 1, %s, " ..
                 "credentials = { access_key_id = 'testing', secret_access_key = 'testing' } }; " ..
                 "print(pcall(c.list_tags, c, { CertificateAuthorityArn = %q }))")
                :format(cpath, config, ca)
  local script = ("env %s LD_PRELOAD=%s %s -e %s; " ..
                  "echo; curl -sS --noproxy '*' \"$ACMPCA_TEST_PROXY/_requests\"")
                 :format(env, M.shell_quote(os.getenv("LD_PRELOAD") or ""), M.shell_quote(lua),
                         M.shell_quote(child))
  local out, ok = M.sh(("env -u LD_PRELOAD python3 %s/tests/fixtures/recording_proxy.py %s" ..
                        "-- sh -c %s 2>&1")
                       :format(M.shell_quote(os.getenv("ACMPCA_SOURCE_DIR") or "."),
                               forward and "--forward " or "", M.shell_quote(script)))
  assert(ok, out)
  return out, M.json_decode(out:match("\n({.*})%s*$")).requests
end

-- Run `code` in a fresh interpreter (the one under test, with the module
-- under test, under ACMPCA_LUA_WRAPPER when set) whose environment holds
-- only PATH, the loopback proxy bypass, the test endpoints, a sanitizer
-- runtime's LD_PRELOAD and options when set, what `env` gives
-- (a value false removes a default) and these defaults: HOME=`env.HOME` or a
-- temporary directory, AWS_EC2_METADATA_DISABLED=true, AWS_CONFIG_FILE and
-- AWS_SHARED_CREDENTIALS_FILE=/nonexistent. For what the AWS_* variables
-- decide at client creation, which a running interpreter cannot change.
-- The chunk sees `acmpca` and `emit(key, value)`; returns a table of the
-- emitted values (strings; `value` is passed through tostring) and the raw
-- output when the child fails.
function M.child(env, code)
  local dir = M.tmpdir()
  local vars = {
    PATH = os.getenv("PATH"), HOME = dir,
    NO_PROXY = "127.0.0.1,localhost,::1", no_proxy = "127.0.0.1,localhost,::1",
    AWS_EC2_METADATA_DISABLED = "true", AWS_CONFIG_FILE = "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE = "/nonexistent",
    ACMPCA_TEST_ENDPOINT = os.getenv("ACMPCA_TEST_ENDPOINT"),
    ACMPCA_TEST_METADATA = os.getenv("ACMPCA_TEST_METADATA"),
    ACMPCA_SOURCE_DIR = os.getenv("ACMPCA_SOURCE_DIR"),
    -- a sanitizer build's module needs its runtime preloaded (see tests/lua/run.sh)
    LD_PRELOAD = os.getenv("LD_PRELOAD"), ASAN_OPTIONS = os.getenv("ASAN_OPTIONS"),
    UBSAN_OPTIONS = os.getenv("UBSAN_OPTIONS"),
  }
  for k, v in pairs(env or {}) do
    if v == false then vars[k] = nil else vars[k] = v end
  end
  local prelude = ([[
package.cpath = %q .. "/?.so;" .. package.cpath
local acmpca = require "acmpca"
local function emit(k, v)
  io.write("@@", k, "=", (tostring(v):gsub("\n", "\\n")), "\n")
end
]]):format(os.getenv("ACMPCA_LUA_MODULE_DIR"))
  M.write(dir .. "/child.lua", prelude .. code)
  local assigns = {}
  for k, v in pairs(vars) do assigns[#assigns + 1] = k .. "=" .. M.shell_quote(v) end
  table.sort(assigns)
  -- The wrapper (valgrind.sh's) spans lines: one shell line needs plain spaces.
  local wrapper = (os.getenv("ACMPCA_LUA_WRAPPER") or ""):gsub("%s+", " ")
  local cmd = ("env -i %s %s %s %s 2>&1"):format(table.concat(assigns, " "), wrapper,
    M.shell_quote(os.getenv("ACMPCA_LUA_EXE")), M.shell_quote(dir .. "/child.lua"))
  local out, ok = M.sh(cmd)
  M.rmdir(dir)
  local r = {}
  for k, v in out:gmatch("@@([%w_]+)=([^\n]*)") do r[k] = (v:gsub("\\n", "\n")) end
  assert(ok, "the child interpreter failed:\n" .. out)
  return r, out
end

return M
