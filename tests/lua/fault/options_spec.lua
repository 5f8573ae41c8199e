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
    local seen = h.json_decode(h.get("/_fault/requests")).requests
    assert.are.equal(2, #seen)
    local with, without = seen[1].headers["user-agent"], seen[2].headers["user-agent"]
    assert.are.equal(without .. " inventory-app/2.1 (lua spec)", with)
    assert.matches("^acmpca", without)
  end)
end)

