-- The OpenResty side of tests/nginx/run.sh: ACM PCA calls made without
-- blocking the nginx worker. acmpca.build_request validates, serializes and
-- signs (no I/O); the request goes out on an ngx.socket.tcp cosocket (a
-- minimal HTTP/1.1 client below); acmpca.parse_response turns the answer into
-- the result table or raises the same error object a client would. Waiting
-- for the CSR and the certificates polls with ngx.sleep, which yields too.
local acmpca = require "acmpca"

local M = {}

local function config()
  return {
    region = os.getenv("AWS_REGION") or "us-east-1",
    endpoint_url = assert(os.getenv("ACMPCA_TEST_ENDPOINT"), "ACMPCA_TEST_ENDPOINT is not set"),
    credentials = { access_key_id = os.getenv("AWS_ACCESS_KEY_ID"),
                    secret_access_key = os.getenv("AWS_SECRET_ACCESS_KEY") },
  }
end

-- Read an HTTP/1.1 response from `sock`: status, headers ({ name = value or
-- { values... } }), body. Handles Content-Length, chunked, and read-to-close.
local function read_response(sock)
  local line, err = sock:receive("*l")
  if not line then return nil, "reading the status line: " .. tostring(err) end
  local status = tonumber(line:match("^HTTP/1%.[01] (%d%d%d)"))
  if not status then return nil, "bad status line: " .. line end
  local headers, lower = {}, {}
  while true do
    line, err = sock:receive("*l")
    if not line then return nil, "reading headers: " .. tostring(err) end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then
      local prev = headers[name]
      if prev == nil then
        headers[name] = value
      elseif type(prev) == "table" then
        prev[#prev + 1] = value
      else
        headers[name] = { prev, value }
      end
      lower[name:lower()] = value
    end
  end
  local body
  if lower["transfer-encoding"] and lower["transfer-encoding"]:lower():find("chunked") then
    local parts = {}
    while true do
      local size_line = sock:receive("*l")
      local size = size_line and tonumber(size_line:match("^%x+"), 16)
      if not size then return nil, "bad chunk size" end
      if size == 0 then
        repeat line = sock:receive("*l") until not line or line == ""
        break
      end
      parts[#parts + 1] = sock:receive(size)
      sock:receive("*l")
    end
    body = table.concat(parts)
  elseif lower["content-length"] then
    local n = tonumber(lower["content-length"])
    body = n > 0 and sock:receive(n) or ""
  else
    body = sock:receive("*a")
  end
  if not body then return nil, "reading the body failed" end
  return status, headers, body
end

-- One call: build_request -> cosocket -> parse_response. Returns the result
-- table or raises the acmpca error object.
function M.call(operation, params)
  local req = acmpca.build_request(config(), operation, params)
  local sock = ngx.socket.tcp()
  sock:settimeouts(5000, 30000, 30000)
  local ok, err = sock:connect(req.host, req.port)
  if not ok then error("connect " .. req.host .. ":" .. req.port .. ": " .. tostring(err)) end
  local head = { ("%s %s HTTP/1.1"):format(req.method, req.path) }
  for name, value in pairs(req.headers) do head[#head + 1] = name .. ": " .. value end
  head[#head + 1] = "Content-Length: " .. #req.body
  head[#head + 1] = "Connection: close"
  local sent
  sent, err = sock:send(table.concat(head, "\r\n") .. "\r\n\r\n" .. req.body)
  if not sent then error("send: " .. tostring(err)) end
  local status, headers, body = read_response(sock)
  sock:close()
  if not status then error(headers) end
  return (acmpca.parse_response(operation, status, headers, body))
end

-- Call until the answer is not RequestInProgressException (moto answers at
-- once; the real service takes a few seconds), sleeping without blocking.
local function poll(operation, params)
  for _ = 1, 60 do
    local ok, res = pcall(M.call, operation, params)
    if ok then return res end
    if type(res) ~= "table" or res.code ~= "RequestInProgressException" then error(res, 0) end
    ngx.sleep(0.2)
  end
  error("gave up waiting for " .. operation)
end

local function fail(err)
  ngx.status = 500
  ngx.header["Content-Type"] = "text/plain"
  ngx.say("error: ", tostring(err))
  if type(err) == "table" then
    ngx.say("code: ", tostring(err.code), " status: ", tostring(err.status),
            " operation: ", tostring(err.operation))
  end
  ngx.log(ngx.ERR, "acmpca demo failed: ", tostring(err))
  return ngx.exit(500)
end

-- POST /issue with a CSR (PEM) as the body: create a root CA, sign and import
-- its certificate, issue a certificate for the CSR; answer with the PEM of the
-- certificate followed by its chain.
function M.issue()
  ngx.req.read_body()
  local csr = ngx.req.get_body_data()
  if not csr then return fail("send a CSR (PEM) as the request body") end
  local ok, err = pcall(function()
    local ca_arn = M.call("create_certificate_authority", {
      CertificateAuthorityType = "ROOT",
      CertificateAuthorityConfiguration = {
        KeyAlgorithm = "RSA_2048", SigningAlgorithm = "SHA256WITHRSA",
        Subject = { CommonName = "OpenResty Test Root", Organization = "acmpca" },
      },
      IdempotencyToken = "nginx-" .. ngx.now(),
    }).CertificateAuthorityArn
    local ca_csr = poll("get_certificate_authority_csr", { CertificateAuthorityArn = ca_arn }).Csr
    local root_arn = M.call("issue_certificate", {
      CertificateAuthorityArn = ca_arn, Csr = ca_csr, SigningAlgorithm = "SHA256WITHRSA",
      TemplateArn = "arn:aws:acm-pca:::template/RootCACertificate/V1",
      Validity = { Value = 3650, Type = "DAYS" },
    }).CertificateArn
    local root = poll("get_certificate", { CertificateAuthorityArn = ca_arn,
                                           CertificateArn = root_arn }).Certificate
    M.call("import_certificate_authority_certificate",
           { CertificateAuthorityArn = ca_arn, Certificate = root })
    local leaf_arn = M.call("issue_certificate", {
      CertificateAuthorityArn = ca_arn, Csr = csr, SigningAlgorithm = "SHA256WITHRSA",
      Validity = { Value = 7, Type = "DAYS" },
    }).CertificateArn
    local leaf = poll("get_certificate", { CertificateAuthorityArn = ca_arn,
                                           CertificateArn = leaf_arn })
    ngx.header["Content-Type"] = "application/x-pem-file"
    ngx.header["X-CA-Arn"] = ca_arn
    ngx.header["X-Certificate-Arn"] = leaf_arn
    ngx.print(leaf.Certificate, "\n", leaf.CertificateChain or root, "\n")
  end)
  if not ok then return fail(err) end
end

-- GET /error: a service error raised by parse_response, as an error object.
function M.error()
  local ok, err = pcall(M.call, "describe_certificate_authority", {
    CertificateAuthorityArn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/" ..
                              "00000000-0000-0000-0000-000000000000" })
  if ok then return fail("expected ResourceNotFoundException") end
  ngx.header["Content-Type"] = "text/plain"
  ngx.say(err.code, " ", err.status, " ", err.operation, " ", getmetatable(err) == acmpca.Error)
end

-- GET /invalid: a ParamValidationError from build_request, before any I/O.
function M.invalid()
  local ok, err = pcall(acmpca.build_request, config(), "issue_certificate",
                        { CertificateAuthorityArn = "arn:x", Validity = { Value = "soon" } })
  ngx.header["Content-Type"] = "text/plain"
  ngx.say(ok and "no error" or tostring(err))
end

return M
