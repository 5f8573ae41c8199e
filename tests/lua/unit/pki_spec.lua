-- The PKI helpers (acmpca/pki.h) from Lua: keys, CSRs, CSR and serial
-- normalisation, certificate reading; bad input raises ParamValidationError
-- naming the field; request_certificate validates before any I/O.
-- Results are checked with the openssl command line tool. No server.
local h = require "helpers"
local acmpca = h.acmpca

local dir
setup(function() dir = h.tmpdir() end)
teardown(function() h.rmdir(dir) end)

-- openssl on a file made from `text`; returns the output and whether it exited 0.
local function openssl(args, text, name)
  local path = dir .. "/" .. (name or "in.pem")
  h.write(path, text)
  return h.sh("openssl " .. args:gsub("IN", h.shell_quote(path)) .. " 2>&1")
end

local function param_error(pattern, fn, ...)
  local err = h.raises_code("ParamValidationError", fn, ...)
  assert.matches(pattern, err.message)
  assert.is_nil(err.status)
  assert.is_false(err.retryable)
  return err
end

describe("acmpca.generate_key", function()
  local kinds = {
    { "RSA_2048", "Private%-Key: %(2048 bit" },
    { "EC_prime256v1", "ASN1 OID: prime256v1" },
    { "p384", "ASN1 OID: secp384r1" },
    { "EC_secp521r1", "ASN1 OID: secp521r1" },
    { "ed25519", "ED25519 Private%-Key" },
  }
  for _, k in ipairs(kinds) do
    it("makes a " .. k[1] .. " key as PKCS#8 PEM", function()
      local pem = acmpca.generate_key(k[1])
      assert.matches("^%-%-%-%-%-BEGIN PRIVATE KEY%-%-%-%-%-\n", pem)
      local out, ok = openssl("pkey -noout -text -in IN", pem)
      assert.is_true(ok, out)
      assert.matches(k[2], out)
    end)
  end

  it("defaults to EC P-256, a new key each time", function()
    local a, b = acmpca.generate_key(), acmpca.generate_key(nil)
    assert.are_not.equal(a, b)
    assert.matches("ASN1 OID: prime256v1", (openssl("pkey -noout -text -in IN", a)))
  end)

  it("refuses unknown and non-string key types", function()
    param_error('^key_type: expected one of RSA_2048.*; got "DSA_1024"$',
                acmpca.generate_key, "DSA_1024")
    param_error("^key_type: expected a string, got number$", acmpca.generate_key, 2048)
  end)
end)

describe("acmpca.make_csr", function()
  it("makes a signed CSR with every subject field and SAN kind", function()
    local key = acmpca.generate_key()
    local csr = acmpca.make_csr(key, {
      common_name = "svc.example", organization = "Org", organizational_unit = "Unit",
      country = "DE", state = "Berlin", locality = "Mitte",
      dns_names = { "svc.example", "*.svc.example" }, ip_addresses = { "10.0.0.1", "::1" },
      emails = { "ops@example.com" }, uris = { "spiffe://example/svc" },
    })
    assert.matches("^%-%-%-%-%-BEGIN CERTIFICATE REQUEST%-%-%-%-%-\n", csr)
    local out, ok = openssl("req -noout -verify -text -nameopt RFC2253 -in IN", csr, "csr.pem")
    assert.is_true(ok, out)
    assert.matches("verify OK", out)
    assert.matches("CN=svc.example,OU=Unit,O=Org,L=Mitte,ST=Berlin,C=DE", out, 1, true)
    assert.matches("DNS:svc.example, DNS:*.svc.example, IP Address:10.0.0.1, " ..
                   "IP Address:0:0:0:0:0:0:0:1, email:ops@example.com, " ..
                   "URI:spiffe://example/svc", out, 1, true)
    -- The CSR carries the key's public half.
    local csr_pub = openssl("req -noout -pubkey -in IN", csr, "csr.pem")
    local key_pub = openssl("pkey -pubout -in IN", key, "key.pem")
    assert.matches("BEGIN PUBLIC KEY", key_pub)
    assert.are.equal(key_pub, csr_pub)
  end)

  it("signs with RSA and Ed25519 keys too, for a SAN-only subject", function()
    for _, kind in ipairs{ "RSA_2048", "ED25519" } do
      local csr = acmpca.make_csr(acmpca.generate_key(kind), { dns_names = { "only.example" } })
      local out, ok = openssl("req -noout -verify -text -in IN", csr)
      assert.is_true(ok, out)
      assert.matches("DNS:only.example", out, 1, true)
    end
  end)

  it("reports bad input naming the field", function()
    local key = acmpca.generate_key()
    param_error("^private_key: expected a string, got nil$", acmpca.make_csr)
    param_error("^private_key_pem: not a PEM private key", acmpca.make_csr, "not a key",
                { common_name = "x" })
    param_error("^private_key: contains a NUL byte$", acmpca.make_csr, key .. "\0",
                { common_name = "x" })
    param_error("^subject: give a common_name or at least one subject alternative name$",
                acmpca.make_csr, key)
    param_error("^options: expected a table, got string$", acmpca.make_csr, key, "x")
    param_error("^options%.cn: unknown option; expected one of: common_name, ", acmpca.make_csr,
                key, { cn = "x" })
    param_error("^options: expected string keys, got a number key$", acmpca.make_csr, key,
                { "x" })
    param_error("^options%.common_name: expected a string, got number$", acmpca.make_csr, key,
                { common_name = 5 })
    param_error('^country: expected a two%-letter code, got "Germany"$', acmpca.make_csr, key,
                { common_name = "x", country = "Germany" })
    param_error('^ip_addresses%[0%]: "300%.1%.1%.1" is not an IP address$', acmpca.make_csr,
                key, { ip_addresses = { "300.1.1.1" } })
    param_error("^options%.dns_names: expected a list of strings, got string$", acmpca.make_csr,
                key, { dns_names = "single.example" })
    param_error("^options%.dns_names%[1%]: expected a string, got number$", acmpca.make_csr, key,
                { dns_names = { "a.example", 5 } })
    param_error("^options%.uris: expected a list of strings %(a sequence table%)$",
                acmpca.make_csr, key, { uris = { "urn:a", x = "urn:b" } })
    param_error("^options%.emails: expected a list of strings %(a sequence table%)$",
                acmpca.make_csr, key, { emails = { [1] = "a@example", [3] = "b@example" } })
    param_error("^options%.emails%[0%]: contains a NUL byte$", acmpca.make_csr, key,
                { emails = { "a\0@example" } })
  end)
end)

