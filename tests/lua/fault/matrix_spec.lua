-- The fault matrix of issue 5 from Lua: one spec per row of tests/c/test_faults.c
-- (same names, same scripts, same expectations), against
-- tests/fixtures/fault_server.py (with_server.py fault). Each row scripts what
-- the server answers, calls the way a Lua user would and checks what that user
-- sees -- the error object's code, status, request_id, attempts, retryable and
-- message, or the result and meta.retry_attempts -- and what the server saw
-- (how many attempts; headers and bodies where they matter).
local h = require "helpers"
local acmpca = h.acmpca

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
local DESCRIBE = { CertificateAuthorityArn = CA }
local CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfaultcsr\n-----END CERTIFICATE REQUEST-----\n"
local KEY_ID, SECRET = "AKIDFAULTTEST", "fault-test-secret"
-- Upper time bounds stretch under valgrind (tests/lua/valgrind.sh sets the wrapper).
local SLOW = os.getenv("ACMPCA_LUA_WRAPPER") and 4 or 1

local function issue_params(token)
  return { CertificateAuthorityArn = CA, Csr = CSR, SigningAlgorithm = "SHA256WITHECDSA",
           Validity = { Value = 30, Type = "DAYS" }, IdempotencyToken = token }
end

local CREATE_CA = {
  CertificateAuthorityType = "ROOT",
  CertificateAuthorityConfiguration = { KeyAlgorithm = "EC_prime256v1",
    SigningAlgorithm = "SHA256WITHECDSA", Subject = { CommonName = "x" } },
}

-- ---- the control API (script, the server's log: tests/lua/helpers.lua) -----

local env, script, received = h.fault_env, h.fault_script, h.fault_requests

local function received_count()
  return #received()
end

local function issuance_count()
  return h.json_decode(h.get("/_fault/issuances")).count
end

local function token_of(req)
  return type(req.body) == "table" and req.body.IdempotencyToken or nil
end

-- The X-Amz-Date a request was signed with, minus our clock now.
local function sent_offset(req)
  return h.amz_date_epoch(req.headers["x-amz-date"]) - os.time()
end

-- ---- clients and calls -----------------------------------------------------

-- A client for the fault server (or `endpoint`) with `extra` options.
local function client(extra, endpoint)
  return h.new_client({ region = "us-east-1", endpoint_url = endpoint or h.endpoint,
                        credentials = { access_key_id = KEY_ID, secret_access_key = SECRET } },
                      extra)
end

local function describe_ca(c)
  return c:describe_certificate_authority(DESCRIBE)
end

-- A successful call: the result, after checking meta; returns result, meta.
local function succeeds(retries, fn, ...)
  local out, meta = fn(...)
  assert.is_table(out)
  assert.are.equal(200, meta.status)
  assert.are.equal(retries, meta.retry_attempts)
  assert.is_true(h.is_integer(meta.retry_attempts))
  assert.matches("^fault%-req%-%d+$", meta.request_id)
  return out, meta
end

-- The error object of a failed call, with the checks every failure shares
-- (test_faults.c's check_failure): code, attempts, retryable, status (nil
-- when no response arrived) and tostring(err) says "gave up after N attempts" exactly
-- when retried.
local function fails(code, attempts, retryable, status, fn, ...)
  local ok, err = pcall(fn, ...)
  assert.is_false(ok, "expected " .. code .. ", the call succeeded")
  assert.are.equal(acmpca.Error, getmetatable(err), "not an error object: " .. tostring(err))
  assert.are.equal(code, err.code, tostring(err))
  assert.are.equal(attempts, err.attempts, tostring(err))
  assert.is_true(h.is_integer(err.attempts))
  assert.are.equal(retryable, err.retryable, tostring(err))
  assert.are.equal(status, err.status, tostring(err))
  assert.is_string(err.message)
  assert.is_nil(err.message:find("gave up", 1, true), err.message) -- attempts are data
  if attempts > 1 then
    assert.are.equal(("%s: %s (gave up after %d attempts)"):format(err.code, err.message,
                                                                   attempts), tostring(err))
  else
    assert.are.equal(err.code .. ": " .. err.message, tostring(err))
  end
  return err
end

local function contains(haystack, needle)
  assert.truthy(haystack and haystack:find(needle, 1, true),
                ("%q does not contain %q"):format(tostring(haystack), needle))
end

-- ---- the rows ----------------------------------------------------------------

local rows = {}
local function row(name, fn) rows[#rows + 1] = { name = name, fn = fn } end

-- HTTP 500 every time: retried up to max_attempts, then the service error.
row("http-500", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"server_error","repeat":3}]')
  local err = fails("InternalFailure", 3, true, 500, describe_ca, c)
  assert.are.equal("DescribeCertificateAuthority", err.operation)
  contains(err.message, "scripted internal failure")
  assert.are.equal("fault-req-3", err.request_id)
  assert.are.equal(3, received_count())
  c:close()
end)

