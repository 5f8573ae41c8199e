-- The call machine from Lua (c:machine, c:waiter_machine, pages:machine,
-- c:request_certificate_machine): the steps a driver such as resty.acmpca
-- sees, driven here by hand with no I/O.
-- Outcomes come back as values ("failed", err), never raised.
local h = require "helpers"
local acmpca = h.acmpca

local ARN = h.CA_ARN
local CERT = { CertificateAuthorityArn = ARN, CertificateArn = ARN .. "/certificate/abc" }
local JSON_HEADERS = { ["Content-Type"] = "application/x-amz-json-1.1",
                       ["x-amzn-RequestId"] = "req-1" }

local function client(extra)
  local config = { region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
                   credentials = h.CREDS, max_attempts = 3 }
  for k, v in pairs(extra or {}) do config[k] = v end
  return acmpca.new(config)
end

describe("c:machine", function()
  it("says what to send: the signed request, where, and its bounds", function()
    local c = client{ connect_timeout = 2, read_timeout = 3, total_timeout = 9 }
    local m = c:machine("get_certificate", CERT)
    local kind, s = m:next()
    assert.are.equal("send", kind)
    assert.are.equal("POST", s.method)
    assert.are.equal("http", s.scheme)
    assert.are.equal("127.0.0.1", s.host)
    assert.are.equal(1, s.port)
    assert.are.equal("/", s.path)
    assert.are.equal("ACMPrivateCA.GetCertificate", s.headers["X-Amz-Target"])
    assert.matches("^AWS4%-HMAC%-SHA256 ", s.headers.Authorization)
    assert.matches('"CertificateArn":"' .. ARN:gsub("%p", "%%%0") .. '/certificate/abc"', s.body)
    assert.are.equal(2000, s.connect_timeout_ms)
    assert.are.equal(3000, s.read_timeout_ms)
    assert.is_true(s.deadline_ms > 8000 and s.deadline_ms <= 9000)
    assert.are.equal(16777216, s.max_response_bytes)
    assert.is_false(s.insecure_skip_tls_verify)
    assert.are.equal(1, s.attempt)
    assert.is_false(s.credentials)
  end)

  it("returns the result and meta when the answer is reported", function()
    local m = client():machine("GetCertificate", CERT)
    assert.are.equal("send", (m:next()))
    m:response(200, JSON_HEADERS, '{"Certificate":"C","CertificateChain":"D"}')
    local kind, res, meta = m:next()
    assert.are.equal("done", kind)
    assert.are.same({ Certificate = "C", CertificateChain = "D" }, res)
    assert.are.equal(200, meta.status)
    assert.are.equal("req-1", meta.request_id)
    assert.are.equal(0, meta.retry_attempts)
  end)

  it("decides retries: a transport error is followed by a back-off sleep and a second send", function()
    local m = client():machine("get_certificate", CERT)
    m:next()
    m:transport_error("network", nil, "reset by the test")
    local kind, ms, reason = m:next()
    assert.are.equal("sleep", kind)
    assert.is_true(ms >= 1)
    assert.are.equal("backoff", reason)
    local s
    kind, s = m:next()
    assert.are.equal("send", kind)
    assert.are.equal(2, s.attempt)
    m:response(200, JSON_HEADERS, '{"Certificate":"C"}')
    local _, _, meta = m:next()
    assert.are.equal(1, meta.retry_attempts)
  end)

  it("returns a failure as an error object instead of raising it", function()
    local m = client{ max_attempts = 1 }:machine("get_certificate", CERT)
    m:next()
    m:transport_error("tls", nil, "bad certificate")
    local kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal(acmpca.Error, getmetatable(err))
    assert.are.equal("SSLError", err.code)
    assert.are.equal("SSLError", err.class)
    assert.are.equal(1, err.attempts)
    assert.matches("bad certificate", err.message)
    assert.matches("^SSLError: ", tostring(err))
  end)

  it("gives a service error the fields a blocking call raises", function()
    local m = client():machine("get_certificate", CERT)
    m:next()
    m:response(400, JSON_HEADERS, '{"__type":"ResourceNotFoundException","message":"gone"}')
    local kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal("ResourceNotFoundException", err.code)
    assert.are.equal("ClientError", err.class)
    assert.are.equal(400, err.status)
    assert.are.equal("req-1", err.request_id)
    assert.are.equal("GetCertificate", err.operation)
    assert.is_false(err.retryable)
  end)

  it("raises ParamValidationError for bad params before any step", function()
    local err = h.raises_code("ParamValidationError", client().machine, client(),
                              "issue_certificate", { Validity = { Value = "soon" } })
    assert.matches("Validity.Value", err.message)
    h.raises_code("ParamValidationError", client().machine, client(), "no_such_operation", {})
  end)

  it("refuses an unknown transport error kind and an answer nobody asked for", function()
    local m = client():machine("get_certificate", CERT)
    local err = h.raises_code("ParamValidationError", m.transport_error, m, "gremlins")
    assert.matches("connect, connect_timeout, read_timeout, tls, network, too_large", err.message)
    h.raises_code("ParamValidationError", m.response, m, 200, {}, "{}")
  end)

  it("fails with ClientClosedError once its client is closed", function()
    local c = client()
    local m = c:machine("get_certificate", CERT)
    m:next()
    c:close()
    m:response(200, JSON_HEADERS, "{}")   -- ignored: nothing to answer to
    local kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal("ClientClosedError", err.code)
  end)

  it("closes idempotently", function()
    local m = client():machine("get_certificate", CERT)
    m:close()
    m:close()
    local kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal("ClientClosedError", err.code)
    assert.matches("closed", tostring(m))
  end)
end)

