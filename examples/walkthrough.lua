#!/usr/bin/env lua
--[[
A private CA end to end with acmpca, in Lua (5.4 or LuaJIT).

Creates a root CA and a subordinate CA, issues a server certificate for a key
and CSR made on the spot, verifies the chain with OpenSSL, writes key,
certificate and chain as PEM files, then tags, lists, revokes, shows the CA
status and deletes both CAs. The same flow as examples/walkthrough.py.

    LUA_CPATH='build/lua54/?.so;;' lua5.4 examples/walkthrough.lua --endpoint-url http://127.0.0.1:5000
    LUA_CPATH='build/lua54/?.so;;' lua5.4 examples/walkthrough.lua --yes   # real AWS: billed

Options: --endpoint-url URL, --region R, --out DIR (default acmpca-walkthrough),
--crl-bucket BUCKET (default: CRLs off), --yes. Anything not given comes from
the usual AWS configuration (AWS_REGION, AWS_ENDPOINT_URL, credentials, profiles).
]]
local acmpca = require "acmpca"

local ROOT_TEMPLATE = "arn:aws:acm-pca:::template/RootCACertificate/V1"
local SUB_TEMPLATE = "arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1"

local function usage(status)
  io.stderr:write("usage: walkthrough.lua [--endpoint-url URL] [--region R] [--out DIR]\n",
                  "                       [--crl-bucket BUCKET] [--yes]\n")
  os.exit(status)
end

local function parse_args(argv)
  local args = { out = "acmpca-walkthrough" }
  local with_value = { ["--endpoint-url"] = "endpoint_url", ["--region"] = "region",
                       ["--out"] = "out", ["--crl-bucket"] = "crl_bucket" }
  local i = 1
  while i <= #argv do
    local a = argv[i]
    local name, value = a:match("^(%-%-[%w-]+)=(.*)$")
    if not name then name = a end
    if with_value[name] then
      if not value then
        i = i + 1
        value = argv[i]
        if not value then usage(2) end
      end
      args[with_value[name]] = value
    elseif a == "--yes" then
      args.yes = true
    elseif a == "-h" or a == "--help" then
      usage(0)
    else
      io.stderr:write("walkthrough.lua: unknown argument ", a, "\n")
      usage(2)
    end
    i = i + 1
  end
  return args
end

