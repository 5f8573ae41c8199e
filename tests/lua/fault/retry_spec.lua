-- Retries seen from Lua, against tests/fixtures/fault_server.py (scripted
-- answers): meta.retry_attempts on success, err.attempts / err.retryable on
-- failure, and max_attempts passed through from acmpca.new.
local h = require "helpers"

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"

local function script(actions)
  h.post("/_fault/script", '{"reset": true, "actions": ' .. actions .. "}")
end

describe("retries (fault server)", function()
  it("a call that succeeds after two 500s reports retry_attempts = 2", function()
    script('[{"action": "server_error", "repeat": 2}, {"action": "ok"}]')
    local c = h.client{ max_attempts = 3 }
    local out, meta = c:describe_certificate_authority{ CertificateAuthorityArn = CA }
    assert.is_table(out)
    assert.are.equal(200, meta.status)
    assert.are.equal(2, meta.retry_attempts)
    c:close()
  end)

  it("max_attempts bounds the attempts of a throttled call", function()
    script('[{"action": "throttle", "repeat": 5}]')
    local c = h.client{ max_attempts = 2 }
    local err = h.raises_code("ThrottlingException", c.list_tags, c,
                              { CertificateAuthorityArn = CA })
    assert.are.equal(2, err.attempts)
    assert.is_true(err.retryable)
    assert.are.equal(400, err.status)
    c:close()
  end)

  it("a non-retryable error is not retried", function()
    script('[{"action": "error", "code": "InvalidArnException", "message": "bad"},' ..
           ' {"action": "ok"}]')
    local c = h.client{ max_attempts = 3 }
    local err = h.raises_code("InvalidArnException", c.list_tags, c,
                              { CertificateAuthorityArn = CA })
    assert.are.equal(1, err.attempts)
    assert.is_false(err.retryable)
    c:close()
  end)

  it("a connection reset is a retryable network error", function()
    script('[{"action": "reset_before", "repeat": 5}]')
    local c = h.client{ max_attempts = 2 }
    local err = h.raises(c.list_tags, c, { CertificateAuthorityArn = CA })
    assert.are.equal(2, err.attempts)
    assert.is_true(err.retryable)
    assert.is_nil(err.status)
    c:close()
  end)
end)
