-- The shared table of failures (tests/fixtures/error_classes.json), asserted
-- from Lua; tests/python/test_error_classes.py asserts the same rows from
-- Python. Each scenario is made to happen against the fault server, and the
-- error object must carry the row's class (err.class) and code.
local h = require "helpers"
local acmpca = h.acmpca

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
local DESCRIBE = { CertificateAuthorityArn = CA }
local GET = { CertificateAuthorityArn = CA, CertificateArn = CA .. "/certificate/01" }

local env = h.fault_env

local script = h.fault_script

local function client(extra, endpoint)
  return h.new_client({ region = "us-east-1", endpoint_url = endpoint or h.endpoint,
                        max_attempts = 1,
                        credentials = { access_key_id = "AKIDCLASSES", secret_access_key = "s" } },
                      extra)
end

-- acmpca.new{<fields> credentials} in a clean child: the class and code it raised.
local function new_in_child(fields)
  local got = h.child({}, ([[
    local ok, err = pcall(acmpca.new, { %s
      credentials = { access_key_id = "A", secret_access_key = "s" } })
    emit("class", err.class)
    emit("code", err.code)
  ]]):format(fields))
  return { class = got.class, code = got.code }
end

-- How each scenario happens from Lua; returns the error object it raised.
local scenarios = {
  ["invalid-input"] = function()
    return h.raises(function() client():describe_certificate_authority{ Bogus = 1 } end)
  end,
  ["unknown-retry-mode"] = function()
    return h.raises(function() client{ retry_mode = "fast" } end)
  end,
  ["connection-refused"] = function()
    local c = client({}, env("ACMPCA_TEST_FAULT_REFUSED_ENDPOINT"))
    return h.raises(function() c:describe_certificate_authority(DESCRIBE) end)
  end,
  ["read-timeout"] = function()
    script('[{"action":"stall","seconds":5}]')
    local c = client{ read_timeout = 0.3 }
    return h.raises(function() c:describe_certificate_authority(DESCRIBE) end)
  end,
  ["tls-untrusted"] = function()
    local c = client({}, env("ACMPCA_TEST_FAULT_TLS_ENDPOINT"))
    return h.raises(function() c:describe_certificate_authority(DESCRIBE) end)
  end,
  ["connection-reset"] = function()
    script('[{"action":"reset_before"}]')
    return h.raises(function() client():describe_certificate_authority(DESCRIBE) end)
  end,
  ["invalid-json"] = function()
    script('[{"action":"invalid_json"}]')
    return h.raises(function() client():describe_certificate_authority(DESCRIBE) end)
  end,
  ["body-over-cap"] = function()
    script('[{"action":"big_body","size":4096}]')
    local c = client{ max_response_bytes = 1024 }
    return h.raises(function() c:describe_certificate_authority(DESCRIBE) end)
  end,
  ["service-error"] = function()
    script('[{"action":"error","code":"ResourceNotFoundException"}]')
    return h.raises(function() client():describe_certificate_authority(DESCRIBE) end)
  end,
  ["unmodelled-service-error"] = function()
    script('[{"action":"error","code":"SomethingNewException"}]')
    return h.raises(function() client():describe_certificate_authority(DESCRIBE) end)
  end,
  ["waiter-gave-up"] = function()
    script('[{"action":"error","code":"RequestInProgressException","repeat":2}]')
    local c = client()
    return h.raises(function()
      c:wait("certificate_issued", GET, { delay = 0.01, max_attempts = 2 })
    end)
  end,
  ["no-credentials"] = function()
    -- Credentials resolve in a child with no source at all.
    local got = h.child({ AWS_ACCESS_KEY_ID = false, AWS_SECRET_ACCESS_KEY = false }, [[
      local c = acmpca.new{ region = "us-east-1", endpoint_url = os.getenv("ACMPCA_TEST_ENDPOINT") }
      local ok, err = pcall(c.describe_certificate_authority, c,
                            { CertificateAuthorityArn = "arn:aws:acm-pca:us-east-1:1:ca/x" })
      emit("class", err.class)
      emit("code", err.code)
    ]])
    return { class = got.class, code = got.code }
  end,
  -- In a child with no region and no endpoint anywhere (environment, config file).
  ["no-region"] = function() return new_in_child("") end,
  ["invalid-region"] = function() return new_in_child('region = "us east 1", ') end,
  ["profile-not-found"] = function()
    return h.raises(function() client{ profile = "ghost" } end)
  end,
}

describe("the shared table of error classes", function()
  local doc = h.json_decode(h.read(os.getenv("ACMPCA_SOURCE_DIR") .. "/tests/fixtures/error_classes.json"))
  local seen = 0
  for _, row in ipairs(doc.rows) do
    it(row.scenario .. " is " .. row.class, function()
      local make = scenarios[row.scenario]
      assert.is_function(make, "no Lua scenario for " .. row.scenario)
      local err = make()
      assert.are.equal(row.class, err.class)
      assert.are.equal(row.code or row.class, err.code)
      if getmetatable(err) == acmpca.Error then -- the child's error is a plain table
        local _, said = tostring(err):gsub("gave up", "")
        assert.is_true(said <= 1, tostring(err)) -- the attempt count is said once at most
      end
      seen = seen + 1
    end)
  end
  it("covers every scenario it knows", function()
    local n = 0
    for _ in pairs(scenarios) do n = n + 1 end
    assert.are.equal(#doc.rows, n)
  end)
end)
