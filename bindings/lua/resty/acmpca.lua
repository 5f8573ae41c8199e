-- resty.acmpca: AWS Private CA for OpenResty without blocking the worker.
--
--   local acmpca = require "resty.acmpca"
--   local c, err = acmpca.new{ region = "us-east-1" }
--   local res, err = c:get_certificate{ CertificateAuthorityArn = ca, CertificateArn = arn }
--   local last, err = c:wait("certificate_issued", params, { delay = 1 })
--   for page, err in c:paginate("list_certificate_authorities", {}) do ... end
--
-- Every call runs the core's call machine (acmpca/machine.h through the C
-- module's c:machine, c:waiter_machine and pages:machine): the core decides
-- what to send, whether and when to retry, the waiter's acceptors and the
-- paginator's tokens; this file only moves bytes on ngx.socket.tcp and waits
-- with ngx.sleep. Credentials that must be fetched (IMDS, container, STS)
-- come as SEND steps too, so nothing here blocks the worker; calls of one
-- client that need them at once share one fetch (the core makes the others
-- sleep), and option shared_dict shares them between workers.
--
-- Methods return `res, err` (OpenResty's convention) and never raise for a
-- service, network or validation error: err is the error object the
-- blocking module raises (code, message, status, request_id, operation,
-- retryable, attempts, class; tostring(err) is readable).
local core = require "acmpca"

local ngx = ngx
local tcp = ngx.socket.tcp
local ngx_sleep = ngx.sleep
local ngx_now = ngx.now
local update_time = ngx.update_time
local get_phase = ngx.get_phase
local ipairs, pairs, pcall, type, tonumber, tostring = ipairs, pairs, pcall, type, tonumber,
                                                      tostring
local setmetatable, getmetatable = setmetatable, getmetatable
local concat = table.concat
local find, sub, match = string.find, string.sub, string.match

local _M = {
  version = core.version,
  Error = core.Error,
  errors = core.errors,
  operations = core.operations,
  waiters = core.waiters,
}

-- The longest response head read before giving up (as libcurl's header line limit).
local MAX_HEAD = 102400
-- Pooled connections found closed by the server are replaced at most this often per send.
local MAX_STALE = 4

-- Options of this module; everything else goes to the C client (acmpca.new).
local RESTY_OPTIONS = {
  timeout = true, keepalive = true, keepalive_timeout = true, keepalive_pool = true,
  ssl_verify = true, shared_dict = true, shared_dict_key = true,
}

-- "keepalive, keepalive_pool, ...": for the message of an unknown option.
local RESTY_OPTION_NAMES
do
  local names = {}
  for name in pairs(RESTY_OPTIONS) do names[#names + 1] = name end
  table.sort(names)
  RESTY_OPTION_NAMES = concat(names, ", ")
end

-- Phases where ngx.socket.tcp and ngx.sleep exist (ngx_lua's documentation).
local COSOCKET_PHASES = {
  rewrite = true, access = true, content = true, timer = true, ssl_cert = true,
  ssl_session_fetch = true, ssl_client_hello = true, preread = true,
}

local function new_error(code, message)
  return setmetatable({ code = code, class = code, message = message, retryable = false,
                        attempts = 0 }, core.Error)
end

-- A raised value from the C module as an error object (a memory error may be a string).
local function as_error(e)
  if type(e) == "table" and getmetatable(e) == core.Error then return e end
  return new_error("GeneralError", tostring(e))
end

-- Absent: nil, or ngx.null / cjson.null (the same NULL light userdata).
local function is_null(v)
  return v == nil or v == ngx.null
end

local function number_option(opts, key, lo, hi)
  local v = opts[key]
  if is_null(v) then return nil end
  if type(v) ~= "number" or v ~= v or v < lo or v > hi then
    return nil, new_error("ParamValidationError",
                          ("config.%s: expected a number from %g to %g, got %s")
                            :format(key, lo, hi, tostring(v)))
  end
  return v
end

-- ---- HTTP/1.1 over a cosocket ------------------------------------------------

local function now_ms()
  update_time()
  return ngx_now() * 1000
end

-- Where a step goes, for messages: "https://host:443/".
local function where(s)
  return s.scheme .. "://" .. s.host .. ":" .. s.port .. s.path
end

-- The timeout for the next socket operation: `ms`, cut to what the deadline leaves.
-- Returns the timeout and whether the deadline is what bounds it.
local function bound(ms, deadline)
  if not deadline then return ms, false end
  local left = deadline - now_ms()
  if left < ms then return left > 1 and left or 1, true end
  return ms, false
end

-- The failure of a socket operation as (kind, detail); `op` is "connect", "send" or "read".
-- A request that stops moving out times out as a read does (libcurl's and botocore's kind).
local function failure(err, by_deadline, s, op, what)
  if err == "timeout" then
    if by_deadline then
      return "read_timeout", "total_timeout_ms passed while waiting for " .. where(s)
    end
    if op == "connect" then
      return "connect_timeout", "connect timeout on " .. where(s)
    end
    if op == "send" then
      return "read_timeout", ("send timeout: %s took no byte of the request for %d ms")
                               :format(where(s), s.read_timeout_ms)
    end
    return "read_timeout", "read timeout: no data from " .. where(s)
  end
  return op == "connect" and "connect" or "network",
         what .. " " .. where(s) .. " (" .. tostring(err) .. ")"
end

-- Set the read timeout for the next socket operation; returns whether the deadline bounds it.
-- Without a deadline the read timeout set before connecting still holds.
local function arm(sock, s, deadline)
  if not deadline then return false end
  local to, by_deadline = bound(s.read_timeout_ms, deadline)
  sock:settimeout(to)
  return by_deadline
end

-- nil, kind, detail for a read that failed with `err`.
local function lost(err, by_deadline, s, what)
  return nil, failure(err, by_deadline, s, "read", what)
end

local function too_large(s)
  return nil, "too_large",
         ("response is larger than the %d-byte limit"):format(s.max_response_bytes)
end

--[[
The answer is read through a buffer: one receiveany usually brings the whole
head and body of a small answer (one call into nginx instead of a
receiveuntil iterator and a receive), and whatever a read brought past the
part wanted is kept in `buf` (from `pos`) for the next part.
]]
local READ_SIZE = 65536

-- buf from pos on with what one more read brings appended, or nil, kind, detail.
local function read_more(sock, s, deadline, buf, pos, what)
  local by_deadline = arm(sock, s, deadline)
  local data, err = sock:receiveany(READ_SIZE)
  if not data then return lost(err, by_deadline, s, what) end
  if pos > #buf then return data end
  return sub(buf, pos) .. data
end

-- One CRLF-terminated line of at most `max` bytes at buf[pos]: line, buf, pos after it.
local function buffered_line(sock, s, deadline, buf, pos, max)
  local from = pos
  while true do
    local e = find(buf, "\r\n", from, true)
    if e and e - pos <= max then return sub(buf, pos, e - 1), buf, e + 2 end
    if e or #buf - pos > max then
      return nil, "network", "a line over " .. max .. " bytes from " .. where(s)
    end
    local kept = #buf - pos   -- a CR ending buf stays at kept + 1
    local kind, detail
    buf, kind, detail = read_more(sock, s, deadline, buf, pos, "connection lost reading from")
    if not buf then return nil, kind, detail end
    pos, from = 1, kept > 0 and kept + 1 or 1
  end
end

-- `n` bytes at buf[pos]: the bytes, buf, pos after them.
local function buffered_bytes(sock, s, deadline, buf, pos, n)
  local have = #buf - pos + 1
  if have >= n then return sub(buf, pos, pos + n - 1), buf, pos + n end
  local by_deadline = arm(sock, s, deadline)
  local data, err = sock:receive(n - have)
  if not data then return lost(err, by_deadline, s, "connection closed early by") end
  return have > 0 and sub(buf, pos) .. data or data, "", 1
end

-- A chunked body from buf[pos] on: body, buf, pos after it.
local function read_chunked(sock, s, deadline, buf, pos)
  local parts, total, limit = {}, 0, s.max_response_bytes
  while true do
    local line, data
    line, buf, pos = buffered_line(sock, s, deadline, buf, pos, 64)
    if not line then return nil, buf, pos end
    local size = tonumber(match(line, "^%x+"), 16)
    if not size then return nil, "network", "a bad chunk size line from " .. where(s) end
    if size == 0 then
      repeat -- trailers (none expected) up to the empty line
        line, buf, pos = buffered_line(sock, s, deadline, buf, pos, 1024)
        if not line then return nil, buf, pos end
      until line == ""
      return concat(parts), buf, pos
    end
    total = total + size
    if total > limit then return too_large(s) end
    data, buf, pos = buffered_bytes(sock, s, deadline, buf, pos, size + 2)
    if not data then return nil, buf, pos end
    parts[#parts + 1] = sub(data, 1, size)
  end
end

-- The body after the head (length and chunked as m:parse_head reads them;
-- `rest` what the head's reads brought after it): Content-Length, chunked, or
-- until the server closes. Returns body, reusable (the connection may carry
-- another request: nothing unread past the body), or nil, kind, detail.
local function read_body(sock, s, deadline, status, length, chunked, rest)
  if status == 204 or status == 304 or status < 200 then return "", rest == "" end
  if chunked then
    local body, buf, pos = read_chunked(sock, s, deadline, rest, 1)
    if not body then return nil, buf, pos end
    return body, pos > #buf
  end
  if length ~= nil then
    if not length then return nil, "network", "a bad Content-Length from " .. where(s) end
    if length > s.max_response_bytes then return too_large(s) end
    local have = #rest
    if have == length then return rest, true end
    if have > length then return sub(rest, 1, length), false end
    local body, kind, detail = buffered_bytes(sock, s, deadline, rest, 1, length)
    if not body then return nil, kind, detail end
    return body, true
  end
  -- No framing: the body ends when the server closes; the connection cannot be reused.
  local parts, total = { rest }, #rest
  if total > s.max_response_bytes then return too_large(s) end
  while true do
    local by_deadline = arm(sock, s, deadline)
    local data, err = sock:receiveany(READ_SIZE)
    if not data then
      if err == "closed" then return concat(parts), false end
      return lost(err, by_deadline, s, "connection lost reading from")
    end
    total = total + #data
    if total > s.max_response_bytes then return too_large(s) end
    parts[#parts + 1] = data
  end
end

--[[
lua-resty-core's sslhandshake (0.1.25 as today's) raises "assertion failed!"
instead of returning the error when a handshake that completed at once
failed verification: the reason is still in the cosocket, read here as
resty.core would have (nil when its internals differ).
]]
local function lost_tls_error(sock)
  local ok, msg = pcall(function()
    local ffi = require "ffi"
    local base = require "resty.core.base"
    local errmsg, code = base.get_errmsg_ptr(), ffi.new("int[1]")
    local rc = ffi.C.ngx_http_lua_ffi_socket_tcp_get_sslhandshake_result(
      base.get_request(), sock[1], ffi.new("void *[1]"), errmsg, code)
    if rc == base.FFI_ERROR and errmsg[0] ~= nil then
      return (code[0] ~= 0 and (code[0] .. ": ") or "") .. ffi.string(errmsg[0])
    end
  end)
  return ok and msg or nil
end

-- The options of connect() for a pool, made once per client and pool.
local function connect_options(self, pool)
  local opts = self.connect_options[pool]
  if not opts then
    opts = { pool = pool }
    self.connect_options[pool] = opts
  end
  return opts
end

-- The connection after an answer: back to the pool when it may carry another request.
local function release(self, sock, keep)
  if self.keepalive and keep then
    sock:setkeepalive(self.keepalive_timeout_ms, self.keepalive_pool)
  else
    sock:close()
  end
end

--[[
One try of one exchange of a SEND step from m:next_wire (s.wire: the bytes
to send; s.pool: a pool per destination and verification policy, so a
connection verified under one policy is never handed to a request that wants
another). Returns status, head, body; or true and the machine's next step
when it took the answer already (m:take_answer: the usual answer, whole in
the first read); or nil, kind, status, detail; or false when a pooled
connection turned out closed before answering (try again).
The head is handed to the machine as read: m:parse_head and m:response read
it in C, cheaper than Lua patterns over every header of every answer.
]]
local function exchange(self, m, s, deadline, into)
  local https = s.scheme == "https"
  local sock = tcp()
  local cto, by_deadline = bound(s.connect_timeout_ms, deadline)
  local rto = s.read_timeout_ms
  -- The handshake runs under the connect timeout and a deadline shrinks each timeout,
  -- so those set the read timeout again later; plain HTTP sets every timeout once.
  local rearm = https or deadline
  if rearm then sock:settimeouts(cto, cto, cto) else sock:settimeouts(cto, rto, rto) end
  -- nginx wants an IPv6 literal in brackets.
  local host = find(s.host, ":", 1, true) and ("[" .. s.host .. "]") or s.host
  local ok, err = sock:connect(host, s.port, connect_options(self, s.pool))
  if not ok then
    local kind, detail = failure(err, by_deadline, s, "connect", "could not connect to")
    return nil, kind, nil, detail
  end
  local reused = sock:getreusedtimes() > 0
  if https and not reused then
    -- Certificate and host name checked against lua_ssl_trusted_certificate.
    local called, res, herr = pcall(sock.sslhandshake, sock, nil, s.host,
                                    not s.insecure_skip_tls_verify)
    if not called or not res then
      if not called then herr = lost_tls_error(sock) or "the certificate was refused" end
      sock:close()
      if herr == "timeout" then
        local kind, detail = failure(herr, by_deadline, s, "connect", "TLS handshake with")
        return nil, kind, nil, detail
      end
      return nil, "tls", nil, "TLS handshake with " .. where(s) .. " failed: " .. tostring(herr)
    end
  end

  if rearm then
    local to
    to, by_deadline = bound(rto, deadline)
    sock:settimeout(to)
  else
    by_deadline = false
  end
  local sent
  sent, err = sock:send(s.wire)
  if not sent then
    sock:close()
    if reused and err ~= "timeout" then return false end
    local kind, detail = failure(err, by_deadline, s, "send", "connection lost sending to")
    return nil, kind, nil, detail
  end

  local status, length, chunked, keep_alive, head
  local buf = ""  -- read and not yet taken
  local first = true
  repeat -- past any 1xx interim answer
    local from, e = 1, nil
    while true do
      e = find(buf, "\r\n\r\n", from, true)
      if e or #buf >= MAX_HEAD + 4 then break end
      from = #buf > 3 and #buf - 2 or 1
      by_deadline = arm(sock, s, deadline)
      local data
      data, err = sock:receiveany(READ_SIZE)
      if not data then
        sock:close()
        if reused and err ~= "timeout" and buf == "" then return false end
        local kind, detail = failure(err, by_deadline, s, "read",
                                     err == "closed" and "connection closed early by"
                                     or "connection reset by")
        return nil, kind, tonumber(match(buf, "^HTTP/1%.%d (%d%d%d)")), detail
      end
      buf = buf == "" and data or buf .. data
      if first then
        -- The usual answer, whole in the first read: the machine takes it as it is.
        first = false
        if #buf <= s.max_response_bytes then
          local keep, kind, a, b = m:take_answer(buf, self.tail, into)
          if keep ~= nil then
            release(self, sock, keep)
            return true, kind, a, b
          end
        end
      end
    end
    if not e or e > MAX_HEAD + 1 then
      sock:close()
      return nil, "too_large", tonumber(match(buf, "^HTTP/1%.%d (%d%d%d)")),
             ("a response head over the %d-byte limit from %s"):format(MAX_HEAD, where(s))
    end
    head, buf = sub(buf, 1, e - 1), sub(buf, e + 4)
    status, length, chunked, keep_alive = m:parse_head(head)
    if not status then
      sock:close()
      return nil, "network", nil, length .. " from " .. where(s)
    end
  until status >= 200 or status == 101

  local body, reusable, detail = read_body(sock, s, deadline, status, length, chunked, buf)
  if not body then
    sock:close()
    return nil, reusable, status, detail
  end
  release(self, sock, reusable and keep_alive)
  return status, head, body
end

-- One exchange with its retries on stale pooled connections: status, head,
-- body; true and the next step (taken); or nil, kind, status, detail.
local function roundtrip(self, m, s, into)
  local deadline = s.deadline_ms > 0 and now_ms() + s.deadline_ms or nil
  for _ = 1, MAX_STALE do
    local status, a, b, c = exchange(self, m, s, deadline, into)
    if status ~= false then return status, a, b, c end
  end
  return nil, "network", nil, "every pooled connection to " .. where(s) ..
                              " was closed by the server"
end

--[[
Credentials shared by the workers through a lua_shared_dict (option
shared_dict): a client about to fetch takes what another worker fetched, and
a client that fetched leaves its credentials there until they expire. Only
expiring credentials (IMDS, container, STS, SSO) are shared.
]]
local function adopt_shared(self)
  if self.core:credentials_expiration() then return end
  local blob = self.dict:get(self.dict_key)
  if blob then pcall(self.core.import_credentials, self.core, blob) end
end

local function publish_shared(self)
  local blob, expiration = self.core:export_credentials()
  if blob then
    local ttl = expiration - ngx_now()
    if ttl > 0 then self.dict:set(self.dict_key, blob, ttl) end
  end
end

-- One SEND step: the answer or the failure goes to the machine, which says
-- the next step (as m:next_wire(tail, into) would).
-- Calls of one client that need credentials at once share one fetch: the core
-- sends one call's exchanges and gives the others sleep steps meanwhile.
local function send(self, m, s, into)
  if s.credentials then self.fetched = true end
  local status, a, b, c = roundtrip(self, m, s, into)
  if status == true then return a, b, c end
  if status then return m:response_next_wire(status, a, b, self.tail, into) end
  m:transport_error(a, b, c)
  return m:next_wire(self.tail, into)
end

--[[
What a call needs before its machine makes a step: a phase with cosockets,
the credentials other workers shared, and a step table (one of an earlier
call, refilled by each step of this one). Returns the table, or nil, err.
]]
local function prepare(self)
  local phase = get_phase()
  if not COSOCKET_PHASES[phase] then
    return nil, new_error("GeneralError",
      ("resty.acmpca: no cosockets in the %s phase; call from rewrite, access, content " ..
       "or a timer (ngx.timer.at)"):format(phase))
  end
  if self.dict then adopt_shared(self) end
  local spare = self.spare_steps
  local n = #spare
  if n == 0 then return {} end
  local into = spare[n]
  spare[n] = nil
  return into
end

-- Run a machine from its step (kind, a, b) to its end: result, meta or nil, err.
-- Its last step (done or failed) frees the machine.
local function drive(self, m, into, kind, a, b)
  while true do
    if kind == "send" then
      kind, a, b = send(self, m, a, into)
    elseif kind == "sleep" then
      ngx_sleep(a / 1000)
      kind, a, b = m:next_wire(self.tail, into)
    else
      local spare = self.spare_steps
      spare[#spare + 1] = into
      if self.fetched then
        self.fetched = nil
        if self.dict then publish_shared(self) end
      end
      if kind == "done" then return a, b end
      return nil, a
    end
  end
end

-- Run a machine made by `make` (c:waiter_machine, pages:machine, ...) called with
-- the arguments after it: result, meta or nil, err.
local function run(self, make, x, y, z, w)
  local into, err = prepare(self)
  if not into then return nil, err end
  local ok, m = pcall(make, x, y, z, w)
  if not ok then return nil, as_error(m) end
  return drive(self, m, into, m:next_wire(self.tail, into))
end

-- ---- the client ----------------------------------------------------------------

local Client = {}
local client_mt = { __index = Client }

--[[
acmpca.new(options) -> client, err. Options: every option of the blocking
module (region, endpoint_url, profile, credentials, connect_timeout,
read_timeout, total_timeout, max_attempts, retry_mode, verify_tls,
use_fips, use_dualstack, user_agent_suffix, rate_limit, max_response_bytes,
idempotency_tokens; seconds as there), plus:
  timeout            seconds: connect_timeout and read_timeout when those are not given
  ssl_verify         the same as verify_tls (OpenResty's name)
  keepalive          false: one connection per request (default true)
  keepalive_timeout  seconds an idle pooled connection is kept (default 60)
  keepalive_pool     connections kept per host and worker (default 30)
  shared_dict        the name of a lua_shared_dict where fetched credentials are
                     shared by all workers (default: each worker fetches its own)
  shared_dict_key    the key in it (default "acmpca:credentials:<profile>"; give
                     clients with other credential settings their own key)
ca_bundle is refused: cosockets verify against lua_ssl_trusted_certificate.
]]
function _M.new(opts)
  if opts ~= nil and not is_null(opts) and type(opts) ~= "table" then
    return nil, new_error("ParamValidationError",
                          "config: expected a table, got " .. type(opts))
  end
  opts = (opts ~= nil and not is_null(opts)) and opts or {}
  local conf = {}
  for k, v in pairs(opts) do
    if not RESTY_OPTIONS[k] then conf[k] = v end
  end
  if not is_null(opts.ca_bundle) then
    return nil, new_error("ParamValidationError",
      "config.ca_bundle: cosockets verify against nginx's lua_ssl_trusted_certificate; " ..
      "set that directive instead")
  end
  if not is_null(opts.proxy) then
    -- Cosockets connect straight to the endpoint; a proxy would silently go unused.
    return nil, new_error("ParamValidationError",
      "config.proxy: not supported by resty.acmpca (cosockets connect straight to the " ..
      "endpoint); use the blocking acmpca module for a proxied endpoint")
  end
  local timeout, err = number_option(opts, "timeout", 0.001, 86400)
  if err then return nil, err end
  if timeout then
    if is_null(conf.connect_timeout) then conf.connect_timeout = timeout end
    if is_null(conf.read_timeout) then conf.read_timeout = timeout end
  end
  if not is_null(opts.ssl_verify) then
    if type(opts.ssl_verify) ~= "boolean" then
      return nil, new_error("ParamValidationError",
                            "config.ssl_verify: expected a boolean, got " .. type(opts.ssl_verify))
    end
    if not is_null(opts.verify_tls) and opts.verify_tls ~= opts.ssl_verify then
      return nil, new_error("ParamValidationError",
                            "config.ssl_verify: contradicts config.verify_tls")
    end
    conf.verify_tls = opts.ssl_verify
  end
  local ka_timeout, ka_pool
  -- Not 0: ngx_lua would keep such a connection forever (keepalive = false disables).
  ka_timeout, err = number_option(opts, "keepalive_timeout", 0.001, 86400)
  if err then return nil, err end
  ka_pool, err = number_option(opts, "keepalive_pool", 1, 100000)
  if err then return nil, err end
  local keepalive = opts.keepalive
  if is_null(keepalive) then
    keepalive = true
  elseif type(keepalive) ~= "boolean" then
    return nil, new_error("ParamValidationError",
                          "config.keepalive: expected a boolean, got " .. type(keepalive))
  end

  local dict, dict_key
  if not is_null(opts.shared_dict) then
    dict = type(opts.shared_dict) == "string" and ngx.shared[opts.shared_dict]
    if not dict then
      return nil, new_error("ParamValidationError",
        ("config.shared_dict: expected the name of a lua_shared_dict, got %s"):format(
          type(opts.shared_dict) == "string" and ("%q (no such dict)"):format(opts.shared_dict)
          or type(opts.shared_dict)))
    end
    dict_key = opts.shared_dict_key
    if is_null(dict_key) then
      dict_key = "acmpca:credentials:" .. (type(conf.profile) == "string" and conf.profile
                                           or "default")
    elseif type(dict_key) ~= "string" or dict_key == "" then
      return nil, new_error("ParamValidationError",
                            "config.shared_dict_key: expected a non-empty string, got " ..
                            type(dict_key))
    end
  elseif not is_null(opts.shared_dict_key) then
    return nil, new_error("ParamValidationError",
                          "config.shared_dict_key: goes with config.shared_dict")
  end

  local ok, c = pcall(core.new, conf)
  if not ok then
    c = as_error(c)
    -- The blocking module lists its own options; name this module's too.
    if find(c.message, "^config%.[^:]*: unknown option; expected one of: ") then
      c.message = c.message .. "; or one of resty.acmpca's: " .. RESTY_OPTION_NAMES
    end
    return nil, c
  end
  local suffix = type(conf.user_agent_suffix) == "string" and (" " .. conf.user_agent_suffix) or ""
  return setmetatable({
    core = c,
    keepalive = keepalive,
    keepalive_timeout_ms = (ka_timeout or 60) * 1000,
    keepalive_pool = ka_pool and math.floor(ka_pool) or 30,
    dict = dict or nil,
    dict_key = dict_key,
    -- The header lines this module adds to every request the machine signs.
    tail = "User-Agent: acmpca/" .. core.version .. " resty" .. suffix .. "\r\n" ..
           (keepalive and "" or "Connection: close\r\n"),
    connect_options = {},
    -- As many as calls of this client were ever in flight at once in this worker.
    spare_steps = {},
  }, client_mt)
end

-- c:call(operation, params) -> result, meta or nil, err (operation in either spelling).
function Client:call(operation, params)
  local into, err = prepare(self)
  if not into then return nil, err end
  -- The machine and its first step in one call.
  local ok, m, kind, a, b = pcall(self.core.machine, self.core, operation, params, self.tail,
                                  into)
  if not ok then return nil, as_error(m) end
  return drive(self, m, into, kind, a, b)
end

-- c:<operation>(params) for every operation, as the blocking module names them.
for _, name in ipairs(core.operations) do
  Client[name] = function(self, params)
    return self:call(name, params)
  end
end

-- c:wait(name, params, { delay = s, max_attempts = n }) -> the last response or nil, err.
function Client:wait(name, params, opts)
  local res, err = run(self, self.core.waiter_machine, self.core, name, params, opts)
  if res == nil then return nil, err end
  return res
end

--[[
c:paginate(operation, params, { page_size, max_items, starting_token }) for a
generic for:

  for page, err in c:paginate("list_certificate_authorities", {}) do
    if not page then return nil, err end   -- page is false when a page failed
    ...
  end

A failure ends the loop after one (false, err); pages.resume_token resumes.
]]
local pages_mt = {}

function pages_mt.__call(self)
  if self.finished then return nil end
  if self.err then
    self.finished = true
    return false, self.err
  end
  local page, err = run(self.client, self.pages.machine, self.pages)
  if page == nil then
    self.finished = true
    if err then return false, err end
    return nil
  end
  return page
end

function pages_mt.__index(self, key)
  if key == "resume_token" then
    return self.pages and self.pages.resume_token
  end
end

function Client:paginate(operation, params, opts)
  local ok, pages = pcall(self.core.paginate, self.core, operation, params, opts)
  return setmetatable({ client = self, pages = ok and pages or nil,
                        err = not ok and as_error(pages) or nil }, pages_mt)
end

--[[
c:request_certificate(ca_arn, { csr, key_type, <subject fields>, signing_algorithm,
template_arn, validity_days, wait_delay, wait_max_attempts })
-> { CertificateArn, Certificate, CertificateChain, PrivateKey, Csr } or nil, err:
the blocking module's request_certificate on cosockets, run by the core's
request_certificate machine (c:request_certificate_machine): a new key and CSR
(or the given CSR) -> IssueCertificate (the CA's own signing algorithm, from
DescribeCertificateAuthority, when none is given) -> the certificate_issued
waiter -> the certificate. The options are checked and the key made when the
machine is made, before any I/O. Key generation runs on the worker: EC keys
take well under a millisecond, RSA 4096 can take a second, so prefer EC keys
(the default) inside request handlers.
]]
function Client:request_certificate(ca_arn, opts)
  local res, err = run(self, self.core.request_certificate_machine, self.core, ca_arn, opts)
  if res == nil then return nil, err end
  return res
end
Client.issue_and_wait = Client.request_certificate

-- c:close(): the C client's resources now (a machine in flight then fails).
function Client:close()
  self.core:close()
end

function Client:endpoint()
  return self.core:endpoint()
end

function Client:region()
  return self.core:region()
end

return _M
