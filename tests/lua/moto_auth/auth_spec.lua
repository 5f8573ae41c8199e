-- moto checking every SigV4 signature (with_server.py moto-auth): requests
-- signed by the module pass; a wrong secret comes back as a typed 403.
local h = require "helpers"
local acmpca = h.acmpca

describe("signature checking (moto-auth)", function()
  it("requests signed with the environment's key pass", function()
    local c = acmpca.new{ endpoint_url = h.endpoint }  -- credentials and region from the env
    local out, meta = c:list_certificate_authorities()
    assert.are.equal(200, meta.status)
    assert.is_table(out.CertificateAuthorities)
    local arn = c:create_certificate_authority{
      CertificateAuthorityType = "ROOT",
      CertificateAuthorityConfiguration = { KeyAlgorithm = "RSA_2048",
        SigningAlgorithm = "SHA256WITHRSA", Subject = { CommonName = "auth" } } }.CertificateAuthorityArn
    c:tag_certificate_authority{ CertificateAuthorityArn = arn, Tags = { { Key = "k", Value = "v" } } }
    assert.are.equal(1, #c:list_tags{ CertificateAuthorityArn = arn }.Tags)
    c:close()
  end)

  it("a wrong secret raises SignatureDoesNotMatch (403) without echoing the secret", function()
    local secret = "not-the-right-secret-000000000000000000000"
    local c = acmpca.new{ endpoint_url = h.endpoint, max_attempts = 1, credentials = {
      access_key_id = os.getenv("AWS_ACCESS_KEY_ID"), secret_access_key = secret } }
    local err = h.raises_code("SignatureDoesNotMatch", c.list_certificate_authorities, c, {})
    assert.are.equal(403, err.status)
    assert.are.equal("ListCertificateAuthorities", err.operation)
    assert.is_nil(err.message:find(secret, 1, true))
    assert.is_nil(tostring(err):find(secret, 1, true))
    c:close()
  end)

  it("a request from build_request, sent by curl, passes the check", function()
    local req = acmpca.build_request({ endpoint_url = h.endpoint }, "list_certificate_authorities", {})
    local args = {}
    for k, v in pairs(req.headers) do
      args[#args + 1] = "-H " .. h.shell_quote(k .. ": " .. v)
    end
    local cmd = ("curl -sS -o - -w '\\n%%{http_code}' -X POST %s --data-binary %s %s"):format(
      table.concat(args, " "), h.shell_quote(req.body), h.shell_quote(req.url))
    local out, ok = h.sh(cmd)
    assert.is_true(ok, out)
    local body, status = out:match("^(.*)\n(%d+)%s*$")
    local result = acmpca.parse_response("list_certificate_authorities", tonumber(status), {}, body)
    assert.is_table(result.CertificateAuthorities)
  end)
end)