-- 503 then 200: one retry, then the result.
row("503-then-200", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"service_unavailable"},{"action":"ok"}]')
  local out, meta = succeeds(1, describe_ca, c)
  assert.are.equal("ACTIVE", out.CertificateAuthority.Status)
  assert.are.equal("fault-req-2", meta.request_id)
  assert.are.equal(2, received_count())
  c:close()
end)

-- ThrottlingException twice, then 200: two retries.
row("throttling-then-200", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"throttle","repeat":2},{"action":"ok"}]')
  local out = succeeds(2, c.get_certificate, c,
                       { CertificateAuthorityArn = CA, CertificateArn = CA .. "/certificate/abc" })
  contains(out.Certificate, "BEGIN CERTIFICATE")
  assert.are.equal(3, received_count())
  c:close()
end)

-- LimitExceededException is a quota in ACM PCA: never retried, in either mode.
row("limit-exceeded", function()
  for _, mode in ipairs{ "standard", "adaptive" } do
    local c = client{ max_attempts = 5, retry_mode = mode }
    script('[{"action":"limit_exceeded"},{"action":"ok"}]')
    local err = fails("LimitExceededException", 1, false, 400, c.issue_certificate, c,
                      issue_params())
    contains(err.message, "scripted quota reached")
    assert.are.equal("fault-req-1", err.request_id)
    assert.are.equal("IssueCertificate", err.operation)
    assert.are.equal(1, received_count())
    c:close()
  end
end)

-- Nothing listens: a connection error after every attempt.
row("connection-refused", function()
  local c = client({ max_attempts = 3 }, env("ACMPCA_TEST_FAULT_REFUSED_ENDPOINT"))
  local err = fails("EndpointConnectionError", 3, true, nil, describe_ca, c)
  contains(err.message, "could not connect")
  assert.is_nil(err.request_id)
  assert.are.equal("DescribeCertificateAuthority", err.operation)
  c:close()
end)

-- The server resets the connection before sending a byte.
row("reset-before-any-byte", function()
  local c = client{ max_attempts = 2 }
  script('[{"action":"reset_before","repeat":2}]')
  local err = fails("ConnectionClosedError", 2, true, nil, describe_ca, c)
  assert.is_nil(err.request_id)
  assert.are.equal(2, received_count())

  script('[{"action":"reset_before"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)
  assert.are.equal(2, received_count())
  c:close()
end)

-- Headers and half the body, then a reset.
row("reset-mid-body", function()
  local c = client{ max_attempts = 2 }
  script('[{"action":"reset_mid_body","repeat":2}]')
  fails("ConnectionClosedError", 2, true, 200, describe_ca, c)  -- the status line had arrived
  assert.are.equal(2, received_count())

  script('[{"action":"reset_mid_body"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)
  c:close()
end)

-- Silence longer than read_timeout, before the head and after it. The server
-- would hang up after 20 s: ReadTimeoutError shows the client gave up first.
row("stall", function()
  local c = client{ max_attempts = 2, read_timeout = 0.3 }
  script('[{"action":"stall","seconds":20,"repeat":2}]')
  local t0 = h.now()
  local err = fails("ReadTimeoutError", 2, true, nil, describe_ca, c)
  assert.is_true(h.now() - t0 < 10)
  contains(err.message, "read timeout")
  assert.are.equal(2, received_count())

  script('[{"action":"stall","seconds":20,"after_headers":true,"repeat":2}]')
  fails("ReadTimeoutError", 2, true, 200, describe_ca, c)
  assert.are.equal(2, received_count())
  c:close()
end)

-- Bytes keep coming, each gap inside the read timeout, the whole answer longer.
row("slow-trickle", function()
  local c = client{ max_attempts = 1, read_timeout = 0.5 }
  script('[{"action":"trickle","chunk":8,"interval_ms":100}]')
  local t0 = h.now()
  local out = succeeds(0, describe_ca, c)
  assert.is_true(h.now() - t0 > 1.0)  -- longer than the read timeout in total
  assert.are.equal(CA, out.CertificateAuthority.Arn)
  assert.are.equal(1, received_count())
  c:close()
end)

-- The head trickles too: header bytes are bytes moving.
row("slow-trickle-head", function()
  local c = client{ max_attempts = 1, read_timeout = 1 }
  script('[{"action":"trickle","chunk":16,"interval_ms":100,"headers_too":true}]')
  local t0 = h.now()
  local out = succeeds(0, describe_ca, c)
  assert.is_true(h.now() - t0 > 1.5)
  assert.are.equal(CA, out.CertificateAuthority.Arn)
  c:close()
end)

-- 200 with a JSON body cut short (Content-Length matches): not retried.
row("truncated-json", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"truncated_json"},{"action":"ok"}]')
  local err = fails("ResponseParserError", 1, false, 200, describe_ca, c)
  contains(err.message, "not valid JSON")
  assert.are.equal("DescribeCertificateAuthority", err.operation)
  assert.are.equal(1, received_count())
  c:close()
end)