describe("c:waiter_machine", function()
  it("polls, sleeps the waiter's delay between polls, and gives up with a WaiterError", function()
    local m = client():waiter_machine("certificate_issued", CERT,
                                      { delay = 0.25, max_attempts = 2 })
    assert.are.equal("send", (m:next()))
    m:response(400, JSON_HEADERS, '{"__type":"RequestInProgressException","message":"wait"}')
    local kind, ms, reason, waiter = m:next()
    assert.are.equal("sleep", kind)
    assert.are.equal(250, ms)
    assert.are.equal("waiter", reason)
    assert.are.equal("CertificateIssued", waiter)
    assert.are.equal("send", (m:next()))
    m:response(400, JSON_HEADERS, '{"__type":"RequestInProgressException","message":"wait"}')
    local err
    kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal("WaiterError", err.code)
    assert.are.equal("max_attempts", err.waiter_state)
  end)

  it("returns the last response when an acceptor matches", function()
    local m = client():waiter_machine("certificate_issued", CERT)
    m:next()
    m:response(200, JSON_HEADERS, '{"Certificate":"C"}')
    local kind, res = m:next()
    assert.are.equal("done", kind)
    assert.are.equal("C", res.Certificate)
  end)

  it("refuses an unknown waiter", function()
    local err = h.raises_code("ParamValidationError", client().waiter_machine, client(),
                              "certificate_printed", CERT)
    assert.matches("certificate_issued", err.message)
  end)
end)

describe("pages:machine", function()
  it("runs one page per machine, sends the token, and ends with a nil page", function()
    local pages = client():paginate("list_certificate_authorities", {})
    local m = pages:machine()
    local kind, s = m:next()
    assert.are.equal("send", kind)
    assert.are.equal("{}", s.body)
    m:response(200, JSON_HEADERS, '{"CertificateAuthorities":[{"Arn":"a"}],"NextToken":"t1"}')
    local page
    kind, page = m:next()
    assert.are.equal("done", kind)
    assert.are.equal("a", page.CertificateAuthorities[1].Arn)

    m = pages:machine()
    kind, s = m:next()
    assert.are.equal('{"NextToken":"t1"}', s.body)
    m:response(200, JSON_HEADERS, '{"CertificateAuthorities":[{"Arn":"b"}]}')
    kind, page = m:next()
    assert.are.equal("b", page.CertificateAuthorities[1].Arn)

    kind, page = pages:machine():next()
    assert.are.equal("done", kind)
    assert.is_nil(page)
  end)

  it("fails with ClientClosedError once the paginator is closed", function()
    local pages = client():paginate("list_certificate_authorities", {})
    local m = pages:machine()
    pages:close()
    local kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal("ClientClosedError", err.code)
    h.raises_code("ClientClosedError", pages.machine, pages)
  end)
end)

