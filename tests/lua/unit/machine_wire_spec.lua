-- The cosocket driver's side of the call machine (what resty.acmpca uses per
-- request): m:next_wire gives the request as the bytes to send, m:parse_head
-- reads what a response head says about its body and connection, and
-- m:response takes that head as read instead of a headers table.
local h = require "helpers"
local acmpca = h.acmpca

local ARN = h.CA_ARN
local CERT = { CertificateAuthorityArn = ARN, CertificateArn = ARN .. "/certificate/abc" }
local OK_BODY = '{"Certificate":"C","CertificateChain":"D"}'

local client = h.machine_client

-- The head of a 200 answer with `extra` header lines before the request id.
local function head(extra)
  return "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n" .. (extra or "") ..
         "x-amzn-RequestId:   req-7  \t\r\nContent-Length: " .. #OK_BODY
end

-- Split a request's bytes into request line, { name = value }, and body.
local function split(wire)
  local top, body = wire:match("^(.-)\r\n\r\n(.*)$")
  local line = top:match("^[^\r\n]*")
  local headers = {}
  for name, value in top:gmatch("\r\n([^:\r\n]+): ([^\r\n]*)") do headers[name] = value end
  return line, headers, body
end

describe("m:next_wire", function()
  it("gives the signed request as bytes: request line, headers, tail, body", function()
    local m = client():machine("get_certificate", CERT)
    local kind, s = m:next_wire("User-Agent: test-agent\r\nConnection: close\r\n")
    assert.are.equal("send", kind)
    local line, headers, body = split(s.wire)
    assert.are.equal("POST / HTTP/1.1", line)
    assert.are.equal("ACMPrivateCA.GetCertificate", headers["X-Amz-Target"])
    assert.matches("^AWS4%-HMAC%-SHA256 Credential=", headers.Authorization)
    assert.are.equal("127.0.0.1:1", headers.Host)
    assert.are.equal("test-agent", headers["User-Agent"])
    assert.are.equal("close", headers.Connection)
    assert.are.equal(tostring(#body), headers["Content-Length"])
    assert.matches('"CertificateArn":"' .. ARN:gsub("%p", "%%%0") .. '/certificate/abc"', body)
  end)

  it("says where and within what bounds, with a pool per destination and policy", function()
    local s = select(2, client{ connect_timeout = 2, read_timeout = 3, total_timeout = 9 }
                         :machine("get_certificate", CERT):next_wire())
    assert.are.equal("http", s.scheme)
    assert.are.equal("127.0.0.1", s.host)
    assert.are.equal(1, s.port)
    assert.are.equal("/", s.path)
    assert.are.equal("http://127.0.0.1:1", s.pool)
    assert.are.equal(2000, s.connect_timeout_ms)
    assert.are.equal(3000, s.read_timeout_ms)
    assert.is_true(s.deadline_ms > 8000 and s.deadline_ms <= 9000)
    assert.are.equal(16777216, s.max_response_bytes)
    assert.is_false(s.insecure_skip_tls_verify)
    assert.is_false(s.credentials)
    assert.matches("\r\n\r\n{", s.wire)   -- no tail: the body follows the headers

    s = select(2, client{ endpoint_url = "https://127.0.0.1:8443", verify_tls = false }
                    :machine("get_certificate", CERT):next_wire())
    assert.are.equal("https://127.0.0.1:8443#noverify", s.pool)
    assert.is_true(s.insecure_skip_tls_verify)
  end)

  it("fills the table it is given, so a driver can reuse one per call", function()
    local c = client()
    local into = { port = "stale", path = "stale" }
    local _, s = c:machine("get_certificate", CERT):next_wire(nil, into)
    assert.are.equal(into, s)
    assert.are.equal(1, s.port)
    assert.are.equal("/", s.path)
    local first = s.wire
    local m = c:machine("get_certificate", { CertificateAuthorityArn = ARN,
                                              CertificateArn = ARN .. "/certificate/def" })
    _, s = m:next_wire(nil, into)
    assert.are.equal(into, s)
    assert.matches("/certificate/def", s.wire)
    assert.are_not.equal(first, s.wire)
  end)

  it("keeps a reused table's pool only for the same destination and policy", function()
    local into = {}
    local function pool(config)
      local s = select(2, client(config):machine("get_certificate", CERT):next_wire(nil, into))
      local fresh = select(2, client(config):machine("get_certificate", CERT):next_wire())
      for _, k in ipairs{ "scheme", "host", "port", "path", "insecure_skip_tls_verify",
                          "credentials", "pool" } do
        assert.are.equal(fresh[k], s[k], k)
      end
      return s.pool
    end
    assert.are.equal("http://127.0.0.1:1", pool())
    assert.are.equal("http://127.0.0.1:1", pool())
    assert.are.equal("http://127.0.0.1:2", pool{ endpoint_url = "http://127.0.0.1:2" })
    assert.are.equal("http://localhost:2", pool{ endpoint_url = "http://localhost:2" })
    assert.are.equal("https://localhost:2", pool{ endpoint_url = "https://localhost:2" })
    assert.are.equal("https://localhost:2#noverify",
                     pool{ endpoint_url = "https://localhost:2", verify_tls = false })
    assert.are.equal("https://localhost:2", pool{ endpoint_url = "https://localhost:2" })
    into.pool = 7   -- whatever a driver left there is replaced
    assert.are.equal("https://localhost:2", pool{ endpoint_url = "https://localhost:2" })
  end)

  it("comes with the machine from c:machine(operation, params, tail, into)", function()
    local c = client()
    local into = {}
    local m, kind, s = c:machine("get_certificate", CERT, "User-Agent: first\r\n", into)
    assert.are.equal("acmpca.Machine", getmetatable(m).__name)
    assert.are.equal("send", kind)
    assert.are.equal(into, s)
    local line, headers, body = split(s.wire)
    assert.are.equal("POST / HTTP/1.1", line)
    assert.are.equal("first", headers["User-Agent"])
    assert.matches('"CertificateArn":"' .. ARN:gsub("%p", "%%%0") .. '/certificate/abc"', body)
    assert.are.equal("http://127.0.0.1:1", s.pool)
    -- the machine goes on from there: its answer, then DONE
    assert.are.equal("done", (m:response_next_wire(200, head(), OK_BODY)))
    -- without a tail: the machine alone, as before
    assert.are.equal(1, select("#", c:machine("get_certificate", CERT)))
    -- bad params raise before any step
    assert.has_error(function() c:machine("get_certificate", { CertificateArn = 1 }, "", {}) end)
  end)

  it("checks params in c:machine as calls do, whatever shape they have", function()
    local c = client()
    local cases = {
      { { CertificateAuthorityArn = ARN .. "\0x", CertificateArn = ARN },
        "^CertificateAuthorityArn: expected a string, got a string with a NUL byte$" },
      { { CertificateAuthorityArn = ARN, ["CertificateArn\0x"] = ARN }, "^input: expected an object" },
      { { CertificateAuthorityArn = ARN, CertificateArn = ARN, Extra = "1" },
        "^Extra: unknown parameter" },
      { { CertificateAuthorityArn = ARN }, "^CertificateArn: missing required parameter$" },
      { { CertificateAuthorityArn = ARN, CertificateArn = 7 }, "^CertificateArn: expected a string" },
    }
    for i, case in ipairs(cases) do
      local ok, err = pcall(c.machine, c, "get_certificate", case[1], "", {})
      assert.is_false(ok, "case " .. i)
      assert.are.equal("ParamValidationError", err.code, "case " .. i)
      assert.matches(case[2], err.message, nil, "case " .. i)
    end
    -- members that are not strings go as the model types them
    local _, _, s = c:machine("list_certificate_authorities", { MaxResults = 10, ResourceOwner = "SELF" },
                              "", {})
    assert.are.same({ MaxResults = 10, ResourceOwner = "SELF" }, h.json_decode(select(3, split(s.wire))))
  end)

  it("frees the machine once it hands out DONE or FAILED", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    m:response(200, head(), OK_BODY)
    assert.are.equal("done", (m:next_wire()))
    assert.matches("closed", tostring(m))
    local kind, err = m:next_wire()
    assert.are.equal("failed", kind)
    assert.are.equal("ClientClosedError", err.code)
    assert.matches("machine is closed", err.message)
    m:close()  -- harmless

    m = client{ max_attempts = 1 }:machine("get_certificate", CERT)
    m:next_wire()
    m:transport_error("connect", nil, "refused")
    assert.are.equal("failed", (m:next_wire()))
    assert.matches("closed", tostring(m))
  end)

  it("refuses a tail that is not a string and an `into` that is not a table", function()
    local m = client():machine("get_certificate", CERT)
    local err = h.raises_code("ParamValidationError", m.next_wire, m, 42)
    assert.matches("tail: expected a string, got number", err.message)
    err = h.raises_code("ParamValidationError", m.next_wire, m, nil, "t")
    assert.matches("into: expected a table, got string", err.message)
  end)
end)

describe("m:response_next_wire", function()
  local TAIL = "User-Agent: test-agent\r\n"

  it("takes the answer and gives the next step as m:next_wire would", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    local kind, res, meta = m:response_next_wire(200, head(), OK_BODY)
    assert.are.equal("done", kind)
    assert.are.same({ Certificate = "C", CertificateChain = "D" }, res)
    assert.are.same({ status = 200, request_id = "req-7", retry_attempts = 0 }, meta)

    m = client():machine("get_certificate", CERT)
    m:next_wire()
    local err
    kind, err = m:response_next_wire(400, "HTTP/1.1 400 Bad Request\r\n" ..
      "X-Amzn-ErrorType: ResourceNotFoundException:http://internal\r\nx-amzn-RequestId: r9",
      "{}")
    assert.are.equal("failed", kind)
    assert.are.equal("ResourceNotFoundException", err.code)
    assert.are.equal("r9", err.request_id)
  end)

  it("gives a next SEND step with the tail, in the table it is given", function()
    -- A clock skew error with the server's Date: the machine re-signs and sends at once.
    local m = client():machine("get_certificate", CERT)
    local into = {}
    local _, first = m:next_wire(TAIL, into)
    local first_wire = first.wire
    local kind, s = m:response_next_wire(400, "HTTP/1.1 400 Bad Request\r\n" ..
      "X-Amzn-ErrorType: RequestTimeTooSkewed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n" ..
      "x-amzn-RequestId: r1", "{}", TAIL, into)
    assert.are.equal("send", kind)
    assert.are.equal(into, s)
    local line, headers = split(s.wire)
    assert.are.equal("POST / HTTP/1.1", line)
    assert.are.equal("test-agent", headers["User-Agent"])
    assert.matches("^19941106T", headers["X-Amz-Date"])
    assert.are_not.equal(first_wire, s.wire)
    assert.are.equal("http://127.0.0.1:1", s.pool)
    -- without a table: a new one
    m = client():machine("get_certificate", CERT)
    m:next_wire()
    kind, s = m:response_next_wire(400, "HTTP/1.1 400 Bad Request\r\n" ..
      "X-Amzn-ErrorType: RequestTimeTooSkewed\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT", "{}")
    assert.are.equal("send", kind)
    assert.are_not.equal(into, s)
    assert.is_nil(split(s.wire):find("test-agent"))
  end)

  it("keeps the result of an answer whose next step it refused to give", function()
    -- as m:response followed by a m:next_wire that raises: the answer is taken
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    local err = h.raises_code("ParamValidationError", m.response_next_wire, m, 200, head(),
                              OK_BODY, 42)
    assert.matches("tail: expected a string, got number", err.message)
    local kind, res, meta = m:next_wire()
    assert.are.equal("done", kind)
    assert.are.same({ Certificate = "C", CertificateChain = "D" }, res)
    assert.are.equal("req-7", meta.request_id)
  end)

  it("refuses what m:response and m:next_wire refuse", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    local err = h.raises_code("ParamValidationError", m.response_next_wire, m, "200", head(),
                              OK_BODY)
    assert.matches("status: expected an integer", err.message)
    err = h.raises_code("ParamValidationError", m.response_next_wire, m, 200, head(), 7)
    assert.matches("body: expected a string, got number", err.message)
    err = h.raises_code("ParamValidationError", m.response_next_wire, m, 200, head(), OK_BODY,
                        nil, "t")
    assert.matches("into: expected a table, got string", err.message)
  end)
end)

describe("m:parse_head", function()
  local m = client():machine("get_certificate", CERT)

  it("reads the status, the body's framing and whether the connection stays open", function()
    assert.are.same({ 200, #OK_BODY, false, true }, { m:parse_head(head()) })
    assert.are.same({ 404, 12, false, false },
                    { m:parse_head("HTTP/1.1 404 Not Found\r\ncontent-length: 12 \r\n" ..
                                   "CONNECTION: Close") })
    assert.are.same({ 200, nil, true, true },
                    { m:parse_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked") })
  end)

  it("keeps an HTTP/1.0 connection only when the server says keep-alive", function()
    assert.is_false(select(4, m:parse_head("HTTP/1.0 200 OK\r\nContent-Length: 0")))
    assert.is_true(select(4, m:parse_head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive")))
  end)

  it("takes the first of a repeated header and only whole header names", function()
    assert.are.equal(5, select(2, m:parse_head(
      "HTTP/1.1 200 OK\r\nX-Content-Length: 9\r\nContent-Length: 5\r\nContent-Length: 7")))
  end)

  it("reports a Content-Length that is not a number of bytes as false", function()
    for _, v in ipairs({ "-1", "1.5", "0x10", "", "12abc" }) do
      assert.is_false(select(2, m:parse_head("HTTP/1.1 200 OK\r\nContent-Length: " .. v)), v)
    end
  end)

  it("returns nil and the problem for a NUL byte or a missing status line", function()
    assert.are.same({ nil, "a NUL byte in the response head" },
                    { m:parse_head("HTTP/1.1 200 OK\r\nX: a\0b") })
    assert.are.same({ nil, "no HTTP status line" }, { m:parse_head("SSH-2.0-OpenSSH\r\n") })
    assert.are.same({ nil, "no HTTP status line" }, { m:parse_head("HTTP/2 200") })
  end)
end)

describe("m:response with the response head", function()
  it("passes the head's headers to the machine, values trimmed", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    m:response(200, head(), OK_BODY)
    local kind, res, meta = m:next_wire()
    assert.are.equal("done", kind)
    assert.are.same({ Certificate = "C", CertificateChain = "D" }, res)
    assert.are.equal("req-7", meta.request_id)
  end)

  it("reads every header of a long head (past the room kept on the C stack)", function()
    for _, filler in ipairs({ ("X-Filler: y\r\n"):rep(40), "X-Big: " .. ("z"):rep(5000) .. "\r\n" }) do
      local m = client():machine("get_certificate", CERT)
      m:next_wire()
      m:response(400, "HTTP/1.1 400 Bad Request\r\n" .. filler ..
                      "X-Amzn-ErrorType: ResourceNotFoundException:http://internal\r\n" ..
                      "x-amzn-RequestId: req-9", "{}")
      local kind, err = m:next_wire()
      assert.are.equal("failed", kind)
      assert.are.equal("ResourceNotFoundException", err.code)
      assert.are.equal("req-9", err.request_id)
    end
  end)

  it("takes the headers of the head it is given, not of the one m:parse_head read last", function()
    local c = client()
    local m = c:machine("get_certificate", CERT)
    m:next_wire()
    local a = head():gsub("req%-7", "req-A")
    local b = head():gsub("req%-7", "req-B")
    assert.are.equal(200, (m:parse_head(a)))
    m:response(200, b, OK_BODY)
    local _, _, meta = m:next_wire()
    assert.are.equal("req-B", meta.request_id)
    -- and the same head again, as a driver passes it, after another machine's parse
    local m2 = c:machine("get_certificate", CERT)
    m2:next_wire()
    m:parse_head(b)
    m2:parse_head(a)
    m2:response(200, a, OK_BODY)
    assert.are.equal("req-A", select(3, m2:next_wire()).request_id)
    -- a head of the same length with its lines elsewhere
    local m3 = c:machine("get_certificate", CERT)
    m3:next_wire()
    m3:parse_head("HTTP/1.1 200 OK\r\nx-amzn-RequestId: req-C\r\nX-Q: 12345")
    m3:response(200, "HTTP/1.1 200 OK\r\nX-Q: 12345\r\nx-amzn-RequestId: req-D", OK_BODY)
    assert.are.equal("req-D", select(3, m3:next_wire()).request_id)
  end)

  it("refuses a head with a NUL byte", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    local err = h.raises_code("ParamValidationError", m.response, m, 200, head("X: a\0b\r\n"),
                              OK_BODY)
    assert.matches("NUL byte", err.message)
  end)
end)

describe("m:take_answer", function()
  -- A whole answer as one read brings it: the head, a blank line, the body.
  local function whole(h, body) return h .. "\r\n\r\n" .. body end

  it("takes a whole answer as m:response would, and says whether to keep the connection", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    assert.is_true(m:take_answer(whole(head(), OK_BODY)))
    local kind, res, meta = m:next_wire()
    assert.are.equal("done", kind)
    assert.are.same({ Certificate = "C", CertificateChain = "D" }, res)
    assert.are.same({ status = 200, request_id = "req-7", retry_attempts = 0 }, meta)

    m = client():machine("get_certificate", CERT)
    m:next_wire()
    assert.is_false(m:take_answer(whole(head("Connection: close\r\n"), OK_BODY)))
    assert.are.equal("done", (m:next_wire()))
    m = client():machine("get_certificate", CERT)
    m:next_wire()
    assert.is_false(m:take_answer(whole("HTTP/1.0 200 OK\r\nContent-Length: 2", "{}")))
  end)

  it("takes an error answer too: the machine's typed error", function()
    local m = client():machine("get_certificate", CERT)
    m:next_wire()
    local body = '{"__type":"ResourceNotFoundException","message":"no such CA"}'
    assert.is_true(m:take_answer(whole("HTTP/1.1 400 Bad Request\r\nx-amzn-RequestId: r9\r\n" ..
                                       "Content-Length: " .. #body, body)))
    local kind, err = m:next_wire()
    assert.are.equal("failed", kind)
    assert.are.equal("ResourceNotFoundException", err.code)
    assert.are.equal("r9", err.request_id)
  end)

  it("with a tail, gives the next step too, as m:next_wire(tail, into) would", function()
    local into = {}
    local m = client():machine("get_certificate", CERT, "", into)
    local keep, kind, res, meta = m:take_answer(whole(head(), OK_BODY), "", into)
    assert.is_true(keep)
    assert.are.equal("done", kind)
    assert.are.same({ Certificate = "C", CertificateChain = "D" }, res)
    assert.are.same({ status = 200, request_id = "req-7", retry_attempts = 0 }, meta)
    assert.matches("closed", tostring(m))   -- its last step freed it

    local body = '{"__type":"ResourceNotFoundException","message":"no such CA"}'
    m = client():machine("get_certificate", CERT, "", into)
    local err
    keep, kind, err = m:take_answer(whole("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n" ..
                                          "Content-Length: " .. #body, body), "", into)
    assert.is_false(keep)
    assert.are.equal("failed", kind)
    assert.are.equal("ResourceNotFoundException", err.code)

    -- a throttled answer: the next step is the retry's sleep, then the SEND again
    body = '{"__type":"ThrottlingException","message":"slow down"}'
    m = client{ max_attempts = 2 }:machine("get_certificate", CERT, "", into)
    keep, kind = m:take_answer(whole("HTTP/1.1 400 Bad Request\r\nContent-Length: " .. #body,
                                     body), "", into)
    assert.is_true(keep)
    assert.are.equal("sleep", kind)

    -- not a whole answer: nil alone, nothing done
    m = client():machine("get_certificate", CERT, "", into)
    assert.are.equal(1, select("#", m:take_answer(head(), "", into)))
    assert.are.equal("done", (m:response_next_wire(200, head(), OK_BODY, "", into)))
  end)

  it("leaves anything but a whole answer, untouched, to the driver's reading", function()
    local cases = {
      head(),                                                  -- no end of head yet
      head() .. "\r\n\r",                                     -- the blank line not yet whole
      head() .. "\r\n\n\r\n" .. OK_BODY,                      -- no CRLF CRLF at all
      whole(head(), OK_BODY:sub(1, 10)),                       -- the body still coming
      whole(head(), OK_BODY .. "HTTP/1.1"),                    -- bytes past the body
      whole("HTTP/1.1 100 Continue", "") .. whole(head(), OK_BODY),  -- an interim answer
      whole("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked", "2\r\n{}\r\n0\r\n\r\n"),
      whole("HTTP/1.1 200 OK", "{}"),                          -- no Content-Length
      whole("HTTP/1.1 200 OK\r\nContent-Length: 2x", "{}"),
      whole("HTTP/1.1 204 No Content\r\nContent-Length: 2", "{}"),
      whole("HTTP/1.1 200 OK\r\nX: a\0b\r\nContent-Length: 2", "{}"),
      whole("SSH-2.0-OpenSSH", "{}"),
      whole("HTTP/1.1 200 OK\r\n" .. ("X-F: y\r\n"):rep(40) .. "Content-Length: 2", "{}"),
    }
    for i, data in ipairs(cases) do
      local m = client():machine("get_certificate", CERT)
      m:next_wire()
      assert.is_nil(m:take_answer(data), "case " .. i)
      -- nothing was answered: the driver's own answer is still the one taken
      m:response(200, head(), OK_BODY)
      assert.are.equal("done", (m:next_wire()), "case " .. i)
    end
  end)
end)

-- A finalizer run by an allocation inside a machine's method may close the
-- machine, its paginator or its client: the method ends on what the core
-- still holds, and the machine is closed once it returns (under ASan and
-- valgrind in tests/run, a use of freed memory is reported).
describe("a machine closed by a finalizer in the middle of a method", function()
  local RESPONSE = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n" ..
                   "x-amzn-RequestId: req-f\r\nContent-Length: " .. #OK_BODY .. "\r\n\r\n" .. OK_BODY
  local KINDS = { send = true, done = true, failed = true, sleep = true }

  local function stress(close, drive)
    local n = 0
    local ran = h.with_finalizers(1500, function()
      local c = client()
      return { c = c, m = c:machine("get_certificate", CERT) }
    end, close, function(t)
      local ok, err = pcall(drive, t.m)
      assert.is_true(ok, tostring(err))
      n = n + 1
    end)
    assert.are.equal(1500, ran)
    assert.are.equal(1500, n)
  end

  local function steps(m)
    local kind = m:next_wire("", {})
    assert.is_true(KINDS[kind], tostring(kind))
    if kind == "send" then
      local keep, kind2 = m:take_answer(RESPONSE, "", {})
      assert.is_true(keep == nil or KINDS[kind2], tostring(kind2))
    end
    kind = m:next()
    assert.is_true(KINDS[kind], tostring(kind))
  end

  it("m:close()", function()
    stress(function(t) t.m:close() end, steps)
  end)

  it("the client's close()", function()
    stress(function(t) t.c:close() end, steps)
  end)

  it("pages:close() under a page machine", function()
    local ran = h.with_finalizers(1500, function()
      local c = client()
      local pages = c:paginate("list_tags", { CertificateAuthorityArn = ARN })
      return { pages = pages, m = pages:machine() }
    end, function(t) t.pages:close() end, function(t)
      local kind = t.m:next_wire("", {})
      assert.is_true(KINDS[kind], tostring(kind))
      if kind == "send" then
        t.m:response(200, { ["Content-Type"] = "application/x-amz-json-1.1" }, '{"Tags":[]}')
        assert.is_true(KINDS[t.m:next()])
      end
    end)
    assert.are.equal(1500, ran)
  end)
end)