local function quote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Run a shell command: its output (stdout and stderr) and whether it exited 0.
-- (io.popen's close reports no status on LuaJIT, so the status is echoed.)
local function sh(cmd)
  local f = assert(io.popen(cmd .. " 2>&1; echo \"__rc=$?\""))
  local out = f:read("*a")
  f:close()
  local rc = tonumber(out:match("__rc=(%d+)%s*$"))
  return (out:gsub("__rc=%d+%s*$", "")), rc == 0
end

local step_no = 0
local function step(text)
  step_no = step_no + 1
  io.write(("[%2d] %s\n"):format(step_no, text))
  io.flush()
end

local function note(text)
  io.write("     ", text, "\n")
  io.flush()
end

local function run(c, args)
  local out_dir = args.out

  local function create_ca(kind, common_name)
    local revocation = { CrlConfiguration = { Enabled = false } }
    if args.crl_bucket then
      revocation = { CrlConfiguration = { Enabled = true, ExpirationInDays = 7,
                                          S3BucketName = args.crl_bucket } }
    end
    local arn = c:create_certificate_authority{
      CertificateAuthorityType = kind,
      CertificateAuthorityConfiguration = {
        KeyAlgorithm = "RSA_2048",
        SigningAlgorithm = "SHA256WITHRSA",
        Subject = { CommonName = common_name, Organization = "Example Corp", Country = "US" },
      },
      RevocationConfiguration = revocation,
      Tags = { { Key = "demo", Value = "acmpca" } },
    }.CertificateAuthorityArn
    note(arn)
    return arn
  end

  -- Wait for the CA's CSR with the library's waiter, a progress line every
  -- round: each round is two attempts a second apart.
  local function ca_csr(arn)
    local start, waited = os.time(), false
    local params = { CertificateAuthorityArn = arn }
    for _ = 1, 120 do
      local ok, err = pcall(c.wait, c, "certificate_authority_csr_created", params,
                            { delay = 1, max_attempts = 2 })
      if ok then
        if waited then io.write("\n") end
        return c:get_certificate_authority_csr(params).Csr
      end
      if type(err) ~= "table" or err.code ~= acmpca.errors.WaiterError then error(err, 0) end
      waited = true
      io.write(("\r     ... waiting for the CA's CSR: %d s"):format(os.time() - start))
      io.flush()
    end
    error("gave up waiting for the CA's CSR", 0)
  end

  -- Sign a CA's CSR with `issuer_arn` (issue, wait, fetch in one call).
  local function sign(issuer_arn, csr, template, days)
    return c:request_certificate(issuer_arn, { csr = csr, template_arn = template,
                                               signing_algorithm = "SHA256WITHRSA",
                                               validity_days = days }).Certificate
  end

  local function write(name, text, mode)
    local path = out_dir .. "/" .. name
    -- mktemp creates a fresh file exclusively with mode 0600 (no existing file
    -- or planted symlink is followed); the text goes in, then the final mode,
    -- then a rename over the target (which replaces a symlink, never follows it).
    local tmp, ok = sh(("mktemp %s"):format(quote(path .. ".XXXXXX")))
    if not ok then error("mktemp " .. path .. ": " .. tmp, 0) end
    tmp = tmp:gsub("%s+$", "")
    local f = assert(io.open(tmp, "w"))
    assert(f:write(text))
    assert(f:close())
    local msg
    msg, ok = sh(("chmod %s %s && mv -f %s %s"):format(mode, quote(tmp), quote(tmp), quote(path)))
    if not ok then
      os.remove(tmp)
      error("writing " .. path .. ": " .. msg, 0)
    end
    note("wrote " .. path)
    return path
  end

  step(("Creating the root CA (RSA_2048 key, SHA256WITHRSA, CN=Example Root CA, CRL %s)")
       :format(args.crl_bucket and ("to s3://" .. args.crl_bucket) or "off"))
  local root = create_ca("ROOT", "Example Root CA")
  step("Waiting for its CSR")
  local csr = ca_csr(root)
  step("Issuing the root certificate (RootCACertificate/V1, 10 years)")
  local root_pem = sign(root, csr, ROOT_TEMPLATE, 3650)
  step("Importing it: the root CA becomes ACTIVE")
  c:import_certificate_authority_certificate{ CertificateAuthorityArn = root,
                                              Certificate = root_pem }

  step("Creating a subordinate CA (CN=Example Issuing CA)")
  local sub = create_ca("SUBORDINATE", "Example Issuing CA")
  step("Waiting for its CSR")
  csr = ca_csr(sub)
  step("Signing it with the root (SubordinateCACertificate_PathLen0/V1, 5 years)")
  local sub_pem = sign(root, csr, SUB_TEMPLATE, 1825)
  step("Importing it with its chain")
  c:import_certificate_authority_certificate{ CertificateAuthorityArn = sub,
                                              Certificate = sub_pem, CertificateChain = root_pem }

  step("Generating an EC P-256 key and a CSR for www.example.test, issuing, waiting")
  local key = acmpca.generate_key("EC_prime256v1")
  local server_csr = acmpca.make_csr(key, { common_name = "www.example.test",
                                            organization = "Example Corp",
                                            dns_names = { "www.example.test", "example.test" } })
  local issued = c:request_certificate(sub, { csr = server_csr, validity_days = 90 })
  local info = acmpca.parse_certificate(issued.Certificate)
  note(("%s, issued by %s, serial %s, valid until %s"):format(
    info.Subject, info.Issuer, info.Serial, os.date("!%Y-%m-%d", math.floor(info.NotAfter))))

  step(("Writing key, certificate and chain to %s/"):format(out_dir))
  local msg, ok = sh("mkdir -p " .. quote(out_dir))
  if not ok then error("mkdir " .. out_dir .. ": " .. msg, 0) end
  write("server.key", key, "600")
  local crt = write("server.crt", issued.Certificate, "644")
  local chain = write("chain.pem", sub_pem:gsub("\n*$", "") .. "\n" .. root_pem, "644")

  step("Verifying the chain with OpenSSL")
  msg, ok = sh(("openssl verify -CAfile %s %s"):format(quote(chain), quote(crt)))
  note((msg:gsub("%s+$", "")))
  if not ok then error("the certificate does not chain to the root", 0) end

  step("Tagging the subordinate CA and listing CAs with the paginator")
  c:tag_certificate_authority{ CertificateAuthorityArn = sub,
                               Tags = { { Key = "env", Value = "demo" } } }
  local tags = {}
  for page in c:paginate("list_tags", { CertificateAuthorityArn = sub }) do
    for _, t in ipairs(page.Tags or {}) do tags[#tags + 1] = t.Key .. "=" .. (t.Value or "") end
  end
  note("tags: " .. table.concat(tags, ", "))
  local listed, seen = 0, {}
  for page in c:paginate("list_certificate_authorities", nil, { page_size = 1 }) do
    for _, ca in ipairs(page.CertificateAuthorities or {}) do
      listed = listed + 1
      seen[ca.Arn] = true
    end
  end
  note(("%d CAs listed, ours among them: %s"):format(listed, tostring(seen[root] and seen[sub]
                                                                        or false)))

  local serial = acmpca.normalize_serial(issued.Certificate)
  step(("Revoking the server certificate (serial %s)"):format(serial))
  c:revoke_certificate{ CertificateAuthorityArn = sub, CertificateSerial = serial,
                        RevocationReason = "SUPERSEDED" }

  step("CA status")
  for _, ca in ipairs{ { "root", root }, { "subordinate", sub } } do
    local d = c:describe_certificate_authority{ CertificateAuthorityArn = ca[2] }
    d = d.CertificateAuthority
    note(("%-12s %-12s %-8s created %s"):format(ca[1], d.Type, d.Status,
                                                os.date("!%Y-%m-%d %H:%M:%S UTC",
                                                        math.floor(d.CreatedAt))))
  end

  step("Disabling and deleting both CAs")
  for _, arn in ipairs{ sub, root } do
    c:update_certificate_authority{ CertificateAuthorityArn = arn, Status = "DISABLED" }
    c:delete_certificate_authority{ CertificateAuthorityArn = arn,
                                    PermanentDeletionTimeInDays = 7 }
  end
  local status = c:describe_certificate_authority{
    CertificateAuthorityArn = sub }.CertificateAuthority.Status

  local rows = {
    { "root CA", root }, { "subordinate CA", sub },
    { "server certificate", issued.CertificateArn },
    { "serial (revoked)", serial }, { "chain", "verified by OpenSSL" },
    { "files", out_dir .. "/{server.key,server.crt,chain.pem}" },
    { "CAs now", status },
  }
  local width = 0
  for _, r in ipairs(rows) do width = math.max(width, #r[1]) end
  local fmt = "  %-" .. width .. "s  %s\n"
  io.write("\nSummary\n", fmt:format("what", "result"), fmt:format(("-"):rep(width), "------"))
  for _, r in ipairs(rows) do io.write(fmt:format(r[1], r[2])) end
end

local function main(argv)
  local args = parse_args(argv)
  local endpoint = args.endpoint_url or os.getenv("AWS_ENDPOINT_URL_ACM_PCA")
                   or os.getenv("AWS_ENDPOINT_URL")
  local ok, c = pcall(acmpca.new, { region = args.region, endpoint_url = args.endpoint_url })
  if not ok then
    io.stderr:write("cannot make a client: ", tostring(c), "\n")
    return 1
  end
  if not endpoint and not args.yes then
    io.write(("No --endpoint-url given: this would run against real AWS (%s) and create two\n" ..
              "private CAs, which AWS bills for. Run again with --yes to go ahead, or use\n" ..
              "examples/demo.sh for the local endpoint.\n"):format(c:endpoint()))
    c:close()
    return 2
  end
  io.write(("acmpca %s walkthrough (%s) against %s%s\n\n"):format(
    acmpca.version, _VERSION, c:endpoint(), endpoint and "" or " (real AWS: billable)"))
  local done, err = pcall(run, c, args)
  c:close()
  if done then return 0 end
  if type(err) == "table" and getmetatable(err) == acmpca.Error then
    if err.status then
      io.stderr:write(("%s failed: %s: %s (HTTP %d, request id %s)\n"):format(
        err.operation or "call", err.code, err.message, err.status, err.request_id or "-"))
    else
      io.stderr:write("error: ", tostring(err), "\n")
    end
  else
    io.stderr:write("error: ", tostring(err), "\n")
  end
  return 1
end

os.exit(main(arg))