-- A proxy's HTML 502 page: retried, then an error keeping the status and an excerpt.
row("html-502", function()
  local c = client{ max_attempts = 2 }
  script('[{"action":"html_502","repeat":2}]')
  local err = fails("502", 2, true, 502, describe_ca, c)
  contains(err.message, "HTTP 502 with no error code")
  contains(err.message, "502 Bad Gateway")
  assert.are.equal("fault-req-2", err.request_id)
  assert.are.equal(2, received_count())

  script('[{"action":"html_502"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)
  c:close()
end)

-- 200 whose body is not JSON at all.
row("invalid-json", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"invalid_json"},{"action":"ok"}]')
  local err = fails("ResponseParserError", 1, false, 200, describe_ca, c)
  contains(err.message, "not valid JSON")
  assert.are.equal(1, received_count())
  c:close()
end)

-- A body over max_response_bytes, announced by Content-Length or chunked.
row("body-over-cap", function()
  local c = client{ max_attempts = 3, max_response_bytes = 1024 }
  for _, chunked in ipairs{ "false", "true" } do
    script('[{"action":"big_body","size":4096,"chunked":' .. chunked .. '},{"action":"ok"}]')
    local err = fails("ResponseParserError", 1, false, 200, describe_ca, c)
    contains(err.message, "1024-byte limit")
    assert.are.equal(1, received_count())
  end
  -- Under the cap is fine.
  script('[{"action":"big_body","size":1000}]')
  local out = succeeds(0, describe_ca, c)
  assert.are.equal(1000 - #'{"Pad":""}', #out.Pad)  -- a member the model lacks passes through
  c:close()
end)

-- Content-Length promises more than arrives before the close: cut short, retried.
row("wrong-content-length", function()
  local c = client{ max_attempts = 2 }
  script('[{"action":"wrong_length","extra":100,"repeat":2}]')
  fails("ConnectionClosedError", 2, true, 200, describe_ca, c)
  assert.are.equal(2, received_count())

  script('[{"action":"wrong_length"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)
  c:close()
end)

-- One ~200 KB response header, over libcurl's 100 KB line limit: the answer is
-- too large (not the machine out of memory), and not retried.
row("header-over-limit", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"big_header","size":204800},{"action":"ok"}]')
  local err = fails("ResponseParserError", 1, false, 200, describe_ca, c)
  contains(err.message, "header line over the 102400-byte limit")
  assert.are.equal(1, received_count())

  -- A long header under the limit is fine.
  script('[{"action":"big_header","size":60000}]')
  succeeds(0, describe_ca, c)
  c:close()
end)

-- The error code only in X-Amzn-ErrorType (the body has no __type).
row("error-type-header-only", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"header_only_error","code":"ResourceNotFoundException",' ..
         '"message":"no such CA"},{"action":"ok"}]')
  local err = fails("ResourceNotFoundException", 1, false, 400, describe_ca, c)
  assert.are.equal("no such CA", err.message)
  assert.are.equal("fault-req-1", err.request_id)
  assert.are.equal(1, received_count())

  -- The header alone decides retries too: a header-only throttle is retried.
  script('[{"action":"header_only_error","code":"ThrottlingException"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)

  -- And with no body at all.
  script('[{"action":"respond","status":400,"body":"",' ..
         '"headers":{"X-Amzn-ErrorType":"InvalidArnException:http://internal/"}}]')
  fails("InvalidArnException", 1, false, 400, describe_ca, c)
  c:close()
end)

