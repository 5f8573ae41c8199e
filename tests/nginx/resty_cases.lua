-- The nginx side of tests/nginx/resty_test.py: locations that use
-- resty.acmpca the way an OpenResty user would, answering JSON that the
-- Python side checks (it also scripts the fault server and reads its log).
--
--   POST /call      { options, client, op, params | wait, params, wait_options |
--                     paginate, params, paginate_options |
--                     request_certificate (the CA's ARN), request_options }
--                   -> { ok, result, meta, pages, err, tostring, elapsed }
--   POST /flow      { options, csr }: the walkthrough against moto (see flow())
--   POST /blocking  { options, op, params }: the blocking module, for contrast
local json = require "dkjson"
local acmpca = require "resty.acmpca"

local M = {}

-- Clients by the name the test gives them, so calls can share one (per worker).
local clients = {}

local function reply(doc, status)
  ngx.status = status or 200
  ngx.header["Content-Type"] = "application/json"
  ngx.say(json.encode(doc))
end

local function request()
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  local doc, _, err = json.decode(body or "", 1, nil)
  if type(doc) ~= "table" then
    reply({ error = "bad request body: " .. tostring(err) }, 400)
    return ngx.exit(400)
  end
  return doc
end

-- The fields of an error object, and the object itself (its metatable, tostring).
local function error_doc(err)
  if err == nil then return nil end
  if type(err) ~= "table" then return { raw = tostring(err) } end
  return {
    code = err.code, class = err.class, message = err.message, status = err.status,
    request_id = err.request_id, operation = err.operation, retryable = err.retryable,
    attempts = err.attempts, waiter = err.waiter, waiter_state = err.waiter_state,
    is_error_object = getmetatable(err) == acmpca.Error,
    tostring = tostring(err),
  }
end

local function client(doc)
  local c = doc.client and clients[doc.client]
  if c then return c end
  local err
  c, err = acmpca.new(doc.options)
  if c and doc.client then clients[doc.client] = c end
  return c, err
end

function M.call()
  local doc = request()
  local c, err = client(doc)
  if not c then return reply({ ok = false, stage = "new", err = error_doc(err) }) end
  if doc.abandon_after then
    -- A call killed mid-way (as nginx ends a request): its machine is never closed.
    local th = ngx.thread.spawn(function() return c:call(doc.op, doc.params) end)
    ngx.sleep(doc.abandon_after)
    ngx.thread.kill(th)
  end
  ngx.update_time()
  local t0 = ngx.now()
  local res, meta, pages
  if doc.wait then
    res, err = c:wait(doc.wait, doc.params, doc.wait_options)
  elseif doc.request_certificate then
    res, err = c:request_certificate(doc.request_certificate, doc.request_options)
  elseif doc.paginate then
    pages = {}
    for page, perr in c:paginate(doc.paginate, doc.params, doc.paginate_options) do
      if not page then
        err = perr
        break
      end
      pages[#pages + 1] = page
    end
    res = not err and pages or nil
  else
    res, meta = c:call(doc.op, doc.params)
    if not res then err, meta = meta, nil end
  end
  ngx.update_time()
  reply({ ok = res ~= nil, result = res, meta = meta, err = error_doc(err),
          elapsed = ngx.now() - t0, worker = ngx.worker.id() })
end

-- ngx.null where JSON has null (as cjson decodes it, at any depth): the inputs
-- treat it as absent. { options, op, params, wait, wait_options, paginate,
-- paginate_options, request_certificate, request_options } as for /call.
function M.null()
  ngx.req.read_body()
  local doc = json.decode(ngx.req.get_body_data() or "", 1, ngx.null)
  local c, err = acmpca.new(doc.options)
  if not c then return reply({ ok = false, stage = "new", err = error_doc(err) }) end
  local res
  if doc.wait then
    res, err = c:wait(doc.wait, doc.params, doc.wait_options)
  elseif doc.paginate then
    for page, perr in c:paginate(doc.paginate, doc.params, doc.paginate_options) do
      res, err = page, perr
      if not page then break end
    end
  elseif doc.request_certificate then
    res, err = c:request_certificate(doc.request_certificate, doc.request_options)
  else
    local meta
    res, meta = c:call(doc.op, doc.params)
    err = not res and meta or nil
  end
  reply({ ok = res ~= nil and res ~= false, err = error_doc(err) })
end

--[[
The walkthrough against moto, as a user writes it in a content handler:
create a root CA, wait for its CSR (waiter), issue and import its
certificate, issue a certificate for the posted CSR, wait for it (waiter),
get it with its chain, and list the CAs with the paginator. Answers the PEM
of the certificate and its chain, the CA's ARN, and how many CAs were listed.
]]
function M.flow()
  local doc = request()
  local c, err = acmpca.new(doc.options)
  if not c then return reply({ ok = false, step = "new", err = error_doc(err) }) end
  local function fail(step, e)
    reply({ ok = false, step = step, err = error_doc(e) })
    return ngx.exit(200)
  end
  local res
  res, err = c:create_certificate_authority{
    CertificateAuthorityType = "ROOT",
    CertificateAuthorityConfiguration = {
      KeyAlgorithm = "RSA_2048", SigningAlgorithm = "SHA256WITHRSA",
      Subject = { CommonName = "resty.acmpca Test Root", Organization = "acmpca" },
    },
  }
  if not res then return fail("create_certificate_authority", err) end
  local ca = res.CertificateAuthorityArn
  local csr
  csr, err = c:wait("certificate_authority_csr_created", { CertificateAuthorityArn = ca },
                    { delay = 0.2, max_attempts = 50 })
  if not csr then return fail("wait csr", err) end
  res, err = c:get_certificate_authority_csr{ CertificateAuthorityArn = ca }
  if not res then return fail("get_certificate_authority_csr", err) end
  res, err = c:issue_certificate{
    CertificateAuthorityArn = ca, Csr = res.Csr, SigningAlgorithm = "SHA256WITHRSA",
    TemplateArn = "arn:aws:acm-pca:::template/RootCACertificate/V1",
    Validity = { Value = 3650, Type = "DAYS" },
  }
  if not res then return fail("issue root", err) end
  local root_arn = res.CertificateArn
  local issued = { CertificateAuthorityArn = ca, CertificateArn = root_arn }
  res, err = c:wait("certificate_issued", issued, { delay = 0.2, max_attempts = 50 })
  if not res then return fail("wait root", err) end
  res, err = c:get_certificate(issued)
  if not res then return fail("get root", err) end
  local root = res.Certificate
  res, err = c:import_certificate_authority_certificate{ CertificateAuthorityArn = ca,
                                                         Certificate = root }
  if not res then return fail("import", err) end
  res, err = c:issue_certificate{
    CertificateAuthorityArn = ca, Csr = doc.csr, SigningAlgorithm = "SHA256WITHRSA",
    Validity = { Value = 7, Type = "DAYS" },
  }
  if not res then return fail("issue leaf", err) end
  issued = { CertificateAuthorityArn = ca, CertificateArn = res.CertificateArn }
  res, err = c:wait("certificate_issued", issued, { delay = 0.2, max_attempts = 50 })
  if not res then return fail("wait leaf", err) end
  local leaf
  leaf, err = c:get_certificate(issued)
  if not leaf then return fail("get leaf", err) end
  local listed, found = 0, false
  for page, perr in c:paginate("list_certificate_authorities", {}, { page_size = 1 }) do
    if not page then return fail("paginate", perr) end
    for _, item in ipairs(page.CertificateAuthorities or {}) do
      listed = listed + 1
      found = found or item.Arn == ca
    end
  end
  -- Key, CSR, issue, wait and fetch in one call; a bad option is an err, not a raise.
  local made
  made, err = c:request_certificate(ca, { common_name = "made.resty.example.test",
                                          dns_names = { "made.resty.example.test" },
                                          validity_days = 7, wait_delay = 0.2 })
  if not made then return fail("request_certificate", err) end
  local _, bad = c:request_certificate(ca, { common_name = "x", colour = "blue" })
  reply({ ok = true, ca = ca, certificate = leaf.Certificate,
          chain = leaf.CertificateChain or root, listed = listed, found = found,
          made = { certificate = made.Certificate, chain = made.CertificateChain or root,
                   key = made.PrivateKey, arn = made.CertificateArn },
          bad_option = error_doc(bad) })
end

-- Every method of the blocking client that names an operation, called on a
-- resty.acmpca client with a bad parameter: { methods = { name = code } }, and
-- `missing` the operations the blocking client has that this one lacks.
function M.methods()
  local doc = request()
  local c = acmpca.new(doc.options)
  local blocking = require("acmpca").new(doc.options)
  local out, missing = {}, {}
  for _, name in ipairs(acmpca.operations) do
    if type(blocking[name]) ~= "function" then missing[#missing + 1] = "blocking:" .. name end
    if type(c[name]) ~= "function" then
      missing[#missing + 1] = name
    else
      local ok, res, err = pcall(c[name], c, { NoSuchParameter = 1 })
      out[name] = ok and res == nil and getmetatable(err) == acmpca.Error and err.code
                  or ("raised or answered: " .. tostring(res))
    end
  end
  blocking:close()
  reply({ methods = out, missing = missing, count = #acmpca.operations })
end

-- The blocking module inside a handler (what the issue warns about): for contrast.
function M.blocking()
  local doc = request()
  local blocking = require "acmpca"
  local ok, res = pcall(function()
    local c = blocking.new(doc.options)
    return c[doc.op](c, doc.params)
  end)
  reply({ ok = ok, err = not ok and error_doc(res) or nil })
end

return M