describe("c:request_certificate_machine", function()
  local function target(s) return s.headers["X-Amz-Target"] end

  it("runs describe, issue and the waiter's polls as the steps of one machine", function()
    local m = client():request_certificate_machine(ARN, { common_name = "m.example",
                                                          wait_delay = 0.25 })
    local kind, s = m:next()
    assert.are.equal("send", kind)
    assert.are.equal("ACMPrivateCA.DescribeCertificateAuthority", target(s))
    m:response(200, JSON_HEADERS, '{"CertificateAuthority":{"CertificateAuthorityConfiguration"'
                                  .. ':{"SigningAlgorithm":"SHA512WITHECDSA"}}}')
    kind, s = m:next()
    assert.are.equal("ACMPrivateCA.IssueCertificate", target(s))
    assert.matches('"SigningAlgorithm":"SHA512WITHECDSA"', s.body)
    local token = s.body:match('"IdempotencyToken":"([^"]+)"')
    assert.is_truthy(token)
    m:transport_error("network", nil, "reset by the test")
    assert.are.equal("backoff", select(3, m:next()))
    kind, s = m:next()
    assert.are.equal(2, s.attempt)
    assert.are.equal(token, s.body:match('"IdempotencyToken":"([^"]+)"'))
    m:response(200, JSON_HEADERS, '{"CertificateArn":"' .. ARN .. '/certificate/77"}')
    kind, s = m:next()
    assert.are.equal("ACMPrivateCA.GetCertificate", target(s))
    m:response(400, JSON_HEADERS, '{"__type":"RequestInProgressException","message":"later"}')
    local ms, reason, waiter
    kind, ms, reason, waiter = m:next()
    assert.are.same({ "sleep", 250, "waiter", "CertificateIssued" }, { kind, ms, reason, waiter })
    m:next()
    m:response(200, JSON_HEADERS, '{"Certificate":"CERT","CertificateChain":"CHAIN"}')
    local res
    kind, res = m:next()
    assert.are.equal("done", kind)
    assert.are.equal(ARN .. "/certificate/77", res.CertificateArn)
    assert.are.equal("CERT", res.Certificate)
    assert.are.equal("CHAIN", res.CertificateChain)
    assert.matches("^%-%-%-%-%-BEGIN PRIVATE KEY", res.PrivateKey)
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE REQUEST", res.Csr)
  end)

  it("starts with IssueCertificate when given the algorithm; fails as its sub-call", function()
    local m = client{ max_attempts = 1 }:request_certificate_machine(ARN, {
      dns_names = { "m.example" }, signing_algorithm = "SHA256WITHECDSA" })
    local kind, s = m:next()
    assert.are.equal("ACMPrivateCA.IssueCertificate", target(s))
    m:response(400, JSON_HEADERS, '{"__type":"LimitExceededException","message":"quota"}')
    local err
    kind, err = m:next()
    assert.are.equal("failed", kind)
    assert.are.equal("LimitExceededException", err.code)
    assert.are.equal("IssueCertificate", err.operation)
  end)

  it("raises for bad options before any step, as c:request_certificate does", function()
    local err = h.raises_code("ParamValidationError", client().request_certificate_machine,
                              client(), ARN, { common_name = "x", colour = "blue" })
    assert.matches("options%.colour", err.message)
    err = h.raises_code("ParamValidationError", client().request_certificate_machine,
                        client(), ARN, { common_name = "x", template_arn = "bad" })
    assert.matches("TemplateArn", err.message)
  end)
end)
