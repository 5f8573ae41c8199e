-- c:request_certificate end to end against moto: an active root CA, then
-- server certificates from a key and CSR made in the call, from a given CSR
-- (PEM or DER), checked with `openssl verify` and parse_certificate; service
-- errors come back as error objects.
local h = require "helpers"
local acmpca = h.acmpca

local ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"

describe("c:request_certificate (moto)", function()
  local c, dir, ca_arn, root_pem

  local function sh_ok(cmd)
    local out, ok = h.sh(cmd .. " 2>&1")
    assert(ok, cmd .. ": " .. out)
    return out
  end

  -- `openssl verify` of a leaf against the root, and the leaf's public key.
  local function verify(leaf_pem)
    local ok, out = h.verify(dir, leaf_pem, root_pem)
    assert.is_true(ok, out)
  end
  local function pubkey_of_cert(pem)
    h.write(dir .. "/cert.pem", pem)
    return sh_ok("openssl x509 -noout -pubkey -in " .. h.shell_quote(dir .. "/cert.pem"))
  end
  local function pubkey_of_key(pem)
    h.write(dir .. "/key.pem", pem)
    return sh_ok("openssl pkey -pubout -in " .. h.shell_quote(dir .. "/key.pem"))
  end

  setup(function()
    assert(h.endpoint, "run under tests/fixtures/with_server.py moto")
    c = h.client()
    dir = h.tmpdir()
    ca_arn = c:create_certificate_authority{
      CertificateAuthorityType = "ROOT",
      CertificateAuthorityConfiguration = {
        KeyAlgorithm = "RSA_2048", SigningAlgorithm = "SHA256WITHRSA",
        Subject = { CommonName = "Lua PKI Root", Organization = "acmpca", Country = "US" },
      },
      RevocationConfiguration = { CrlConfiguration = { Enabled = false } },
    }.CertificateAuthorityArn
    c:wait("certificate_authority_csr_created", { CertificateAuthorityArn = ca_arn },
           { delay = 0.2, max_attempts = 10 })
  end)
  teardown(function()
    if c then c:close() end
    h.rmdir(dir)
  end)

  it("signs the CA's own CSR with the root template, which then imports", function()
    local csr = c:get_certificate_authority_csr{ CertificateAuthorityArn = ca_arn }.Csr
    local out = c:request_certificate(ca_arn, { csr = csr, template_arn = ROOT_TEMPLATE,
                                                validity_days = 3650, wait_delay = 0.2,
                                                wait_max_attempts = 10 })
    assert.matches("/certificate/", out.CertificateArn)
    assert.is_nil(out.PrivateKey)  -- a CSR was given
    assert.are.equal(acmpca.normalize_csr(csr), out.Csr)
    root_pem = out.Certificate
    local info = acmpca.parse_certificate(root_pem)
    assert.is_true(info.IsCA)
    assert.matches("CN=Lua PKI Root", info.Subject, 1, true)
    assert.are.equal(info.Subject, info.Issuer)
    c:import_certificate_authority_certificate{ CertificateAuthorityArn = ca_arn,
                                                Certificate = root_pem }
    local ca = c:describe_certificate_authority{ CertificateAuthorityArn = ca_arn }
    assert.are.equal("ACTIVE", ca.CertificateAuthority.Status)
  end)

  it("makes a key and a CSR, issues and waits: a server certificate that verifies", function()
    assert(root_pem, "needs the active root CA")
    local out = c:request_certificate(ca_arn, {
      common_name = "www.example.test", organization = "Example Corp", country = "US",
      dns_names = { "www.example.test", "example.test" }, ip_addresses = { "192.0.2.10" },
      validity_days = 30,
    })
    local keys = {}
    for k in pairs(out) do keys[#keys + 1] = k end
    table.sort(keys)
    assert.are.same({ "Certificate", "CertificateArn", "CertificateChain", "Csr", "PrivateKey" },
                    keys)
    assert.matches("^arn:aws:acm%-pca:.*/certificate/", out.CertificateArn)
    assert.matches("^%-%-%-%-%-BEGIN PRIVATE KEY%-%-%-%-%-", out.PrivateKey)
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE REQUEST%-%-%-%-%-", out.Csr)
    assert.is_string(out.CertificateChain)
    verify(out.Certificate)
    -- The certificate is for the key the call made (the default EC P-256).
    assert.are.equal(pubkey_of_key(out.PrivateKey), pubkey_of_cert(out.Certificate))

    local info = acmpca.parse_certificate(out.Certificate)
    assert.matches("CN=www.example.test", info.Subject, 1, true)
    assert.matches("CN=Lua PKI Root", info.Issuer, 1, true)
    assert.is_false(info.IsCA)
    assert.are.equal("EC_prime256v1", info.KeyAlgorithm)
    assert.are.same({ { Type = "DNS", Value = "www.example.test" },
                      { Type = "DNS", Value = "example.test" },
                      { Type = "IP", Value = "192.0.2.10" } }, info.SubjectAlternativeNames)
    assert.is_true(info.NotAfter > info.NotBefore)

    -- Its serial, normalised, is what revocation takes.
    local serial = acmpca.normalize_serial(out.Certificate)
    assert.are.equal(h.serial(dir, out.Certificate), serial)
    assert.are.equal(info.Serial, serial)
    c:revoke_certificate{ CertificateAuthorityArn = ca_arn, CertificateSerial = serial,
                          RevocationReason = "SUPERSEDED" }
  end)

  it("takes key_type for the new key, and a DER CSR of our own", function()
    assert(root_pem, "needs the active root CA")
    local out = c:issue_and_wait(ca_arn, { key_type = "RSA_2048", dns_names = { "rsa.example" },
                                           signing_algorithm = "SHA256WITHRSA" })
    assert.are.equal("RSA_2048", acmpca.parse_certificate(out.Certificate).KeyAlgorithm)
    assert.are.equal(pubkey_of_key(out.PrivateKey), pubkey_of_cert(out.Certificate))
    verify(out.Certificate)

    local csr_pem = h.make_csr(dir, "der.example")
    sh_ok(("openssl req -in %s -outform DER -out %s"):format(
      h.shell_quote(dir .. "/der.example.csr"), h.shell_quote(dir .. "/der.example.der")))
    local der = h.read(dir .. "/der.example.der")
    out = c:request_certificate(ca_arn, { csr = der })
    assert.is_nil(out.PrivateKey)
    assert.are.equal(acmpca.normalize_csr(csr_pem), out.Csr)
    assert.are.equal(pubkey_of_key(h.read(dir .. "/der.example.key")),
                     pubkey_of_cert(out.Certificate))
    verify(out.Certificate)
  end)

  it("raises the service's errors as error objects", function()
    local missing = ca_arn:gsub("/[^/]+$", "/00000000-0000-0000-0000-000000000000")
    local err = h.raises_code("ResourceNotFoundException", c.request_certificate, c, missing,
                              { common_name = "x.example" })
    assert.are.equal("DescribeCertificateAuthority", err.operation)
    assert.are.equal(400, err.status)
    err = h.raises_code("ResourceNotFoundException", c.request_certificate, c, missing,
                        { common_name = "x.example", signing_algorithm = "SHA256WITHRSA" })
    assert.are.equal("IssueCertificate", err.operation)
    assert.is_string(err.request_id)
  end)
end)
