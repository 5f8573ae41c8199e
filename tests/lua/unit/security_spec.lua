-- Hostile input at the Lua boundary: numbers no C integer can hold, strings
-- with NUL bytes, header injection, and objects used after their client went
-- away. Every case must raise an error object (ParamValidationError naming
-- the field, or ClientClosedError), never convert out of range (undefined
-- behaviour in C), truncate a string silently or touch freed memory.
-- Also run under valgrind (tests/lua/valgrind.sh) and, by hand, under ASan/UBSan.
local h = require "helpers"
local acmpca = h.acmpca

local NAN, INF = 0 / 0, math.huge
local HOSTILE = { NAN, INF, -INF, 1e300, -1e300 }
local CONFIG = { region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL, credentials = h.CREDS }

local function with(base, extra)
  local t = {}
  for k, v in pairs(base) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

-- Expect "<field>: <value> is out of range (<min> to <max>)" from fn(...).
local function out_of_range(field, range, fn, ...)
  local err = h.raises_code("ParamValidationError", fn, ...)
  local prefix = field .. ": "
  assert.are.equal(prefix, err.message:sub(1, #prefix), err.message)
  local suffix = " is out of range (" .. range .. ")"
  assert.are.equal(suffix, err.message:sub(-#suffix), err.message)
  return err
end

describe("hostile numbers", function()
  it("parse_response refuses a status outside 100..599, NaN and infinities", function()
    for _, v in ipairs{ 1e300, -1e300, NAN, INF, -INF, 99, 600, 0, -1, 2 ^ 31, 2 ^ 63 } do
      local err = out_of_range("status", "100 to 599", acmpca.parse_response, "list_tags", v,
                               {}, "{}")
      assert.are.equal("ListTags", err.operation)
    end
    if math.maxinteger then
      out_of_range("status", "100 to 599", acmpca.parse_response, "list_tags",
                   math.maxinteger, {}, "{}")
      out_of_range("status", "100 to 599", acmpca.parse_response, "list_tags",
                   math.mininteger, {}, "{}")
    end
    local err = h.raises_code("ParamValidationError", acmpca.parse_response, "list_tags", 200.5,
                              {}, "{}")
    assert.are.equal("status: expected an integer, got 200.5", err.message)
    -- the bounds themselves are statuses
    local _, meta = acmpca.parse_response("list_tags", 200, {}, "{}")
    assert.are.equal(200, meta.status)
    assert.is_true(h.is_integer(meta.status))
    h.raises_code("599", acmpca.parse_response, "list_tags", 599, {}, "")
  end)

  local options = {
    { "connect_timeout", "0 to 86400" }, { "read_timeout", "0 to 86400" },
    { "total_timeout", "0.001 to 86400" }, { "max_attempts", "1 to 100" },
    { "max_response_bytes", "1 to 1073741824" },
  }
  for _, o in ipairs(options) do
    it("acmpca.new refuses config." .. o[1] .. " = NaN, ±inf, ±1e300, naming the range",
       function()
      for _, v in ipairs(HOSTILE) do
        out_of_range("config." .. o[1], o[2], acmpca.new, with(CONFIG, { [o[1]] = v }))
        out_of_range("config." .. o[1], o[2], acmpca.build_request,
                     with(CONFIG, { [o[1]] = v }), "list_certificate_authorities", {})
      end
    end)
  end

  it("acmpca.new refuses rate limits that are NaN, infinite or huge", function()
    for _, v in ipairs(HOSTILE) do
      local err = h.raises_code("ParamValidationError", acmpca.new,
                                with(CONFIG, { rate_limit = { get_certificate = v } }))
      assert.are.equal("config.rate_limit.get_certificate: expected requests per second " ..
                       "(0 to 1000000)", err.message)
    end
  end)

  it("waiters, paginators and request_certificate refuse hostile numbers", function()
    local c = acmpca.new(CONFIG)
    local arn = h.CA_ARN
    local cert = { CertificateAuthorityArn = arn, CertificateArn = arn .. "/certificate/0a" }
    for _, v in ipairs(HOSTILE) do
      out_of_range("options.delay", "0.001 to 3600", c.wait, c, "certificate_issued", cert,
                   { delay = v })
      out_of_range("options.max_attempts", "1 to 100000", c.wait, c, "certificate_issued", cert,
                   { max_attempts = v })
      out_of_range("options.page_size", "1 to 1000", c.paginate, c, "list_tags",
                   { CertificateAuthorityArn = arn }, { page_size = v })
      out_of_range("options.max_items", "1 to 2147483647", c.paginate, c, "list_tags",
                   { CertificateAuthorityArn = arn }, { max_items = v })
      out_of_range("options.validity_days", "1 to 36500", c.request_certificate, c, arn,
                   { validity_days = v })
      out_of_range("options.wait_delay", "0.001 to 3600", c.request_certificate, c, arn,
                   { wait_delay = v })
      out_of_range("options.wait_max_attempts", "1 to 100000", c.request_certificate, c, arn,
                   { wait_max_attempts = v })
    end
    c:close()
  end)

  it("acmpca.sign refuses hostile timestamps and expiries", function()
    local req = { method = "GET", url = "https://example.com/", region = "us-east-1",
                  service = "s", access_key_id = "AK", secret_access_key = "SK" }
    for _, v in ipairs(HOSTILE) do
      out_of_range("request.timestamp", "0 to 253402300799", acmpca.sign,
                   with(req, { timestamp = v }))
      out_of_range("request.expires", "1 to 604800", acmpca.sign,
                   with(req, { query = true, expires = v }))
    end
  end)

  it("model integers that are NaN, infinite or huge are refused by the core, with the path",
     function()
    for _, v in ipairs(HOSTILE) do
      local err = h.raises_code("ParamValidationError", acmpca.build_request, CONFIG,
                                "list_certificate_authorities", { MaxResults = v })
      assert.matches("^MaxResults: ", err.message)
      err = h.raises_code("ParamValidationError", acmpca.build_request, CONFIG,
        "issue_certificate", { CertificateAuthorityArn = h.CA_ARN, Csr = "x",
                               SigningAlgorithm = "SHA256WITHRSA",
                               Validity = { Value = v, Type = "DAYS" } })
      assert.matches("^Validity%.Value: ", err.message)
    end
  end)
end)

describe("strings with NUL bytes", function()
  local function nul_refused(pattern, fn, ...)
    local err = h.raises_code("ParamValidationError", fn, ...)
    assert.matches(pattern, err.message)
  end

  it("are refused in operation, waiter and paginator names", function()
    local c = acmpca.new(CONFIG)
    nul_refused("^operation: contains a NUL byte$", acmpca.build_request, CONFIG,
                "list_tags\0junk", { CertificateAuthorityArn = h.CA_ARN })
    nul_refused("^operation: contains a NUL byte$", acmpca.parse_response, "list_tags\0junk",
                200, {}, "{}")
    nul_refused("^waiter: contains a NUL byte$", c.wait, c, "certificate_issued\0junk", {})
    nul_refused("^operation: contains a NUL byte$", c.paginate, c, "list_tags\0junk", {})
    c:close()
  end)

  it("are refused in option names instead of matching a shorter one", function()
    nul_refused("^config: a key contains a NUL byte$", acmpca.new,
                { ["region\0junk"] = "us-east-1" })
    nul_refused("^config%.credentials: a key contains a NUL byte$", acmpca.new,
                with(CONFIG, { credentials = { access_key_id = "AK", secret_access_key = "SK",
                                               ["session_token\0x"] = "T" } }))
    nul_refused("^config%.rate_limit: a key contains a NUL byte$", acmpca.new,
                with(CONFIG, { rate_limit = { ["GetCertificate\0x"] = 1 } }))
  end)

  it("are refused in config strings, naming the option", function()
    for _, key in ipairs{ "region", "endpoint_url", "profile", "retry_mode", "ca_bundle",
                          "user_agent_suffix" } do
      nul_refused("^config%." .. key .. ": contains a NUL byte$", acmpca.new,
                  with(CONFIG, { [key] = "x\0y" }))
    end
    nul_refused("^config%.credentials%.session_token: contains a NUL byte$", acmpca.new,
                with(CONFIG, { credentials = { access_key_id = "AK", secret_access_key = "SK",
                                               session_token = "T\0X" } }))
  end)

  it("are refused in header names and values (sign and parse_response)", function()
    local req = { method = "GET", url = "https://example.com/", region = "us-east-1",
                  service = "s", access_key_id = "AK", secret_access_key = "SK" }
    nul_refused("^headers%.X%-Foo: the value contains a NUL byte$", acmpca.sign,
                with(req, { headers = { ["X-Foo"] = "a\0b" } }))
    nul_refused("^headers%.X%-Foo: the value contains a NUL byte$", acmpca.sign,
                with(req, { headers = { ["X-Foo"] = { "a", "b\0c" } } }))
    nul_refused("^headers: a name contains a NUL byte$", acmpca.sign,
                with(req, { headers = { ["X-Foo\0Bar"] = "a" } }))
    nul_refused("^headers%.x%-amzn%-requestid: the value contains a NUL byte$",
                acmpca.parse_response, "list_tags", 200, { ["x-amzn-requestid"] = "r\0x" }, "{}")
    nul_refused("^request%.session_token: contains a NUL byte$", acmpca.sign,
                with(req, { session_token = "T\0X" }))
  end)
end)

describe("header injection", function()
  it("acmpca.new refuses a user_agent_suffix with CR/LF, naming it", function()
    local err = h.raises_code("ParamValidationError", acmpca.new,
                              with(CONFIG, { user_agent_suffix = "x\r\nX-Injected: 1" }))
    assert.matches("user_agent_suffix", err.message, 1, true)
    err = h.raises_code("ParamValidationError", acmpca.build_request,
                        with(CONFIG, { user_agent_suffix = "x\nX-Injected: 1" }),
                        "list_certificate_authorities", {})
    assert.matches("user_agent_suffix", err.message, 1, true)
    -- a harmless suffix is still taken
    acmpca.new(with(CONFIG, { user_agent_suffix = "app/1.0 (tab\tok)" })):close()
  end)

  it("acmpca.sign refuses header values with CR or LF, naming the header", function()
    local req = { method = "GET", url = "https://example.com/", region = "us-east-1",
                  service = "s", access_key_id = "AK", secret_access_key = "SK" }
    for _, v in ipairs{ "a\r\nX-Injected: 1", "a\nX-Injected: 1", "a\rb", { "a", "b\r\nX: 1" } } do
      local err = h.raises_code("ParamValidationError", acmpca.sign,
                                with(req, { headers = { ["X-Foo"] = v } }))
      assert.are.equal("headers.X-Foo: the value contains CR or LF", err.message)
    end
    local err = h.raises_code("ParamValidationError", acmpca.sign,
                              with(req, { headers = { ["X-Foo\r\nX-Injected"] = "1" } }))
    assert.are.equal("headers: a name contains CR or LF", err.message)
    -- tabs and spaces inside a value stay allowed
    local s = acmpca.sign(with(req, { headers = { ["X-Foo"] = "a \tb" } }))
    assert.is_string(s.signature)
  end)

  it("build_request refuses credentials that would split a header", function()
    local err = h.raises(acmpca.build_request,
      with(CONFIG, { credentials = { access_key_id = "AK", secret_access_key = "SK",
                                     session_token = "T\r\nX-Injected: 1" } }),
      "list_certificate_authorities", {})
    assert.are.equal(acmpca.Error, getmetatable(err), tostring(err))
    assert.matches("session.token", err.message)
  end)
end)

describe("object lifetimes", function()
  local function offline() return h.offline_client() end

  it("a paginator used after c:close() raises ClientClosedError, then closes cleanly", function()
    local c = offline()
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    c:close()
    for _ = 1, 2 do
      local err = h.raises_code("ClientClosedError", pages)
      assert.are.equal("ListTags", err.operation)
    end
    assert.is_nil(pages.resume_token)
    pages:close()
    assert.is_nil(pages())
    pages = nil
    collectgarbage()
    collectgarbage()
  end)

  it("a paginator used after its client's __gc ran by hand raises ClientClosedError", function()
    local c = offline()
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    local gc = getmetatable(c).__gc
    gc(c)
    gc(c)  -- twice: idempotent
    h.raises_code("ClientClosedError", pages)
    h.raises_code("ClientClosedError", c.list_tags, c, { CertificateAuthorityArn = h.CA_ARN })
  end)

  it("a paginator keeps its client alive after every other reference is gone", function()
    local pages
    do
      local c = offline()
      pages = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    end
    for _ = 1, 3 do
      local junk = {}
      for i = 1, 1000 do junk[i] = { i } end
      collectgarbage()
    end
    h.raises_code("EndpointConnectionError", pages)  -- got as far as the network
  end)

  it("a paginator refuses a client swapped in behind its back (debug library)", function()
    local c1, c2 = offline(), offline()
    local pages = c1:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    c1:close()
    if h.is54 then
      debug.setuservalue(pages, c2, 1)
    else
      debug.setfenv(pages, { c2 })  -- the 5.1 API keeps it in the environment table
    end
    h.raises_code("ClientClosedError", pages)
    c2:close()
  end)

  it("paginator __gc/__close/close run any number of times", function()
    local c = offline()
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    local mt = getmetatable(pages)
    mt.__gc(pages)
    mt.__gc(pages)
    if mt.__close then mt.__close(pages, nil) end
    pages.close(pages)
    assert.is_nil(pages())
    c:close()
    mt.__gc(pages)
  end)

  if h.is54 then
    it("a <close> paginator outlives nothing it points into (5.4)", function()
      local chunk = assert(load([[
        local h = ...
        local c = h.offline_client()
        local kept
        do
          local pages <close> = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
          kept = pages
          c:close()
        end
        return kept
      ]]))
      local pages = chunk(h)
      assert.is_nil(pages())
      collectgarbage()
    end)
  end

  it("a client, its paginators and the module collected together leave no dangling use",
     function()
    local r = h.child(nil, [[
      local made = {}
      for i = 1, 50 do
        local c = acmpca.new{ region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
                              credentials = { access_key_id = "A", secret_access_key = "S" } }
        made[i] = c:paginate("list_tags", { CertificateAuthorityArn = string.rep("a", 20) })
        if i % 2 == 0 then c:close() end
      end
      made = nil
      collectgarbage()
      collectgarbage()
      -- loading the module again keeps one global init per state
      package.loaded.acmpca = nil
      local again = require "acmpca"
      collectgarbage()
      collectgarbage()
      local key = again.generate_key()
      emit("key", key:match("^%-%-%-%-%-BEGIN PRIVATE KEY") ~= nil)
      local s = acmpca.sign{ method = "GET", url = "https://example.com/", region = "us-east-1",
                             service = "s", access_key_id = "AK", secret_access_key = "SK",
                             timestamp = 1440938160 }
      emit("sig", #s.signature)
    ]])
    assert.are.equal("true", r.key)
    assert.are.equal("64", r.sig)
  end)
end)
