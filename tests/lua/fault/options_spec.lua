-- user_agent_suffix of acmpca.new as tests/fixtures/fault_server.py receives
-- it. The other options observed from outside: tests/lua/unit/options_spec.lua.
local h = require "helpers"

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"

describe("user_agent_suffix", function()
  it("is appended to the User-Agent the server receives", function()
    h.post("/_fault/reset", "")
    local c = h.client{ user_agent_suffix = "inventory-app/2.1 (lua spec)" }
    c:list_tags{ CertificateAuthorityArn = CA }
    c:close()
    c = h.client()
    c:list_tags{ CertificateAuthorityArn = CA }
    c:close()
    local seen = h.fault_requests()
    assert.are.equal(2, #seen)
    local with, without = seen[1].headers["user-agent"], seen[2].headers["user-agent"]
    assert.are.equal(without .. " inventory-app/2.1 (lua spec)", with)
    assert.matches("^acmpca", without)
  end)
end)


-- The proxy option: calls reach the fault server through
-- tests/fixtures/recording_proxy.py --forward.
local function through_proxy(proxy_expr)
  return h.list_tags_through_proxy(true, "NO_PROXY= no_proxy= http_proxy= HTTP_PROXY=",
    "endpoint_url = os.getenv('ACMPCA_TEST_ENDPOINT'), proxy = " .. proxy_expr, CA)
end

describe("proxy", function()
  it("as a string carries the call to the server through the proxy", function()
    h.post("/_fault/reset", "")
    local out, seen = through_proxy("os.getenv('ACMPCA_TEST_PROXY')")
    assert.matches("^true", out)
    assert.are.equal(1, #seen, out)
    assert.are.equal(("POST %s/ HTTP/1.1"):format(os.getenv("ACMPCA_TEST_ENDPOINT")),
                     seen[1].line)
    assert.are.equal(1, #h.fault_requests())
  end)

  it("as a table uses the entry for the endpoint's scheme", function()
    h.post("/_fault/reset", "")
    local out, seen = through_proxy("{ http = os.getenv('ACMPCA_TEST_PROXY'), " ..
                                    "https = 'http://127.0.0.1:1' }")
    assert.matches("^true", out)
    assert.are.equal(1, #seen, out)
    -- An https-only proxy leaves an http endpoint alone.
    out, seen = through_proxy("{ https = os.getenv('ACMPCA_TEST_PROXY') }")
    assert.matches("^true", out)
    assert.are.equal(0, #seen, out)
  end)
end)
