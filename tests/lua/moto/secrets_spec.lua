-- Secrets never show (issue 5): a client built from known credentials with a
-- session token makes successful calls, gets service errors, validation errors
-- and waiter / paginator results, builds requests and signs; every string a
-- Lua user can see on the way -- tostring() of clients, errors and paginators,
-- every field of every error object, results and meta, build_request's
-- result (but the X-Amz-Security-Token value, which must be there) and
-- acmpca.sign's outputs -- is collected, and neither the secret key nor the
-- session token (nor a piece of either) appears in it.
local h = require "helpers"
local acmpca = h.acmpca

local KEY_ID = "AKIDSECRETSTEST"
local SECRET = "Sup3rSecretKeyValue/ShouldNeverLeak+0123456789"
local TOKEN = "SessionTokenThatMustStayHidden=="
local MISSING_CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/" ..
                   "00000000-0000-0000-0000-000000000000"

describe("secrets (moto)", function()
  local seen          -- everything observable, one string per entry
  local token_sent    -- how many build_request / sign results carried the token

  -- Any value: strings and numbers as text, tables walked (keys too), others tostring'd.
  local function observe(v, depth)
    depth = depth or 0
    local t = type(v)
    if t == "table" and depth < 20 then
      if getmetatable(v) == acmpca.Error then seen[#seen + 1] = tostring(v) end
      for k, x in pairs(v) do
        observe(k, depth + 1)
        observe(x, depth + 1)
      end
    else
      seen[#seen + 1] = tostring(v)
    end
  end

  -- A call expected to raise: the error object (and its tostring) is observed.
  local function observe_error(code, fn, ...)
    local ok, err = pcall(fn, ...)
    assert.is_false(ok, "expected an error: " .. tostring(code))
    observe(err)
    observe(tostring(err))
    if code then assert.are.equal(code, err.code, tostring(err)) end
    return err
  end

  -- A request from build_request or sign: the token header must be the
  -- token; everything else is observed.
  local function observe_request(req)
    local headers = req.headers
    assert.are.equal(TOKEN, headers["X-Amz-Security-Token"])
    token_sent = token_sent + 1
    for k, v in pairs(req) do
      if k ~= "headers" then observe(k); observe(v) end
    end
    for k, v in pairs(headers) do
      observe(k)
      if k ~= "X-Amz-Security-Token" then observe(v) end
    end
  end

  local creds = { access_key_id = KEY_ID, secret_access_key = SECRET, session_token = TOKEN }
  local config = { region = "us-east-1", endpoint_url = h.endpoint, credentials = creds }

  before_each(function()
    seen, token_sent = {}, 0
  end)

  it("shows neither the secret key nor the session token anywhere", function()
    local c = acmpca.new(config)
    observe(tostring(c))
    observe(c:endpoint())
    observe(c:region())
    observe({ c:credentials_source() })

    -- Successful calls: results and meta.
    local arn = c:create_certificate_authority{
      CertificateAuthorityType = "ROOT",
      CertificateAuthorityConfiguration = { KeyAlgorithm = "EC_prime256v1",
        SigningAlgorithm = "SHA256WITHECDSA", Subject = { CommonName = "secrets" } },
      Tags = { { Key = "k", Value = "v" } },
    }.CertificateAuthorityArn
    observe(arn)
    observe({ c:list_certificate_authorities() })
    observe({ c:describe_certificate_authority{ CertificateAuthorityArn = arn } })
    observe({ c:get_certificate_authority_csr{ CertificateAuthorityArn = arn } })
    observe({ c:list_tags{ CertificateAuthorityArn = arn } })
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = arn }, { page_size = 1 })
    observe(tostring(pages))
    for page in pages do observe(page) end
    observe(pages.resume_token)

    -- Service errors.
    observe_error("ResourceNotFoundException", c.describe_certificate_authority, c,
                  { CertificateAuthorityArn = MISSING_CA })
    observe_error("ResourceNotFoundException", c.get_certificate_authority_certificate, c,
                  { CertificateAuthorityArn = MISSING_CA })
    observe_error(nil, c.wait, c, "certificate_authority_csr_created",
                  { CertificateAuthorityArn = MISSING_CA }, { delay = 0.01, max_attempts = 1 })

    -- Validation errors, before any I/O, in the binding and in the core.
    observe_error("ParamValidationError", c.get_policy, c,
                  { CertificateAuthorityArn = MISSING_CA })
    observe_error("ParamValidationError", c.describe_certificate_authority, c,
                  { CertificateAuthorityArn = 42 })
    observe_error("ParamValidationError", c.issue_certificate, c,
                  { CertificateAuthorityArn = MISSING_CA, Csr = "x" })
    observe_error("ParamValidationError", c.build_request, c, "list_tags", { Nope = "v" })
    observe_error("ParamValidationError", acmpca.new,
                  { credentials = { secret_access_key = SECRET, session_token = TOKEN } })
    observe_error("ParamValidationError", acmpca.new,
                  { credentials = { access_key_id = KEY_ID, secret_access_key = SECRET,
                                    token = TOKEN } })
    observe_error("ParamValidationError", acmpca.new,
                  { credentials = { access_key_id = KEY_ID, secret_access_key = SECRET,
                                    session_token = 7 } })

    -- Requests built for another HTTP stack, by client and by config.
    observe_request(c:build_request("describe_certificate_authority",
                                    { CertificateAuthorityArn = arn }))
    observe_request(acmpca.build_request(config, "list_certificate_authorities", {}))

    -- The public signer, the token left out of the signature as for S3-style presigning.
    observe_request(acmpca.sign{
      method = "POST", url = "https://acm-pca.us-east-1.amazonaws.com/", region = "us-east-1",
      service = "acm-pca", access_key_id = KEY_ID, secret_access_key = SECRET,
      session_token = TOKEN, timestamp = 1700000000, unsigned_token = true,
    })

    -- A closed client.
    c:close()
    observe(tostring(c))
    observe_error("ClientClosedError", c.list_certificate_authorities, c)

    assert.are.equal(3, token_sent)
    assert.is_true(#seen > 100, "collected only " .. #seen .. " strings")
    local all = table.concat(seen, "\n")
    assert.truthy(all:find(KEY_ID, 1, true))  -- the access key id is not a secret
    for _, secret in ipairs{ SECRET, TOKEN, "Sup3rSecret", "ShouldNeverLeak",
                             "SessionTokenThatMust", "MustStayHidden" } do
      assert.is_nil(all:find(secret, 1, true), "found " .. secret .. " in what a user sees")
    end
  end)
end)
