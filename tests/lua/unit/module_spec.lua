-- The module surface, client configuration, close / __gc / <close>.
-- No server: clients point at a closed port.
local h = require "helpers"
local acmpca = h.acmpca

local SNAKE = {
  "create_certificate_authority", "create_certificate_authority_audit_report",
  "create_permission", "delete_certificate_authority", "delete_permission", "delete_policy",
  "describe_certificate_authority", "describe_certificate_authority_audit_report",
  "get_certificate", "get_certificate_authority_certificate", "get_certificate_authority_csr",
  "get_policy", "import_certificate_authority_certificate", "issue_certificate",
  "list_certificate_authorities", "list_permissions", "list_tags", "put_policy",
  "restore_certificate_authority", "revoke_certificate", "tag_certificate_authority",
  "untag_certificate_authority", "update_certificate_authority",
}

describe("the acmpca module", function()
  it("has a version and the public functions", function()
    assert.are.equal("0.1.0", acmpca.version)
    for _, name in ipairs{ "new", "build_request", "parse_response", "sign", "generate_key",
                           "make_csr", "normalize_csr", "normalize_serial",
                           "parse_certificate" } do
      assert.are.equal("function", type(acmpca[name]), name)
    end
    assert.are.equal("table", type(acmpca.Error))
  end)

  it("lists the 23 operations and gives clients a method for each", function()
    assert.are.same(SNAKE, acmpca.operations)
    local c = h.offline_client()
    for _, name in ipairs(SNAKE) do
      assert.are.equal("function", type(c[name]), name)
    end
    assert.is_nil(c.no_such_operation)
    c:close()
  end)

  it("lists the waiters", function()
    table.sort(acmpca.waiters)
    assert.are.same({ "audit_report_created", "certificate_authority_csr_created",
                      "certificate_issued" }, acmpca.waiters)
  end)

  it("lists every error code, and refuses a misspelt one", function()
    local e = acmpca.errors
    for _, code in ipairs{
      "ParamValidationError", "ClientClosedError", "ServiceError", "NoCredentialsError",
      "EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "SSLError",
      "ResponseParserError", "WaiterError", "InvalidConfigError", "CredentialRetrievalError",
      "ConnectionClosedError", "MemoryError", "GeneralError", "CryptoError",
      "NoRegionError", "InvalidRegionError", "ProfileNotFound",
      "CertificateMismatchException",
      "ConcurrentModificationException", "InvalidArgsException", "InvalidArnException",
      "InvalidNextTokenException", "InvalidPolicyException", "InvalidRequestException",
      "InvalidStateException", "InvalidTagException", "LimitExceededException",
      "LockoutPreventedException", "MalformedCSRException", "MalformedCertificateException",
      "PermissionAlreadyExistsException", "RequestAlreadyProcessedException",
      "RequestFailedException", "RequestInProgressException", "ResourceNotFoundException",
      "TooManyTagsException", "AccessDeniedException", "ThrottlingException",
      "ValidationException" } do
      assert.are.equal(code, e[code])
    end
    local n = 0
    for k, v in pairs(e) do
      assert.are.equal(k, v)
      n = n + 1
    end
    assert.are.equal(41, n)
    assert.has_error(function() return e.ResourceNotFound end)
  end)

  it("error objects print as 'Code: message'", function()
    local err = h.raises_code("ParamValidationError", acmpca.new, { bogus = 1 })
    assert.are.equal("ParamValidationError: " .. err.message, tostring(err))
    assert.are.equal(acmpca.Error, getmetatable(err))
    assert.is_false(err.retryable)
    assert.are.equal(0, err.attempts)
    assert.is_nil(err.status)
    assert.is_nil(err.request_id)
  end)
end)