-- The service's clock is an hour ahead: one retry with its time, kept for later calls.
row("skewed-date", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"skew","offset_s":3600,"code":"RequestTimeTooSkewed"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)
  local list = received()
  assert.are.equal(2, #list)
  assert.is_true(math.abs(sent_offset(list[1])) <= 60)
  assert.is_true(math.abs(sent_offset(list[2]) - 3600) <= 60)

  -- Later calls on the same client start from the server's time.
  script('[{"action":"ok"}]')
  succeeds(0, describe_ca, c)
  list = received()
  assert.are.equal(1, #list)
  assert.is_true(math.abs(sent_offset(list[1]) - 3600) <= 60)

  -- A skew error that repeats after the correction is not retried again.
  script('[{"action":"skew","offset_s":7200},{"action":"skew","offset_s":10800},' ..
         '{"action":"ok"}]')
  fails("RequestTimeTooSkewed", 2, false, 400, describe_ca, c)
  assert.are.equal(2, received_count())
  c:close()

  -- InvalidSignatureException with a Date an hour behind: retried even at max_attempts 1.
  c = client{ max_attempts = 1 }
  script('[{"action":"skew","status":403,"offset_s":-3600,' ..
         '"code":"InvalidSignatureException"},{"action":"ok"}]')
  succeeds(1, describe_ca, c)
  list = received()
  assert.are.equal(2, #list)
  assert.is_true(math.abs(sent_offset(list[2]) + 3600) <= 60)
  c:close()

  -- A signature error while the clocks agree is just an error: no retry.
  c = client{ max_attempts = 3 }
  script('[{"action":"skew","status":403,"offset_s":0,' ..
         '"code":"InvalidSignatureException"},{"action":"ok"}]')
  fails("InvalidSignatureException", 1, false, 403, describe_ca, c)
  assert.are.equal(1, received_count())
  c:close()
end)

-- HTTPS with a self-signed certificate: refused by default, accepted with ca_bundle.
row("tls-self-signed", function()
  local tls = env("ACMPCA_TEST_FAULT_TLS_ENDPOINT")
  local c = client({ max_attempts = 3 }, tls)
  script("[]")
  local err = fails("SSLError", 1, false, nil, describe_ca, c)
  contains(err.message, "TLS error")
  contains(err.message, tls)
  local list, doc = received()
  assert.are.equal(0, #list)
  -- The server notes the failed handshake on its own thread, maybe after the
  -- client has given up: ask for up to 5 s.
  local deadline = h.now() + 5
  while doc.tls_failures < 1 and h.now() < deadline do
    os.execute("sleep 0.1")
    list, doc = received()
  end
  assert.is_true(doc.tls_failures >= 1)
  c:close()

  c = client({ ca_bundle = env("ACMPCA_TEST_FAULT_CA") }, tls)
  local out = succeeds(0, describe_ca, c)
  assert.are.equal(CA, out.CertificateAuthority.Arn)
  assert.are.equal(1, received_count())
  c:close()

  -- A bundle that does not hold the server's certificate still refuses.
  c = client({ ca_bundle = "/nonexistent/ca.pem" }, tls)
  fails("SSLError", 1, false, nil, describe_ca, c)
  c:close()
end)

-- The server issues, then drops the connection twice: one token, one issuance.
row("never-issue-twice", function()
  local c = client{ max_attempts = 3 }
  script('[{"action":"issue_then_drop","repeat":2},{"action":"ok"}]')
  local out = succeeds(2, c.issue_certificate, c, issue_params())
  local list = received()
  assert.are.equal(3, #list)
  local first = token_of(list[1])
  assert.is_string(first)
  assert.is_true(#first >= 1 and #first <= 36)
  assert.are.equal(first, token_of(list[2]))
  assert.are.equal(first, token_of(list[3]))
  assert.are.equal(1, issuance_count())
  assert.are.equal(CA .. "/certificate/" .. h.sha256_hex(first):sub(1, 32), out.CertificateArn)

  -- A new logical call gets a new token.
  script('[{"action":"ok"}]')
  succeeds(0, c.issue_certificate, c, issue_params())
  list = received()
  assert.is_string(token_of(list[1]))
  assert.are_not.equal(first, token_of(list[1]))

  -- A token the user passes wins, on every attempt.
  script('[{"action":"issue_then_drop"},{"action":"ok"}]')
  succeeds(1, c.issue_certificate, c, issue_params("user-token-1"))
  list = received()
  assert.are.equal(2, #list)
  assert.are.equal("user-token-1", token_of(list[1]))
  assert.are.equal("user-token-1", token_of(list[2]))
  assert.are.equal(1, issuance_count())

  -- CreateCertificateAuthority is covered too.
  script('[{"action":"drop"},{"action":"ok"}]')
  succeeds(1, c.create_certificate_authority, c, CREATE_CA)
  list = received()
  assert.are.equal(2, #list)
  assert.is_string(token_of(list[1]))
  assert.are.equal(token_of(list[1]), token_of(list[2]))
  c:close()

  -- Turned off: no token is added, and a dropped answer means a second issuance.
  c = client{ max_attempts = 3, idempotency_tokens = false }
  script('[{"action":"issue_then_drop"},{"action":"ok"}]')
  succeeds(1, c.issue_certificate, c, issue_params())
  list = received()
  assert.are.equal(2, #list)
  assert.is_nil(token_of(list[1]))
  assert.is_nil(token_of(list[2]))
  assert.are.equal(CA, list[1].body.CertificateAuthorityArn)
  assert.are.equal(2, issuance_count())
  c:close()
end)

-- config.total_timeout: the answer comes after 2 s; read_timeout (10 s) would
-- wait for it, the 0.5 s deadline does not. Bytes trickling in (every gap
-- inside read_timeout) are cut the same way. Bounds are loose (a shared
-- machine) but far from what the answers take.
row("total-timeout-slow-answer", function()
  local c = client{ max_attempts = 3, read_timeout = 10, total_timeout = 0.5 }
  script('[{"action":"ok","delay_ms":2000,"repeat":3}]')
  local t0 = h.now()
  local err = fails("ReadTimeoutError", 1, true, nil, describe_ca, c)
  local took = h.now() - t0
  contains(err.message, "total_timeout")
  assert.is_true(took >= 0.45 and took < 1.5 * SLOW, ("took %.2f s"):format(took))
  assert.are.equal(1, received_count())

  script('[{"action":"trickle","chunk":1,"interval_ms":100,"headers_too":true}]')
  t0 = h.now()
  fails("ReadTimeoutError", 1, true, nil, describe_ca, c)
  took = h.now() - t0
  assert.is_true(took >= 0.45 and took < 1.5 * SLOW, ("took %.2f s"):format(took))
  c:close()
end)

-- The deadline also cuts the connect phase: HTTPS to the plain port, where the
-- TLS handshake never gets an answer (connect_timeout 10 s).
row("total-timeout-slow-handshake", function()
  local url = "https://" .. h.endpoint:gsub("^http://", "")
  local c = client({ max_attempts = 3, connect_timeout = 10, read_timeout = 10,
                     total_timeout = 0.5 }, url)
  script("[]")
  local t0 = h.now()
  local err = fails("ReadTimeoutError", 1, true, nil, describe_ca, c)
  local took = h.now() - t0
  contains(err.message, "total_timeout")
  assert.is_true(took >= 0.45 and took < 1.5 * SLOW, ("took %.2f s"):format(took))
  assert.are.equal(0, received_count())
  c:close()
end)

-- Throttled every time, max_attempts 10: the back-off alone would take
-- minutes; total_timeout (2 s) ends the call early, with fewer attempts,
-- reporting the last answer or the deadline.
row("total-timeout-stops-retries", function()
  local c = client{ max_attempts = 10, total_timeout = 2 }
  script('[{"action":"throttle","repeat":10}]')
  local t0 = h.now()
  local ok, err = pcall(describe_ca, c)
  local took = h.now() - t0
  assert.is_false(ok)
  assert.are.equal(acmpca.Error, getmetatable(err), tostring(err))
  assert.is_true(err.code == "ThrottlingException" or err.code == "ReadTimeoutError",
                 tostring(err))
  assert.is_true(err.attempts >= 1 and err.attempts < 10, tostring(err.attempts))
  assert.are.equal(err.attempts, received_count())
  assert.is_true(took < 3.5, ("took %.2f s"):format(took))
  c:close()
end)

-- Rows of test_faults.c not repeated here, and why.
local C_ONLY = {
  -- 60 failing calls at once drain the client's retry quota: a property of the
  -- core's shared quota, needing concurrent calls. Lua calls one at a time, so
  -- the 50 retries would each sleep their backoff in turn (about 25 s).
  ["retry-quota"] = true,
}

describe("fault matrix (fault server)", function()
  for _, r in ipairs(rows) do
    it(r.name, r.fn)
  end

  it("has a row for every row of the C matrix, in its order", function()
    local text = h.read(os.getenv("ACMPCA_SOURCE_DIR") .. "/tests/c/faults.cmake")
    local list = text:match("set%(FAULT_ROWS%s+(.-)%)")
    assert.is_string(list)
    local want, have = {}, {}
    for name in list:gmatch("%S+") do
      if not C_ONLY[name] then want[#want + 1] = name end
    end
    for _, r in ipairs(rows) do have[#have + 1] = r.name end
    assert.are.same(want, have)
  end)
end)