-- A self-signed EC certificate with serial 0x793f0d, 30 days, two SANs, CA:TRUE.
local function self_signed()
  h.write(dir .. "/ss.key", acmpca.generate_key())
  local out, ok = h.sh(("openssl req -x509 -new -key %s -out %s -subj /CN=parsed.example " ..
                        "-set_serial 0x793F0D -days 30 " ..
                        "-addext subjectAltName=DNS:parsed.example,URI:urn:x " ..
                        "-addext basicConstraints=critical,CA:TRUE 2>&1")
                       :format(h.shell_quote(dir .. "/ss.key"), h.shell_quote(dir .. "/ss.pem")))
  assert(ok, out)
  return h.read(dir .. "/ss.pem")
end

describe("acmpca.parse_certificate", function()
  it("reads subject, issuer, serial, validity, SANs, CA flag and key algorithm", function()
    local pem = self_signed()
    local info = acmpca.parse_certificate(pem)
    assert.are.equal("CN=parsed.example", info.Subject)
    assert.are.equal(info.Subject, info.Issuer)
    assert.are.equal("79:3f:0d", info.Serial)
    assert.is_true(h.is_integer(info.NotBefore))
    assert.is_true(math.abs(info.NotBefore - os.time()) < 3600)
    assert.are.equal(30 * 86400, info.NotAfter - info.NotBefore)
    assert.are.same({ { Type = "DNS", Value = "parsed.example" }, { Type = "URI", Value = "urn:x" } },
                    info.SubjectAlternativeNames)
    assert.is_true(info.IsCA)
    assert.are.equal("EC_prime256v1", info.KeyAlgorithm)
  end)

  it("gives an empty SAN list and IsCA false for a plain certificate", function()
    h.write(dir .. "/plain.key", acmpca.generate_key("RSA_2048"))
    local out, ok = h.sh(("openssl req -x509 -new -key %s -out %s -subj /CN=plain -days 1 " ..
                          "-addext basicConstraints=CA:FALSE 2>&1")
                         :format(h.shell_quote(dir .. "/plain.key"),
                                 h.shell_quote(dir .. "/plain.pem")))
    assert(ok, out)
    local info = acmpca.parse_certificate(h.read(dir .. "/plain.pem"))
    assert.are.same({}, info.SubjectAlternativeNames)
    assert.is_false(info.IsCA)
    assert.are.equal("RSA_2048", info.KeyAlgorithm)
  end)

  it("refuses what is not a PEM certificate", function()
    param_error("^Certificate: not a PEM certificate",
                acmpca.parse_certificate,
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    param_error("^Certificate: not a PEM certificate", acmpca.parse_certificate, "")
    param_error("^pem: contains a NUL byte$", acmpca.parse_certificate, "\0binary")
    param_error("^pem: expected a string, got table$", acmpca.parse_certificate, {})
  end)
end)

describe("acmpca.normalize_serial", function()
  it("takes a certificate PEM, hex with or without colons or 0x, and an ARN", function()
    assert.are.equal("79:3f:0d", acmpca.normalize_serial(self_signed()))
    assert.are.equal("79:3f:0d", acmpca.normalize_serial("793f0d"))
    assert.are.equal("79:3f:0d", acmpca.normalize_serial("0x793F0D"))
    assert.are.equal("79:3f:0d", acmpca.normalize_serial("79:3F:0D"))
    assert.are.equal("79:3f:0d", acmpca.normalize_serial(
      h.CA_ARN .. ("/certificate/%d"):format(0x793F0D)))
  end)

  it("refuses anything else", function()
    param_error("^serial: ", acmpca.normalize_serial, "not a serial!")
    param_error("^serial: expected a string, got nil$", acmpca.normalize_serial)
    param_error("^serial: contains a NUL byte$", acmpca.normalize_serial, "79\0")
  end)
end)

describe("acmpca.normalize_csr", function()
  it("turns PEM, old-header PEM, DER and spaced base64 into the same PEM", function()
    local pem = acmpca.make_csr(acmpca.generate_key(), { common_name = "norm.example" })
    local _, ok = openssl("req -in IN -outform DER -out " .. h.shell_quote(dir .. "/csr.der"),
                          pem)
    assert.is_true(ok)
    local der = h.read(dir .. "/csr.der")
    assert.is_truthy(der:find("\0", 1, true))  -- binary, NUL bytes and all
    local body = pem:match("%-\n(.-)\n%-"):gsub("\n", "")
    local spaced = body:gsub("(" .. ("."):rep(10) .. ")", "%1 ")
    local old = pem:gsub("CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST")
    for _, form in ipairs{ pem, old, der, spaced, "\n  " .. pem .. "  \n" } do
      assert.are.equal(pem, acmpca.normalize_csr(form))
    end
  end)

  it("refuses what is not a CSR", function()
    param_error("^Csr: not a certificate signing request", acmpca.normalize_csr, "garbage")
    param_error("^Csr: expected 1 byte to 1 MiB, got 0$", acmpca.normalize_csr, "")
    param_error("^csr: expected a string, got number$", acmpca.normalize_csr, 12)
    -- A certificate is not a CSR either.
    param_error("^Csr: ", acmpca.normalize_csr, self_signed())
  end)
end)

describe("c:request_certificate validates before any I/O", function()
  local c
  setup(function() c = h.offline_client() end)
  teardown(function() c:close() end)

  local function check(pattern, ...)
    local err = param_error(pattern, c.request_certificate, c, ...)
    assert.are.equal("IssueCertificate", err.operation)
    assert.are.equal(0, err.attempts)
  end

  it("a valid call does reach the network (the control case)", function()
    local err = h.raises_code("EndpointConnectionError", c.request_certificate, c, h.CA_ARN,
                              { common_name = "x.example", signing_algorithm = "SHA256WITHRSA" })
    assert.are.equal("IssueCertificate", err.operation)
    -- Without signing_algorithm it asks the CA for its own first.
    err = h.raises_code("EndpointConnectionError", c.issue_and_wait, c, h.CA_ARN,
                        { dns_names = { "x.example" } })
    assert.are.equal("DescribeCertificateAuthority", err.operation)
    -- A given CSR is normalised first (the copy is freed when the call raises).
    local csr = acmpca.make_csr(acmpca.generate_key(), { common_name = "x.example" })
    err = h.raises_code("EndpointConnectionError", c.request_certificate, c, h.CA_ARN,
                        { csr = csr, signing_algorithm = "SHA256WITHECDSA" })
    assert.are.equal("IssueCertificate", err.operation)
  end)

  it("refuses bad arguments naming the field", function()
    check("^certificate_authority_arn: expected a string, got nil$")
    check("^certificate_authority_arn: expected a string, got table$", { common_name = "x" })
    check("^options: expected a table, got string$", h.CA_ARN, "x")
    check("^options%.Csr: unknown option; expected one of: csr, key_type, ", h.CA_ARN,
          { Csr = "x" })
    check("^options%.csr: expected a string, got boolean$", h.CA_ARN, { csr = true })
    check("^options%.validity_days: 0 is out of range %(1 to 36500%)$", h.CA_ARN,
          { common_name = "x", validity_days = 0 })
    check("^options%.validity_days: expected an integer, got 1%.5$", h.CA_ARN,
          { common_name = "x", validity_days = 1.5 })
    check("^options%.wait_delay: 0 is out of range", h.CA_ARN,
          { common_name = "x", wait_delay = 0 })
    check("^options%.wait_max_attempts: expected an integer, got string$", h.CA_ARN,
          { common_name = "x", wait_max_attempts = "3" })
    check("^options%.template_arn: expected a string, got number$", h.CA_ARN,
          { common_name = "x", template_arn = 1 })
    check("^options%.dns_names%[0%]: expected a string, got table$", h.CA_ARN,
          { dns_names = { {} } })
  end)

  it("passes on the core's own checks of the key, CSR and subject", function()
    check("^Csr: not a certificate signing request", h.CA_ARN, { csr = "garbage" })
    check('^key_type: expected one of .*; got "DSA"$', h.CA_ARN,
          { key_type = "DSA", common_name = "x" })
    check("^subject: ", h.CA_ARN, {})
    check("^CertificateAuthorityArn: ", "arn", { common_name = "x",
                                                 signing_algorithm = "SHA256WITHRSA" })
  end)

  it("needs a client, an open one", function()
    local err = h.raises_code("ParamValidationError", c.request_certificate, h.CA_ARN, {})
    assert.matches("^self: expected an acmpca client", err.message)
    local closed = h.offline_client()
    closed:close()
    h.raises_code("ClientClosedError", closed.request_certificate, closed, h.CA_ARN,
                  { common_name = "x" })
  end)
end)