describe("acmpca.new", function()
  it("takes the documented options", function()
    local c = acmpca.new{
      region = "eu-west-1", endpoint_url = h.CLOSED_PORT_URL,
      credentials = { access_key_id = "AK", secret_access_key = "SK", session_token = "TOK" },
      connect_timeout = 1.5, read_timeout = 30, max_attempts = 2,
    }
    assert.are.equal(h.CLOSED_PORT_URL, c:endpoint())
    assert.are.equal("eu-west-1", c:region())
    assert.matches("^acmpca.Client %(http://127.0.0.1:1%)$", tostring(c))
    c:close()
  end)

  it("resolves the region and endpoint for AWS when only a region is given", function()
    local c = acmpca.new{ region = "eu-central-1", credentials = h.CREDS }
    assert.are.equal("https://acm-pca.eu-central-1.amazonaws.com", c:endpoint())
    c:close()
  end)

  local bad = {
    { { regio = "x" }, "config.regio: unknown option; expected one of: region, endpoint_url" },
    { { region = 1 }, "config.region: expected a string, got number" },
    { { connect_timeout = "5" }, "config.connect_timeout: expected a number, got string" },
    { { read_timeout = -1 }, "config.read_timeout: -1 is out of range" },
    { { max_attempts = 1.5 }, "config.max_attempts: expected an integer, got 1.5" },
    { { max_attempts = 0 }, "config.max_attempts: 0 is out of range" },
    { { verify_tls = "yes" }, "config.verify_tls: expected a boolean, got string" },
    { { max_response_bytes = 0 }, "config.max_response_bytes: 0 is out of range" },
    { { max_response_bytes = 10.5 }, "config.max_response_bytes: expected an integer, got 10.5" },
    { { idempotency_tokens = 0 }, "config.idempotency_tokens: expected a boolean, got number" },
    { { credentials = "AK:SK" }, "config.credentials: expected a table, got string" },
    { { credentials = { access_key_id = "AK" } },
      "config.credentials.secret_access_key: missing required option" },
    { { credentials = { access_key_id = "AK", secret_access_key = "SK", token = "T" } },
      "config.credentials.token: unknown option" },
    { { region = "us-east-1\0x" }, "config.region: contains a NUL byte" },
    { { [1] = "us-east-1" }, "config: expected string keys, got a number key" },
  }
  for _, case in ipairs(bad) do
    it("refuses " .. case[2]:match("^[^:]+"), function()
      local err = h.raises_code("ParamValidationError", acmpca.new, case[1])
      assert.truthy(err.message:find(case[2], 1, true), "message: " .. err.message)
    end)
  end

  it("takes max_response_bytes and idempotency_tokens", function()
    local c = acmpca.new{ region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL,
                          credentials = h.CREDS, max_response_bytes = 1024,
                          idempotency_tokens = false }
    assert.are.equal("us-east-1", c:region())
    c:close()
  end)

  it("takes the retry modes the core takes, \"legacy\" too, and lets the core refuse others",
     function()
    for _, mode in ipairs{ "standard", "adaptive", "legacy" } do
      local c = acmpca.new{ region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL,
                            credentials = h.CREDS, retry_mode = mode }
      assert.are.equal("us-east-1", c:region())
      c:close()
    end
    local err = h.raises_code("InvalidConfigError", acmpca.new,
                              { region = "us-east-1", credentials = h.CREDS, retry_mode = "eager" })
    assert.matches('retry_mode option="eager" is not valid', err.message, 1, true)
  end)

  it("refuses a config that is not a table", function()
    local err = h.raises_code("ParamValidationError", acmpca.new, "us-east-1")
    assert.are.equal("config: expected a table, got string", err.message)
  end)

  it("reports a missing profile from the core as ProfileNotFound", function()
    local err = h.raises_code("ProfileNotFound", acmpca.new,
                              { profile = "nothere", credentials = h.CREDS })
    assert.matches('profile "nothere" not found', err.message)
  end)

  it("names the bad region and the missing profile in err.subject, as data", function()
    local err = h.raises_code("InvalidRegionError", acmpca.new,
                              { region = "not a region!", credentials = h.CREDS })
    assert.are.equal("not a region!", err.subject)
    err = h.raises_code("ProfileNotFound", acmpca.new,
                        { profile = "no such profile", credentials = h.CREDS })
    assert.are.equal("no such profile", err.subject)
    err = h.raises_code("InvalidConfigError", acmpca.new,
                        { retry_mode = "eager", credentials = h.CREDS })
    assert.is_nil(err.subject)
  end)
end)

