-- Client options of acmpca.new observed from outside, with no server: the
-- endpoint host that use_fips / use_dualstack choose (the request the call
-- machine says to send, and the CONNECT a proxy sees), HTTPS_PROXY honoured
-- (tests/fixtures/recording_proxy.py), rate_limit as the machine's
-- "rate_limit" sleeps (no clock is read, and the margins allow for a slow
-- machine). user_agent_suffix: tests/lua/fault/options_spec.lua.
local h = require "helpers"
local acmpca = h.acmpca

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/options-ca"
local CERT = { CertificateAuthorityArn = CA, CertificateArn = CA .. "/certificate/abc" }

-- No endpoint_url: the client resolves the service endpoint itself.
local function resolving_client(extra)
  return h.new_client({ region = "us-east-1", credentials = h.CREDS }, extra)
end

-- A client for a port nobody listens on (the machines here never send).
local function client(extra)
  extra.endpoint_url = h.CLOSED_PORT_URL
  return resolving_client(extra)
end

-- The host the first attempt of a call would be sent to (nothing is sent).
local function host_of(extra)
  local c = resolving_client(extra)
  local kind, step = c:machine("get_certificate", CERT):next()
  c:close()
  assert.are.equal("send", kind)
  assert.are.equal(step.host, step.headers.Host)
  return step.host
end

describe("use_fips and use_dualstack", function()
  it("choose the FIPS, dual-stack and FIPS dual-stack endpoints", function()
    assert.are.equal("acm-pca.us-east-1.amazonaws.com", host_of())
    assert.are.equal("acm-pca-fips.us-east-1.amazonaws.com", host_of{ use_fips = true })
    assert.are.equal("acm-pca.us-east-1.api.aws", host_of{ use_dualstack = true })
    assert.are.equal("acm-pca-fips.us-east-1.api.aws",
                     host_of{ use_fips = true, use_dualstack = true })
    assert.are.equal("acm-pca.us-east-1.amazonaws.com",
                     host_of{ use_fips = false, use_dualstack = false })
  end)
end)

describe("HTTPS_PROXY", function()
  it("carries the call: the proxy sees a CONNECT to the endpoint use_fips chose", function()
    -- A child interpreter, since this one cannot set its own environment.
    local out, seen = h.list_tags_through_proxy(false,
      "-u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_ACM_PCA HTTPS_PROXY=$ACMPCA_TEST_PROXY " ..
      "NO_PROXY= no_proxy=", "use_fips = true", CA)
    -- The proxy answers the CONNECT and hangs up: the call fails, after the proxy saw it.
    assert.matches("^false", out)
    assert.are.equal(1, #seen, out)
    assert.are.equal("CONNECT acm-pca-fips.us-east-1.amazonaws.com:443 HTTP/1.1", seen[1].line)
  end)
end)

describe("proxy", function()
  it("refuses a bad value before any I/O, naming it and never showing a password", function()
    local err = h.raises_code("ParamValidationError", client, { proxy = 8080 })
    assert.are.equal("config.proxy: expected a URL string or a table, got number", err.message)
    err = h.raises_code("ParamValidationError", client, { proxy = { ftp = "http://h:1" } })
    assert.matches("config.proxy.ftp: unknown option", err.message, 1, true)
    err = h.raises_code("ParamValidationError", client, { proxy = { https = true } })
    assert.are.equal("config.proxy.https: expected a string, got boolean", err.message)
    err = h.raises_code("ParamValidationError", client,
                        { proxy = "socks5://user:hunter2@127.0.0.1:1080" })
    assert.matches("https_proxy: expected an http:// or https:// proxy URL", err.message, 1, true)
    assert.is_nil(tostring(err):find("hunter2", 1, true))
  end)
end)

-- The sleeps the machines of `n` back-to-back calls of `op` ask for (0: none).
local function sleeps(c, op, params, n)
  local out = {}
  for i = 1, n do
    local m = c:machine(op, params)
    local kind, ms, reason = m:next()
    out[i] = 0
    if kind == "sleep" then
      assert.are.equal("rate_limit", reason)
      out[i] = ms
      kind = m:next()
    end
    assert.are.equal("send", kind)
    m:close()
  end
  return out
end

describe("rate_limit", function()
  local ISSUE = { CertificateAuthorityArn = CA, Csr = "-----BEGIN CERTIFICATE REQUEST-----",
                  SigningAlgorithm = "SHA256WITHRSA", Validity = { Value = 1, Type = "DAYS" } }

  it("absent or false never delays a call", function()
    for _, config in ipairs{ {}, { rate_limit = false } } do
      local c = client(config)
      assert.are.same({ 0, 0, 0, 0, 0 }, sleeps(c, "issue_certificate", ISSUE, 5))
      c:close()
    end
  end)

  it("true paces IssueCertificate to its default quota of 25 per second", function()
    local c = client{ rate_limit = true }
    local s = sleeps(c, "issue_certificate", ISSUE, 11)
    c:close()
    assert.are.equal(0, s[1])
    -- The 11th call starts 10 intervals of 40 ms after the first: 400 ms, less
    -- the time these calls took (generously: up to 150 ms on a loaded machine).
    assert.is_true(s[11] <= 400 and s[11] >= 250, table.concat(s, " "))
  end)

  it("true paces each operation to its own quota (GetCertificate: 75 per second)", function()
    local c = client{ rate_limit = true }
    local s = sleeps(c, "get_certificate", CERT, 16)
    c:close()
    -- 15 intervals of 13.3 ms: 200 ms.
    assert.is_true(s[16] <= 201 and s[16] >= 50, table.concat(s, " "))
  end)

  it("a table sets an operation's rate (and turns the limiter on)", function()
    local c = client{ rate_limit = { issue_certificate = 2 } }
    local s = sleeps(c, "issue_certificate", ISSUE, 3)
    c:close()
    -- Two intervals of 500 ms.
    assert.is_true(s[3] <= 1000 and s[3] >= 850, table.concat(s, " "))
  end)

  -- Reading the table allocates: a finalizer run by that allocation may add
  -- keys to it (under ASan and valgrind in tests/run, a write past the
  -- reader's array is reported).
  it("a table that a finalizer fills while it is being read", function()
    local ops = { "get_certificate", "issue_certificate", "list_tags", "get_policy",
                  "delete_policy", "put_policy", "list_permissions", "revoke_certificate" }
    local ran = h.with_finalizers(2000, function() return { issue_certificate = 2 } end,
      function(t) for _, op in ipairs(ops) do t[op] = 1 end end,
      function(t)
        local c = client{ rate_limit = t }
        assert.are.equal(0, sleeps(c, "issue_certificate", ISSUE, 1)[1])
        c:close()
      end)
    assert.are.equal(2000, ran)
  end)
end)
