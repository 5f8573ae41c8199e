-- resty.acmpca when a send fails, with ngx.socket.tcp scripted here and
-- everything else real (the module, the C binding, the core's call machine).
--
-- A send that stalls cannot be made in a real nginx on loopback: Linux
-- autotunes a loopback socket's send buffer to about 3 MB, more than ACM PCA's
-- largest request (2.8 MB), and Debian's ngx_lua (0.10.23) accepts
-- sock:setoption("sndbuf", n) without calling setsockopt. tests/nginx covers
-- every other socket failure in a real nginx.
local h = require "helpers"
package.path = (os.getenv("ACMPCA_SOURCE_DIR") or ".") .. "/bindings/lua/?.lua;" .. package.path

local ARN = h.CA_ARN
local ANSWER_BODY = '{"CertificateAuthority":{"Arn":"' .. ARN .. '"}}'
local ANSWER = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n" ..
               "x-amzn-RequestId: req-1\r\nContent-Length: " .. #ANSWER_BODY .. "\r\n\r\n" ..
               ANSWER_BODY

-- Sockets that play `script`: one entry per socket made, { reused = n, send = {nil, err} }.
local function fake_ngx(script)
  local made = {}
  local function tcp()
    local plan = script[#made + 1] or {}
    local sock = { calls = {}, plan = plan }
    made[#made + 1] = sock
    local function log(name, ...) sock.calls[#sock.calls + 1] = { name, ... } end
    function sock.settimeouts(_, c, s, r) log("settimeouts", c, s, r) end
    function sock.settimeout(_, t) log("settimeout", t) end
    function sock.connect() log("connect") return 1 end
    function sock.getreusedtimes() return plan.reused or 0 end
    function sock.send(_, data)
      log("send", #data)
      if plan.send then return nil, plan.send end
      return #data
    end
    function sock.receiveany() log("receiveany") return ANSWER end
    function sock.setkeepalive() log("setkeepalive") return 1 end
    function sock.close() log("close") return 1 end
    return sock
  end
  local t = 1.7e9
  return {
    null = false, shared = {}, socket = { tcp = tcp },
    sleep = function() end, now = function() return t end, update_time = function() end,
    get_phase = function() return "content" end,
  }, made
end

local function names(sock)
  local out = {}
  for i, c in ipairs(sock.calls) do out[i] = c[1] end
  return table.concat(out, " ")
end

describe("resty.acmpca send failures", function()
  local saved_ngx
  before_each(function()
    saved_ngx = rawget(_G, "ngx")
    package.loaded["resty.acmpca"] = nil
  end)
  after_each(function()
    _G.ngx = saved_ngx
    package.loaded["resty.acmpca"] = nil
  end)

  local function client(script)
    local ngx, made = fake_ngx(script)
    _G.ngx = ngx
    local c = assert(require("resty.acmpca").new{
      region = "us-east-1", endpoint_url = "http://127.0.0.1:1", max_attempts = 2,
      connect_timeout = 2, read_timeout = 0.3,
      credentials = { access_key_id = "AKIDTEST", secret_access_key = "s" } })
    return c, made
  end

  it("a send that times out is a ReadTimeoutError saying so, retried on a new connection",
     function()
    local c, made = client{ { send = "timeout" }, { send = "timeout" } }
    local res, err = c:describe_certificate_authority{ CertificateAuthorityArn = ARN }
    assert.is_nil(res)
    assert.are.equal("ReadTimeoutError", err.code)
    assert.matches("send timeout: http://127.0.0.1:1/ took no byte of the request for 300 ms",
                   err.message, 1, true)
    assert.are.equal(2, err.attempts)
    assert.is_true(err.retryable)
    assert.are.equal(2, #made)
    for _, sock in ipairs(made) do
      -- The send waits as long as a read may: settimeouts(connect, send, read).
      assert.are.same({ "settimeouts", 2000, 300, 300 }, sock.calls[1])
      -- Nothing is read after a failed send, and the socket is not pooled.
      assert.are.equal("settimeouts connect send close", names(sock))
    end
  end)

  it("a send that fails otherwise is a network error naming the cause", function()
    local c, made = client{ { send = "broken pipe" }, { send = "broken pipe" } }
    local res, err = c:describe_certificate_authority{ CertificateAuthorityArn = ARN }
    assert.is_nil(res)
    assert.matches("connection lost sending to http://127.0.0.1:1/ (broken pipe)",
                   err.message, 1, true)
    assert.are.equal("ConnectionClosedError", err.code)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, #made)
  end)

  it("a pooled connection found closed is replaced without costing an attempt", function()
    local c, made = client{ { reused = 1, send = "closed" }, {} }
    local res, meta = c:describe_certificate_authority{ CertificateAuthorityArn = ARN }
    assert.are.equal(ARN, res.CertificateAuthority.Arn)
    assert.are.equal(0, meta.retry_attempts)
    assert.are.equal(2, #made)
    assert.are.equal("settimeouts connect send close", names(made[1]))
    assert.are.equal("settimeouts connect send receiveany setkeepalive", names(made[2]))
  end)

  it("a pooled connection that times out on send is not retried as stale", function()
    local c, made = client{ { reused = 1, send = "timeout" }, { send = "timeout" } }
    local _, err = c:describe_certificate_authority{ CertificateAuthorityArn = ARN }
    assert.are.equal("ReadTimeoutError", err.code)
    assert.are.equal(2, err.attempts)
    assert.are.equal(2, #made)
  end)
end)