describe("closing a client", function()
  it("is idempotent, and a closed client raises ClientClosedError", function()
    local c = h.offline_client()
    c:close()
    c:close()
    assert.matches("closed", tostring(c))
    local err = h.raises_code("ClientClosedError", c.list_certificate_authorities, c, {})
    assert.are.equal("ListCertificateAuthorities", err.operation)
    h.raises_code("ClientClosedError", c.wait, c, "certificate_issued", {})
    h.raises_code("ClientClosedError", c.paginate, c, "list_tags", {})
    h.raises_code("ClientClosedError", c.build_request, c, "list_tags", {})
    h.raises_code("ClientClosedError", acmpca.build_request, c, "list_tags", {})
    h.raises_code("ClientClosedError", c.endpoint, c)
  end)

  it("stops a paginator made before the close", function()
    local c = h.offline_client()
    local pages = c:paginate("list_certificate_authorities", {})
    c:close()
    h.raises_code("ClientClosedError", pages)
  end)

  local CERT = { CertificateAuthorityArn = h.CA_ARN, CertificateArn = h.CA_ARN .. "/certificate/x" }

  -- pcall(f, ...) with an ngx.get_phase that runs `meanwhile`: the blocking
  -- methods ask it (to warn inside nginx) before they read their arguments.
  local function with_get_phase(meanwhile, f, ...)
    local saved = rawget(_G, "ngx")
    _G.ngx = { get_phase = function() meanwhile(); return "init" end }
    local ok, err = pcall(f, ...)
    _G.ngx = saved
    return ok, err
  end

  it("closed while a blocking method runs Lua code, the method refuses", function()
    local methods = {
      function(c) return c:get_certificate(CERT) end,
      function(c) return c:wait("certificate_issued", CERT) end,
      function(c) return c:request_certificate(h.CA_ARN, { key_type = "EC_prime256v1" }) end,
    }
    for _, method in ipairs(methods) do
      local c = h.offline_client()
      local ok, err = with_get_phase(function() c:close() end, method, c)
      assert.is_false(ok)
      assert.are.equal("ClientClosedError", err.code, tostring(err))
    end
  end)

  it("a blocking method reads its arguments after the Lua code it runs", function()
    local c = h.offline_client()
    local function fresh(s) return s .. tostring(os.time()) end  -- not interned by the chunk
    for _, method in ipairs{ c.get_certificate, function(_, t) return c:wait("certificate_issued", t) end } do
      local params = { CertificateAuthorityArn = fresh(h.CA_ARN),
                       CertificateArn = fresh(h.CA_ARN .. "/certificate/") }
      local ok, err = with_get_phase(function()
        params.CertificateArn = nil
        collectgarbage()
        collectgarbage()
      end, method, c, params)
      assert.is_false(ok)
      assert.are.equal("ParamValidationError", err.code, tostring(err))
      assert.matches("CertificateArn: missing required parameter", err.message, 1, true)
    end
    local options = { csr = fresh("not a CSR ") }
    local ok, err = with_get_phase(function() options.csr = nil; collectgarbage() end,
                                   c.request_certificate, c, h.CA_ARN, options)
    -- No CSR given any more: one would be made, for a subject the options lack.
    assert.is_false(ok)
    assert.matches("subject: give a common_name", tostring(err), 1, true)
    c:close()
  end)

  -- Lua allocates while a method converts its arguments, builds its result or
  -- drives its machine, and an allocation may run a finalizer that closes the
  -- client: the method then refuses (ClientClosedError) or goes on with the
  -- core client its machine holds, and never touches freed memory (ASan and
  -- valgrind in tests/run report it).
  it("closed by a finalizer in the middle of a method", function()
    local methods = {
      function(c) return c:get_certificate(CERT) end,
      function(c) local m = c:machine("get_certificate", CERT); return m:next() end,
      function(c) return c:build_request("get_certificate", CERT) end,
      function(c) return acmpca.build_request(c, "get_certificate", CERT) end,
      function(c) return c:waiter_machine("certificate_issued", CERT):next() end,
      function(c) return c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })() end,
    }
    for _, method in ipairs(methods) do
      local ran = h.with_finalizers(600, h.offline_client, function(c) c:close() end,
        function(c)
          local ok, err = pcall(method, c)
          local outcome = ok and "ok" or (type(err) == "table" and err.code) or tostring(err)
          assert.is_truthy(outcome == "ok" or outcome == "ClientClosedError" or
                           outcome == "EndpointConnectionError", outcome)
        end)
      assert.are.equal(600, ran)
    end
  end)

  it("frees clients nobody references (__gc)", function()
    local weak = setmetatable({}, { __mode = "k" })
    for _ = 1, 200 do
      weak[h.offline_client()] = true
    end
    local closed = h.offline_client()
    closed:close()
    weak[closed] = true
    closed = nil
    collectgarbage()
    collectgarbage()
    assert.is_nil(next(weak))
  end)

  it("metamethods called by hand with the wrong object do nothing", function()
    local c = h.offline_client()
    local mt = getmetatable(c)
    mt.__gc(42)
    mt.__gc({})
    if mt.__close then mt.__close("x") end
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    pages.close()
    pages.close("x")
    assert.matches("127.0.0.1", tostring(c))  -- still open
    c:close()
  end)

  it("a closed paginator yields no more pages", function()
    local c = h.offline_client()
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    pages:close()
    pages:close()
    assert.is_nil(pages())
    assert.is_nil(pages.resume_token)
    assert.are.equal("list_tags", pages.operation)
    c:close()
  end)

  it("a paginator keeps its client alive", function()
    local pages = h.offline_client():paginate("list_tags", { CertificateAuthorityArn = h.CA_ARN })
    collectgarbage()
    collectgarbage()
    -- the client is still open: the call gets as far as the network
    h.raises_code("EndpointConnectionError", pages)
  end)

  it("calling a method with '.' names the mistake", function()
    local c = h.offline_client()
    local err = h.raises_code("ParamValidationError", c.list_tags, { CertificateAuthorityArn = "x" })
    assert.matches("^self: expected an acmpca client", err.message)
    c:close()
  end)

  if h.is54 then
    it("closes on leaving a <close> scope (5.4)", function()
      local chunk = assert(load([[
        local acmpca, h = ...
        local kept
        do
          local c <close> = h.offline_client()
          kept = c
          assert(tostring(c):find("127.0.0.1", 1, true))
        end
        return kept
      ]]))
      local c = chunk(acmpca, h)
      assert.matches("closed", tostring(c))
      h.raises_code("ClientClosedError", c.list_tags, c, {})
    end)

    it("closes a <close> client even when the scope raises (5.4)", function()
      local chunk = assert(load([[
        local acmpca, h, box = ...
        local c <close> = h.offline_client()
        box.c = c
        error("boom")
      ]]))
      local box = {}
      assert.has_error(function() chunk(acmpca, h, box) end)
      assert.matches("closed", tostring(box.c))
    end)
  end
