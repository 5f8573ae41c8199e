-- Error objects from moto's real answers, paginators (page_size, max_items,
-- resume tokens, <close> on 5.4) and waiters that give up.
local h = require "helpers"
local acmpca = h.acmpca

local MISSING_CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/" ..
                   "00000000-0000-0000-0000-000000000000"

local function new_ca(c, cn)
  return c:create_certificate_authority{
    CertificateAuthorityType = "ROOT",
    CertificateAuthorityConfiguration = {
      KeyAlgorithm = "EC_prime256v1", SigningAlgorithm = "SHA256WITHECDSA",
      Subject = { CommonName = cn },
    },
  }.CertificateAuthorityArn
end

describe("error objects from moto", function()
  local c
  setup(function() c = h.client() end)
  teardown(function() c:close() end)

  it("ResourceNotFoundException with every field", function()
    local ok, err = pcall(c.describe_certificate_authority, c,
                          { CertificateAuthorityArn = MISSING_CA })
    assert.is_false(ok)
    assert.are.equal(acmpca.Error, getmetatable(err))
    assert.are.equal(acmpca.errors.ResourceNotFoundException, err.code)
    assert.are.equal("DescribeCertificateAuthority", err.operation)
    assert.are.equal(400, err.status)
    assert.is_true(#err.message > 0)
    assert.is_false(err.retryable)
    assert.are.equal(1, err.attempts)
    assert.are.equal(err.code .. ": " .. err.message, tostring(err))
  end)

  it("errors of other operations keep their operation name", function()
    local err = h.raises_code("ResourceNotFoundException", c.get_certificate_authority_csr, c,
                              { CertificateAuthorityArn = MISSING_CA })
    assert.are.equal("GetCertificateAuthorityCsr", err.operation)
    err = h.raises_code("ResourceNotFoundException", c.get_certificate_authority_certificate, c,
                        { CertificateAuthorityArn = MISSING_CA })
    assert.are.equal("GetCertificateAuthorityCertificate", err.operation)
  end)

  it("moto's HTML 500 (unknown certificate): no code, retried, status kept", function()
    local c2 = h.client{ max_attempts = 2 }
    local arn = new_ca(c2, "html-500")
    local err = h.raises_code("500", c2.get_certificate, c2,
                              { CertificateAuthorityArn = arn, CertificateArn = arn .. "/certificate/0" })
    assert.are.equal(500, err.status)
    assert.is_true(err.retryable)
    assert.are.equal(2, err.attempts)
    assert.are.equal("GetCertificate", err.operation)
    assert.matches("^HTTP 500 with no error code", err.message)
    c2:close()
  end)

  it("a waiter reports a service error no acceptor expects as it is", function()
    local err = h.raises_code("ResourceNotFoundException", c.wait, c,
                              "certificate_authority_csr_created",
                              { CertificateAuthorityArn = MISSING_CA }, { delay = 0.1 })
    assert.are.equal("GetCertificateAuthorityCsr", err.operation)
  end)

  it("the connection error of a dead endpoint", function()
    local dead = acmpca.new{ region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL,
                             credentials = h.CREDS, max_attempts = 2 }
    local err = h.raises_code("EndpointConnectionError", dead.list_certificate_authorities, dead)
    assert.is_true(err.retryable)
    assert.are.equal(2, err.attempts)
    assert.is_nil(err.status)
    dead:close()
  end)
end)

describe("paginators (moto)", function()
  local c, arns = nil, {}
  setup(function()
    c = h.client()
    for i = 1, 5 do arns[i] = new_ca(c, "pager-" .. i) end
  end)
  teardown(function() c:close() end)

  local function all_cas(opts)
    local seen, pages = {}, 0
    for page in c:paginate("list_certificate_authorities", {}, opts) do
      pages = pages + 1
      for _, ca in ipairs(page.CertificateAuthorities) do seen[#seen + 1] = ca.Arn end
    end
    return seen, pages
  end

  it("walks every page", function()
    local one_page = all_cas()
    local seen, pages = all_cas{ page_size = 2 }
    assert.are.equal(#one_page, #seen)
    assert.are.equal(math.ceil(#seen / 2), pages)
    local set = {}
    for _, arn in ipairs(seen) do set[arn] = true end
    for _, arn in ipairs(arns) do assert.is_true(set[arn], arn) end
  end)

  it("stops at max_items and resumes from resume_token", function()
    local total = #all_cas()
    local pager = c:paginate("ListCertificateAuthorities", nil, { page_size = 2, max_items = 3 })
    local first, last = {}, nil
    for page in pager do
      for _, ca in ipairs(page.CertificateAuthorities) do first[#first + 1] = ca.Arn end
      last = page
    end
    -- As botocore's, the cut page keeps the service's token; resume_token is what resumes.
    assert.is_string(last.NextToken)
    assert.are.equal(3, #first)
    local token = pager.resume_token
    assert.is_string(token)
    local rest = 0
    for page in c:paginate("list_certificate_authorities", {},
                           { page_size = 2, starting_token = token }) do
      for _, ca in ipairs(page.CertificateAuthorities) do
        rest = rest + 1
        for _, arn in ipairs(first) do assert.are_not.equal(arn, ca.Arn) end
      end
    end
    assert.are.equal(total - 3, rest)
  end)

  it("a paginator over a single page (moto ignores MaxResults for ListTags)", function()
    c:tag_certificate_authority{ CertificateAuthorityArn = arns[1],
                                 Tags = { { Key = "a" }, { Key = "b" } } }
    local pager = c:paginate("list_tags", { CertificateAuthorityArn = arns[1] }, { page_size = 1 })
    local page = pager()
    assert.are.equal(2, #page.Tags)
    assert.is_nil(pager())
    assert.is_nil(pager())
  end)

  if h.is54 then
    it("a generic for closes its paginator when the loop breaks (5.4)", function()
      local chunk = assert(load([[
        local c = ...
        local pager = c:paginate("list_certificate_authorities", {}, { page_size = 1 })
        local n = 0
        for page in pager, nil, nil, pager do
          n = n + 1
          break
        end
        return n, pager
      ]]))
      local n, pager = chunk(c)
      assert.are.equal(1, n)
      assert.is_nil(pager())  -- closed: no more pages though the service has more
    end)
  end
end)

describe("waiters (moto)", function()
  local c
  setup(function() c = h.client() end)
  teardown(function() c:close() end)

  it("returns the last response on success", function()
    local arn = new_ca(c, "waiter")
    local out = c:wait("CertificateAuthorityCSRCreated", { CertificateAuthorityArn = arn })
    assert.matches("CERTIFICATE REQUEST", out.Csr)
  end)
end)
