-- The full CA flow against moto, using all 17 operations moto implements:
-- create a root CA -> wait for / get its CSR -> issue the root certificate with
-- the RootCACertificate template -> import it -> issue an end-entity
-- certificate for an `openssl req` CSR -> get it -> `openssl verify` ->
-- tag / list / untag -> policy -> update -> revoke -> delete.
local h = require "helpers"

local ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"

describe("the full CA flow (moto)", function()
  local c, dir, ca_arn, root_pem, leaf_pem, leaf_arn
  local used = {}

  local function call(method, params)
    used[method] = true
    local out, meta = c[method](c, params)
    assert.are.equal("table", type(out))
    assert.are.equal(200, meta.status)
    assert.is_string(meta.request_id)
    assert.are.equal(0, meta.retry_attempts)
    return out, meta
  end

  setup(function()
    assert(h.endpoint, "run under tests/fixtures/with_server.py moto")
    c = h.client()
    dir = h.tmpdir()
  end)
  teardown(function()
    if c then c:close() end
    h.rmdir(dir)
  end)

  it("creates a root CA", function()
    local out = call("create_certificate_authority", {
      CertificateAuthorityType = "ROOT",
      CertificateAuthorityConfiguration = {
        KeyAlgorithm = "RSA_2048", SigningAlgorithm = "SHA256WITHRSA",
        Subject = { CommonName = "Lua Test Root", Organization = "acmpca", Country = "US" },
      },
      RevocationConfiguration = { CrlConfiguration = { Enabled = false } },
      Tags = { { Key = "team", Value = "pki" } },
    })
    ca_arn = out.CertificateAuthorityArn
    assert.matches(":certificate%-authority/", ca_arn)
    local n = 0
    for _ in pairs(out) do n = n + 1 end
    assert.are.equal(1, n)  -- the result has no extra keys

    local ca = call("describe_certificate_authority", { CertificateAuthorityArn = ca_arn })
    ca = ca.CertificateAuthority
    assert.are.equal("PENDING_CERTIFICATE", ca.Status)
    assert.are.equal("ROOT", ca.Type)
    assert.are.equal("number", type(ca.CreatedAt))
    assert.are.equal("Lua Test Root", ca.CertificateAuthorityConfiguration.Subject.CommonName)
  end)

  it("waits for the CSR, signs the root certificate with the template, imports it", function()
    local csr_out = c:wait("certificate_authority_csr_created",
                           { CertificateAuthorityArn = ca_arn }, { delay = 0.2, max_attempts = 10 })
    assert.matches("BEGIN CERTIFICATE REQUEST", csr_out.Csr)
    local out = call("get_certificate_authority_csr", { CertificateAuthorityArn = ca_arn })
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE REQUEST%-%-%-%-%-", out.Csr)

    local issued = call("issue_certificate", {
      CertificateAuthorityArn = ca_arn, Csr = out.Csr, SigningAlgorithm = "SHA256WITHRSA",
      TemplateArn = ROOT_TEMPLATE, Validity = { Value = 3650, Type = "DAYS" },
    })
    assert.matches("/certificate/", issued.CertificateArn)
    local cert = c:wait("certificate_issued", { CertificateAuthorityArn = ca_arn,
                                                CertificateArn = issued.CertificateArn },
                        { delay = 0.2, max_attempts = 10 })
    assert.matches("BEGIN CERTIFICATE", cert.Certificate)
    cert = call("get_certificate", { CertificateAuthorityArn = ca_arn,
                                     CertificateArn = issued.CertificateArn })
    root_pem = cert.Certificate
    assert.matches("CN ?= ?Lua Test Root", h.subject(dir, root_pem))

    out = call("import_certificate_authority_certificate",
               { CertificateAuthorityArn = ca_arn, Certificate = root_pem })
    assert.are.same({}, out)
    local ca = call("describe_certificate_authority", { CertificateAuthorityArn = ca_arn })
    assert.are.equal("ACTIVE", ca.CertificateAuthority.Status)
    out = call("get_certificate_authority_certificate", { CertificateAuthorityArn = ca_arn })
    assert.are.equal(root_pem, out.Certificate)
  end)

  it("issues an end-entity certificate for an openssl CSR, which openssl verifies", function()
    local csr = h.make_csr(dir, "www.example.test")
    local out = call("issue_certificate", {
      CertificateAuthorityArn = ca_arn, Csr = csr, SigningAlgorithm = "SHA256WITHRSA",
      Validity = { Value = 30, Type = "DAYS" }, IdempotencyToken = "lua-flow-1",
    })
    leaf_arn = out.CertificateArn
    c:wait("certificate_issued", { CertificateAuthorityArn = ca_arn, CertificateArn = leaf_arn })
    local cert = call("get_certificate", { CertificateAuthorityArn = ca_arn,
                                           CertificateArn = leaf_arn })
    leaf_pem = cert.Certificate
    assert.matches("www.example.test", h.subject(dir, leaf_pem))
    local ok, text = h.verify(dir, leaf_pem, root_pem)
    assert.is_true(ok, text)
  end)

  it("tags, lists (one tag per page) and untags", function()
    call("tag_certificate_authority", { CertificateAuthorityArn = ca_arn,
                                        Tags = { { Key = "env", Value = "test" },
                                                 { Key = "owner" } } })
    local tags = call("list_tags", { CertificateAuthorityArn = ca_arn }).Tags
    assert.are.equal(3, #tags)
    -- moto ignores MaxResults for ListTags (one page); the paginator still walks it
    local seen = {}
    for page in c:paginate("list_tags", { CertificateAuthorityArn = ca_arn }, { page_size = 1 }) do
      for _, t in ipairs(page.Tags) do seen[#seen + 1] = t.Key end
    end
    table.sort(seen)
    assert.are.same({ "env", "owner", "team" }, seen)
    call("untag_certificate_authority", { CertificateAuthorityArn = ca_arn,
                                          Tags = { { Key = "owner" } } })
    tags = call("list_tags", { CertificateAuthorityArn = ca_arn }).Tags
    assert.are.equal(2, #tags)
  end)

  it("lists CAs", function()
    local out = call("list_certificate_authorities", {})
    local found
    for _, ca in ipairs(out.CertificateAuthorities) do
      if ca.Arn == ca_arn then found = ca end
    end
    assert.is_table(found)
    assert.are.equal("ACTIVE", found.Status)
    assert.is_nil(out.NextToken)  -- moto's JSON null is dropped
  end)

  it("puts, gets and deletes a resource policy", function()
    local policy = ([[{"Version":"2012-10-17","Statement":[{"Effect":"Allow",]] ..
                    [["Principal":{"AWS":"123456789012"},"Action":"acm-pca:GetCertificate",]] ..
                    [["Resource":"%s"}]}]]):format(ca_arn)
    call("put_policy", { ResourceArn = ca_arn, Policy = policy })
    assert.are.equal(policy, call("get_policy", { ResourceArn = ca_arn }).Policy)
    assert.are.same({}, call("delete_policy", { ResourceArn = ca_arn }))
  end)

  it("updates, revokes and deletes", function()
    call("update_certificate_authority", {
      CertificateAuthorityArn = ca_arn,
      RevocationConfiguration = { CrlConfiguration = { Enabled = false } } })
    call("revoke_certificate", { CertificateAuthorityArn = ca_arn,
                                 CertificateSerial = h.serial(dir, leaf_pem),
                                 RevocationReason = "KEY_COMPROMISE" })
    call("update_certificate_authority", { CertificateAuthorityArn = ca_arn, Status = "DISABLED" })
    call("delete_certificate_authority", { CertificateAuthorityArn = ca_arn,
                                           PermanentDeletionTimeInDays = 7 })
    local ca = call("describe_certificate_authority", { CertificateAuthorityArn = ca_arn })
    assert.are.equal("DELETED", ca.CertificateAuthority.Status)
  end)

  it("used every operation moto implements", function()
    local expected = {
      "create_certificate_authority", "delete_certificate_authority", "delete_policy",
      "describe_certificate_authority", "get_certificate",
      "get_certificate_authority_certificate", "get_certificate_authority_csr", "get_policy",
      "import_certificate_authority_certificate", "issue_certificate",
      "list_certificate_authorities", "list_tags", "put_policy", "revoke_certificate",
      "tag_certificate_authority", "untag_certificate_authority", "update_certificate_authority",
    }
    assert.are.equal(17, #expected)
    for _, m in ipairs(expected) do assert.is_true(used[m], m) end
  end)
end)