end)

describe("c:credentials_source()", function()
  it("names explicit keys \"static\": the name only, no keys, no I/O", function()
    local c = acmpca.new{ region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL,
      credentials = { access_key_id = "AKIDUNIT", secret_access_key = "SECRETUNIT",
                      session_token = "TOKENUNIT" } }
    local function pack(...) return { n = select("#", ...), ... } end
    local r = pack(c:credentials_source())
    assert.are.equal(2, r.n)
    assert.are.equal("static", r[1])
    assert.is_nil(r[2])  -- never expires
    c:close()
  end)

  it("raises NoCredentialsError listing every source tried when there are none", function()
    -- tests/lua/run.sh leaves no AWS_* credentials, no files and IMDS off.
    local c = acmpca.new{ region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL }
    local err = h.raises_code("NoCredentialsError", c.credentials_source, c)
    assert.matches("^no credentials found; tried: environment %(AWS_ACCESS_KEY_ID not set%)",
                   err.message)
    assert.truthy(err.message:find("imds (AWS_EC2_METADATA_DISABLED=true)", 1, true))
    assert.is_nil(err.operation)
    -- A call fails the same way, before any I/O.
    local err2 = h.raises_code("NoCredentialsError", c.list_certificate_authorities, c)
    assert.are.equal(err.message, err2.message)
    assert.are.equal("ListCertificateAuthorities", err2.operation)
    c:close()
  end)

  it("refuses a closed client and a non-client", function()
    local c = h.offline_client()
    c:close()
    h.raises_code("ClientClosedError", c.credentials_source, c)
    h.raises_code("ParamValidationError", c.credentials_source, {})
  end)
end)
