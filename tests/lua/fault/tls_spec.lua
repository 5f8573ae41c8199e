-- Which TLS servers the Lua client accepts, against the fault server's HTTPS
-- port presenting certificates made for the test (POST /_fault/tls): one for
-- another name is refused even when its CA is trusted (ca_bundle), and
-- verify_tls = false accepts any server. tests/c/test_policy.c checks the
-- same for the core; this checks that the binding passes the options through.
local h = require "helpers"

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"

local env = h.fault_env

-- The HTTPS port presents a certificate for `name` from a new test CA (nil: the
-- self-signed one again); returns the CA's path.
local function serve_certificate_for(name)
  h.post("/_fault/reset", "")
  if not name then return nil end
  local answer = h.post("/_fault/tls", ('{"names": ["%s"]}'):format(name))
  return assert(h.json_decode(answer).ca, answer)
end

local function received_count()
  return #h.fault_requests()
end

local function describe_ca(options)
  local config = { max_attempts = 3 }
  for k, v in pairs(options) do config[k] = v end
  config.endpoint_url = env("ACMPCA_TEST_FAULT_TLS_ENDPOINT")
  local c = h.client(config)
  local ok, out = pcall(c.describe_certificate_authority, c, { CertificateAuthorityArn = CA })
  c:close()
  return ok, out
end

describe("TLS (fault server with test certificates)", function()
  after_each(function() serve_certificate_for(nil) end)

  it("refuses a certificate for another name from a trusted CA", function()
    local ca = serve_certificate_for("127.0.0.1")
    local ok, out = describe_ca{ ca_bundle = ca }
    assert.is_true(ok, tostring(out))
    assert.are.equal(CA, out.CertificateAuthority.Arn)

    ca = serve_certificate_for("wrong.example")
    local err
    ok, err = describe_ca{ ca_bundle = ca }
    assert.is_false(ok)
    assert.are.equal("SSLError", err.code, tostring(err))
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
    assert.are.equal(0, received_count())
  end)

  it("verify_tls = false accepts any server", function()
    for _, name in ipairs{ "wrong.example", false } do
      serve_certificate_for(name or nil)
      local ok, err = describe_ca{}
      assert.is_false(ok)
      assert.are.equal("SSLError", err.code, tostring(err))
      local out
      ok, out = describe_ca{ verify_tls = false }
      assert.is_true(ok, tostring(out))
      assert.are.equal(CA, out.CertificateAuthority.Arn)
      assert.are.equal(1, received_count())
    end
  end)
end)
