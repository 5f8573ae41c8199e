-- examples/walkthrough.lua against moto, run as a user would (the same
-- interpreter as this suite, the module under test on LUA_CPATH, the endpoint
-- from AWS_ENDPOINT_URL as tests/fixtures/with_server.py sets it): every step,
-- OpenSSL's "OK", the summary, and the PEM files it leaves behind.
local h = require "helpers"
local acmpca = h.acmpca

local function walkthrough(env, args)
  local cmd = ("%s LUA_CPATH=%s %s %s %s 2>&1"):format(
    env, h.shell_quote(os.getenv("ACMPCA_LUA_MODULE_DIR") .. "/?.so;;"),
    h.shell_quote(os.getenv("ACMPCA_LUA_EXE")),
    h.shell_quote(os.getenv("ACMPCA_SOURCE_DIR") .. "/examples/walkthrough.lua"), args)
  return h.sh(cmd)
end

describe("examples/walkthrough.lua (moto)", function()
  local dir
  setup(function()
    assert(h.endpoint, "run under tests/fixtures/with_server.py moto")
    dir = h.tmpdir()
  end)
  teardown(function() h.rmdir(dir) end)

  it("runs the whole flow and ends with the summary", function()
    local out_dir = dir .. "/out"
    local out, ok = walkthrough("env", "--out " .. h.shell_quote(out_dir))
    assert.is_true(ok, out)
    assert.matches("walkthrough %(" .. _VERSION .. "%) against " .. h.endpoint:gsub("%p", "%%%0"),
                   out)
    for i, s in ipairs{ "Creating the root CA", "Issuing the root certificate",
                        "Importing it: the root CA becomes ACTIVE",
                        "Creating a subordinate CA", "Signing it with the root",
                        "Importing it with its chain", "Generating an EC P-256 key",
                        "Writing key, certificate and chain", "Verifying the chain with OpenSSL",
                        "Tagging the subordinate CA", "Revoking the server certificate",
                        "CA status", "Disabling and deleting both CAs" } do
      assert.is_truthy(out:find(s, 1, true), ("step %d (%s) missing:\n%s"):format(i, s, out))
    end
    assert.matches("server%.crt: OK\n", out)
    assert.matches("tags: demo=acmpca, env=demo\n", out, 1, true)
    assert.matches("%d+ CAs listed, ours among them: true\n", out)
    assert.matches("\nSummary\n.*chain%s+verified by OpenSSL\n.*CAs now%s+DELETED\n$", out)

    -- The files: a 0600 key, the certificate and chain, which verify again here.
    assert.are.equal("600\n", (h.sh("stat -c %a " .. h.shell_quote(out_dir .. "/server.key"))))
    local key, crt = h.read(out_dir .. "/server.key"), h.read(out_dir .. "/server.crt")
    local check, verified = h.sh(("openssl verify -CAfile %s %s 2>&1"):format(
      h.shell_quote(out_dir .. "/chain.pem"), h.shell_quote(out_dir .. "/server.crt")))
    assert.is_true(verified, check)
    local pub_key = h.sh("openssl pkey -pubout -in " .. h.shell_quote(out_dir .. "/server.key"))
    local pub_crt = h.sh("openssl x509 -noout -pubkey -in " ..
                         h.shell_quote(out_dir .. "/server.crt"))
    assert.matches("BEGIN PUBLIC KEY", pub_key)
    assert.are.equal(pub_key, pub_crt)
    assert.matches("BEGIN PRIVATE KEY", key)
    local info = acmpca.parse_certificate(crt)
    assert.matches("CN=www.example.test", info.Subject, 1, true)
    assert.matches("CN=Example Issuing CA", info.Issuer, 1, true)
    assert.matches("serial %(revoked%)%s+" .. info.Serial .. "\n", out)
  end)

  it("refuses to run against real AWS without --yes, before creating anything", function()
    local out, ok = walkthrough("env -u AWS_ENDPOINT_URL -u AWS_ENDPOINT_URL_ACM_PCA",
                                "--out " .. h.shell_quote(dir .. "/never"))
    assert.is_false(ok)
    assert.matches("this would run against real AWS %(https://acm%-pca%.us%-east%-1%.amazonaws%.com%)",
                   out)
    assert.matches("Run again with %-%-yes", out)
    assert.is_false(select(2, h.sh("test -e " .. h.shell_quote(dir .. "/never"))))
  end)

  it("rejects unknown arguments with its usage", function()
    local out, ok = walkthrough("env", "--bogus")
    assert.is_false(ok)
    assert.matches("unknown argument %-%-bogus\nusage: walkthrough%.lua", out)
  end)
end)
