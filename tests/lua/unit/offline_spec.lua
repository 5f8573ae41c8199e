-- acmpca.build_request / acmpca.parse_response / acmpca.sign: the pieces that
-- do no I/O (for OpenResty), and the model-driven conversions they show.
local h = require "helpers"
local acmpca = h.acmpca

local CONFIG = { region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
                 credentials = { access_key_id = "AKIDEXAMPLE",
                                 secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" } }
local ARN = h.CA_ARN
local PEM = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"

local function b64(s)
  -- encode with the shell to stay independent of the code under test
  local out = h.sh("printf %s " .. h.shell_quote(s) .. " | base64 -w0")
  return out
end

describe("acmpca.build_request", function()
  it("returns a signed request ready for any HTTP stack", function()
    local req = acmpca.build_request(CONFIG, "list_tags", { CertificateAuthorityArn = ARN })
    assert.are.equal("POST", req.method)
    assert.are.equal("http://127.0.0.1:1/", req.url)
    assert.are.equal("http", req.scheme)
    assert.are.equal("127.0.0.1", req.host)
    assert.are.equal(1, req.port)
    assert.are.equal("/", req.path)
    assert.are.equal("application/x-amz-json-1.1", req.headers["Content-Type"])
    assert.are.equal("ACMPrivateCA.ListTags", req.headers["X-Amz-Target"])
    assert.are.equal("127.0.0.1:1", req.headers.Host)
    assert.matches("^%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ$", req.headers["X-Amz-Date"])
    assert.matches("^AWS4%-HMAC%-SHA256 Credential=AKIDEXAMPLE/%d+/us%-east%-1/acm%-pca/aws4_request, " ..
                   "SignedHeaders=content%-type;host;x%-amz%-date;x%-amz%-target, Signature=%x+$",
                   req.headers.Authorization)
    assert.are.equal('{"CertificateAuthorityArn":"' .. ARN .. '"}', req.body)
  end)

  it("signs exactly as acmpca.sign does", function()
    local req = acmpca.build_request(CONFIG, "ListTags", { CertificateAuthorityArn = ARN })
    local signed = acmpca.sign{
      method = "POST", url = req.url, body = req.body, region = "us-east-1", service = "acm-pca",
      headers = { ["Content-Type"] = req.headers["Content-Type"],
                  ["X-Amz-Target"] = req.headers["X-Amz-Target"] },
      access_key_id = CONFIG.credentials.access_key_id,
      secret_access_key = CONFIG.credentials.secret_access_key,
      timestamp = h.amz_date_epoch(req.headers["X-Amz-Date"]),
    }
    assert.are.equal(req.headers.Authorization, signed.headers.Authorization)
    assert.are.equal(req.headers["X-Amz-Date"], signed.headers["X-Amz-Date"])
  end)

  it("adds the session token header", function()
    local config = { region = "us-east-1", endpoint_url = "http://127.0.0.1:1",
                     credentials = { access_key_id = "AK", secret_access_key = "SK",
                                     session_token = "TOKEN" } }
    local req = acmpca.build_request(config, "list_certificate_authorities", {})
    assert.are.equal("TOKEN", req.headers["X-Amz-Security-Token"])
    assert.matches("x%-amz%-security%-token", req.headers.Authorization)
    assert.are.equal("{}", req.body)
  end)

  it("accepts a client instead of a config, and as a method", function()
    local c = acmpca.new(CONFIG)
    local a = acmpca.build_request(c, "list_tags", { CertificateAuthorityArn = ARN })
    local b = c:build_request("list_tags", { CertificateAuthorityArn = ARN })
    assert.are.equal(a.body, b.body)
    assert.are.equal("ACMPrivateCA.ListTags", b.headers["X-Amz-Target"])
    c:close()
  end)

  it("walks the model: empty tables become [] or {} as the shape says", function()
    local req = acmpca.build_request(CONFIG, "create_certificate_authority", {
      CertificateAuthorityType = "ROOT",
      CertificateAuthorityConfiguration = {
        KeyAlgorithm = "RSA_2048", SigningAlgorithm = "SHA256WITHRSA",
        Subject = {},
        CsrExtensions = { SubjectInformationAccess = {} },
      },
    })
    local body = h.json_decode(req.body)
    local conf = body.CertificateAuthorityConfiguration
    assert.are.equal("object", h.json_kind(conf.Subject))
    assert.are.equal("array", h.json_kind(conf.CsrExtensions.SubjectInformationAccess))
    assert.truthy(req.body:find('"Subject":{}', 1, true))
    assert.truthy(req.body:find('"SubjectInformationAccess":[]', 1, true))
  end)

  it("keeps integers as integers and encodes blobs (PEM) as base64", function()
    local req = acmpca.build_request(CONFIG, "issue_certificate", {
      CertificateAuthorityArn = ARN, Csr = PEM, SigningAlgorithm = "SHA256WITHRSA",
      Validity = { Value = 365, Type = "DAYS" }, IdempotencyToken = "tok",
    })
    assert.truthy(req.body:find('"Value":365[,}]'), req.body)
    local body = h.json_decode(req.body)
    assert.are.equal(b64(PEM), body.Csr)
    assert.are.equal(PEM, h.b64decode(body.Csr))
    assert.are.equal("tok", body.IdempotencyToken)
  end)

  it("fills the idempotency token when absent", function()
    local req = acmpca.build_request(CONFIG, "issue_certificate", {
      CertificateAuthorityArn = ARN, Csr = PEM, SigningAlgorithm = "SHA256WITHRSA",
      Validity = { Value = 1, Type = "DAYS" },
    })
    local token = h.json_decode(req.body).IdempotencyToken
    assert.is_string(token)
    assert.is_true(#token > 0)
  end)

  it("validates before signing, naming the member", function()
    local err = h.raises_code("ParamValidationError", acmpca.build_request, CONFIG,
                              "list_tags", { CertificateAuthorityArn = ARN, MaxResults = "9" })
    assert.are.equal("MaxResults: expected an integer, got string", err.message)
    assert.are.equal("ListTags", err.operation)
    err = h.raises_code("ParamValidationError", acmpca.build_request, CONFIG, "ListTagz", {})
    assert.are.equal('operation: unknown operation "ListTagz"', err.message)
    err = h.raises_code("ParamValidationError", acmpca.build_request, { regio = "x" },
                        "list_tags", {})
    assert.matches("^config.regio: unknown option", err.message)
  end)

  it("reuses clients for equal configs (cache) and survives many configs", function()
    for i = 1, 100 do
      local config = { region = "us-east-1", endpoint_url = "http://127.0.0.1:" .. (1000 + i),
                       credentials = CONFIG.credentials }
      local req = acmpca.build_request(config, "list_certificate_authorities", {})
      assert.are.equal("http://127.0.0.1:" .. (1000 + i) .. "/", req.url)
      req = acmpca.build_request(config, "list_certificate_authorities", {})
      assert.are.equal(1000 + i, req.port)
    end
  end)

  it("parses bracketed IPv6 hosts and paths", function()
    local config = { region = "us-east-1", endpoint_url = "https://[::1]:8443/base",
                     credentials = CONFIG.credentials }
    local req = acmpca.build_request(config, "list_certificate_authorities", {})
    assert.are.equal("https", req.scheme)
    assert.are.equal("::1", req.host)
    assert.are.equal(8443, req.port)
    assert.are.equal("/base/", req.path)
  end)
end)

describe("acmpca.parse_response", function()
  local function json_headers(extra)
    local t = { ["Content-Type"] = "application/x-amz-json-1.1",
                ["x-amzn-RequestId"] = "rid-123" }
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end

  -- Reading the headers allocates: a finalizer run meanwhile may add some,
  -- after which Lua's walk of the table may skip or repeat entries (under ASan
  -- and valgrind in tests/run, a write past the array is reported).
  it("reads a headers table that a finalizer fills while it is being read", function()
    local ran = h.with_finalizers(2000, json_headers,
      function(t) for i = 1, 20 do t["x-filled-" .. i] = "v" end end,
      function(t)
        local out = acmpca.parse_response("get_policy", 200, t, '{"Policy": "p"}')
        assert.are.equal("p", out.Policy)
      end)
    assert.are.equal(2000, ran)
  end)

  it("turns a success answer into the result table, walking the model", function()
    local body = ([[{"CertificateAuthority": {"Arn": "%s", "Status": "ACTIVE",
      "CreatedAt": 1700000000.25, "Type": "ROOT",
      "RevocationConfiguration": {"CrlConfiguration": {"Enabled": true,
        "ExpirationInDays": 7}},
      "CertificateAuthorityConfiguration": {"KeyAlgorithm": "RSA_2048",
        "SigningAlgorithm": "SHA256WITHRSA", "Subject": {}},
      "SomethingNew": 3}}]]):format(ARN)
    local out, meta = acmpca.parse_response("describe_certificate_authority", 200,
                                            json_headers(), body)
    local ca = out.CertificateAuthority
    assert.are.equal(ARN, ca.Arn)
    assert.are.equal(1700000000.25, ca.CreatedAt)
    assert.is_true(ca.RevocationConfiguration.CrlConfiguration.Enabled)
    assert.are.equal(7, ca.RevocationConfiguration.CrlConfiguration.ExpirationInDays)
    assert.is_true(h.is_integer(ca.RevocationConfiguration.CrlConfiguration.ExpirationInDays))
    if h.is54 then
      assert.are.equal("integer", math.type(ca.RevocationConfiguration.CrlConfiguration.ExpirationInDays))
      assert.are.equal("float", math.type(ca.CreatedAt))
    end
    assert.are.same({}, ca.CertificateAuthorityConfiguration.Subject)
    assert.are.equal(3, ca.SomethingNew)  -- unknown members are kept
    assert.are.equal(200, meta.status)
    assert.are.equal("rid-123", meta.request_id)
  end)

  it("returns PEM strings and drops JSON nulls", function()
    local out = acmpca.parse_response("GetCertificate", 200, json_headers(),
      '{"Certificate":"' .. PEM:gsub("\n", "\\n") .. '","CertificateChain":null}')
    assert.are.equal(PEM, out.Certificate)
    assert.is_nil(out.CertificateChain)
    local n = 0
    for _ in pairs(out) do n = n + 1 end
    assert.are.equal(1, n)
  end)

  it("an empty body is an empty result", function()
    local out = acmpca.parse_response("delete_policy", 200, {}, "")
    assert.are.same({}, out)
    out = acmpca.parse_response("delete_policy", 200, nil, nil)
    assert.are.same({}, out)
  end)

  it("lists come back as sequences", function()
    local out = acmpca.parse_response("list_tags", 200, json_headers(),
      '{"Tags":[{"Key":"a","Value":"1"},{"Key":"b"}],"NextToken":null}')
    assert.are.same({ Tags = { { Key = "a", Value = "1" }, { Key = "b" } } }, out)
    out = acmpca.parse_response("list_tags", 200, json_headers(), '{"Tags":[]}')
    assert.are.same({ Tags = {} }, out)
  end)

  it("raises the service error as an error object", function()
    local err = h.raises_code("ResourceNotFoundException", acmpca.parse_response,
      "describe_certificate_authority", 400, json_headers(),
      '{"__type":"ResourceNotFoundException","message":"no such CA"}')
    assert.are.equal("no such CA", err.message)
    assert.are.equal("DescribeCertificateAuthority", err.operation)
    assert.are.equal(400, err.status)
    assert.are.equal("rid-123", err.request_id)
    assert.is_false(err.retryable)
    assert.are.equal("ResourceNotFoundException: no such CA", tostring(err))
  end)

  it("finds the code in X-Amzn-ErrorType, prefixed __type and XML bodies", function()
    local err = h.raises_code("InvalidArnException", acmpca.parse_response,
      "describe_certificate_authority", 400,
      { ["X-Amzn-ErrorType"] = "InvalidArnException:http://internal/" }, "")
    assert.are.equal(400, err.status)
    h.raises_code("ResourceNotFoundException", acmpca.parse_response,
      "describe_certificate_authority", 400, json_headers(),
      '{"__type":"com.amazonaws.acmpca#ResourceNotFoundException","message":"gone"}')
    err = h.raises_code("SignatureDoesNotMatch", acmpca.parse_response, "list_tags", 403,
      { ["content-type"] = "text/xml" },
      "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error>" ..
      "<RequestId>xml-1</RequestId></ErrorResponse>")
    assert.are.equal("bad", err.message)
    assert.are.equal("xml-1", err.request_id)
  end)

  it("keeps a code the operation's model does not list as is", function()
    local err = h.raises_code("InvalidStateException", acmpca.parse_response,
      "describe_certificate_authority", 400, json_headers(),
      '{"__type":"InvalidStateException","message":"not here"}')
    assert.are.equal("not here", err.message)
  end)

  it("an HTML 500 without a code is retryable and keeps the status", function()
    local err = h.raises_code("500", acmpca.parse_response, "list_tags", 500,
      { ["Content-Type"] = "text/html" }, "<html><h1>Internal Server Error</h1></html>")
    assert.are.equal(500, err.status)
    assert.is_true(err.retryable)
    assert.matches("HTTP 500", err.message)
  end)

  it("a success that is not JSON is a ResponseParserError", function()
    local err = h.raises_code("ResponseParserError", acmpca.parse_response,
      "describe_certificate_authority", 200, {}, '{"CertificateAuthority": {"Arn": ')
    assert.are.equal(200, err.status)
    assert.are.equal("DescribeCertificateAuthority", err.operation)
  end)

  it("accepts repeated headers as lists and numbers as values", function()
    local err = h.raises_code("ThrottlingException", acmpca.parse_response, "list_tags", 400,
      { ["X-Amzn-ErrorType"] = { "ThrottlingException" }, ["Content-Length"] = 0,
        ["x-amzn-requestid"] = "r" }, "")
    assert.is_true(err.retryable)
    assert.are.equal("r", err.request_id)
  end)

  it("checks its arguments", function()
    local err = h.raises_code("ParamValidationError", acmpca.parse_response, "nope", 200, {}, "")
    assert.are.equal('operation: unknown operation "nope"', err.message)
    err = h.raises_code("ParamValidationError", acmpca.parse_response, "list_tags", "200", {}, "")
    assert.are.equal("status: expected an integer, got string", err.message)
    err = h.raises_code("ParamValidationError", acmpca.parse_response, "list_tags", 200, "x", "")
    assert.are.equal("headers: expected a table, got string", err.message)
    err = h.raises_code("ParamValidationError", acmpca.parse_response, "list_tags", 200, {}, {})
    assert.are.equal("body: expected a string, got table", err.message)
    err = h.raises_code("ParamValidationError", acmpca.parse_response, "list_tags", 200,
                        { [1] = "x" }, "")
    assert.are.equal("headers: expected string names, got a number name", err.message)
  end)
end)

describe("acmpca.sign", function()
  local suite = (os.getenv("ACMPCA_SOURCE_DIR") or ".") .. "/tests/fixtures/sigv4/v4/"
  local function expected(case, file)
    return (h.read(suite .. case .. "/" .. file):gsub("%s+$", ""))
  end
  local base = {
    method = "GET", region = "us-east-1", service = "service",
    access_key_id = "AKIDEXAMPLE", secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    timestamp = 1440938160,  -- 2015-08-30T12:36:00Z
  }
  local function with(extra)
    local t = {}
    for k, v in pairs(base) do t[k] = v end
    for k, v in pairs(extra) do t[k] = v end
    return t
  end

  it("matches the AWS SigV4 suite: get-vanilla (header signing)", function()
    local s = acmpca.sign(with{ url = "https://example.amazonaws.com/" })
    assert.are.equal(expected("get-vanilla", "header-signature.txt"), s.signature)
    assert.are.equal(expected("get-vanilla", "header-canonical-request.txt"), s.canonical_request)
    assert.are.equal(expected("get-vanilla", "header-string-to-sign.txt"), s.string_to_sign)
    assert.are.equal("20150830T123600Z", s.headers["X-Amz-Date"])
    assert.are.equal("example.amazonaws.com", s.headers.Host)
    assert.matches("Signature=" .. s.signature .. "$", s.headers.Authorization)
  end)

  it("matches the AWS SigV4 suite: get-vanilla (query signing)", function()
    local s = acmpca.sign(with{ url = "https://example.amazonaws.com/", query = true })
    assert.are.equal(expected("get-vanilla", "query-signature.txt"), s.signature)
    assert.matches("X%-Amz%-Signature=" .. s.signature, s.url)
    assert.is_nil(s.headers.Authorization)
  end)

  it("matches the AWS SigV4 suite: get-vanilla-with-session-token", function()
    local case = "get-vanilla-with-session-token"
    local ctx = h.read(suite .. case .. "/context.json")
    local token = ctx:match('"token"%s*:%s*"([^"]+)"')
    local s = acmpca.sign(with{ url = "https://example.amazonaws.com/", session_token = token })
    assert.are.equal(expected(case, "header-signature.txt"), s.signature)
    assert.are.equal(token, s.headers["X-Amz-Security-Token"])
  end)

  it("matches the AWS SigV4 suite: post-x-www-form-urlencoded (a body and headers)", function()
    local case = "post-x-www-form-urlencoded"
    local s = acmpca.sign(with{ method = "POST", url = "https://example.amazonaws.com/",
                                headers = { ["Content-Type"] = "application/x-www-form-urlencoded",
                                            ["Content-Length"] = 13 },
                                body = "Param1=value1", content_sha256 = true })
    assert.are.equal(expected(case, "header-signature.txt"), s.signature)
  end)

  it("checks its arguments", function()
    local err = h.raises_code("ParamValidationError", acmpca.sign, with{ url = nil })
    assert.are.equal("request.url: missing required option", err.message)
    err = h.raises_code("ParamValidationError", acmpca.sign,
                        with{ url = "https://x/", bogus = true })
    assert.matches("^request.bogus: unknown option", err.message)
    err = h.raises_code("ParamValidationError", acmpca.sign, "GET")
    assert.are.equal("request: expected a table, got string", err.message)
  end)
end)
