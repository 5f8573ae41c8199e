-- Credentials the way production runs (issue 7), from Lua: c:credentials_source()
-- names the provider that supplied a client's credentials (never the keys),
-- and calls signed with those credentials go through. Runs under
--   with_server.py moto -- metadata_server.py -- busted ...
-- moto (ACMPCA_TEST_ENDPOINT) answers ACM PCA and STS; metadata_server.py
-- (ACMPCA_TEST_METADATA) stands in for EC2 IMDSv2, the ECS/EKS container
-- endpoint, the SSO portal and a failing STS. Only 127.0.0.1 is contacted.
--
-- The providers read AWS_* variables and files when a client is created, and
-- a running interpreter cannot change its environment: each case runs in a
-- fresh interpreter with an environment of its own (helpers.child), which
-- reports what a user would see.
local h = require "helpers"
local acmpca = h.acmpca

local FIXTURES = os.getenv("ACMPCA_SOURCE_DIR") .. "/tests/fixtures"
local MOTO = os.getenv("ACMPCA_TEST_ENDPOINT")
local METADATA = os.getenv("ACMPCA_TEST_METADATA")

-- What a child reports for a client made with `config_lua` (a Lua table
-- constructor; region, endpoint and max_attempts are added): the results of
-- credentials_source() (or its error object), of a call to moto (unless
-- no_call) and the signing headers of a build_request.
local function probe(env, config_lua, no_call)
  return h.child(env, ([[
local config = %s
config.region = config.region or "us-east-1"
config.endpoint_url = os.getenv("ACMPCA_TEST_ENDPOINT")
config.max_attempts = 1
local c = acmpca.new(config)
local function pack(...) return { n = select("#", ...), ... } end
local r = pack(pcall(c.credentials_source, c))
emit("n", r.n)
if r[1] then
  emit("source", r[2])
  emit("expiration", r[3])
else
  emit("code", r[2].code)
  emit("message", r[2].message)
  emit("status", r[2].status)
  emit("operation", r[2].operation)
end
if %s then
  local ok, out = pcall(c.list_certificate_authorities, c)
  emit("call_ok", ok)
  if ok then
    emit("call_cas", type(out.CertificateAuthorities))
  else
    emit("call_code", out.code)
    emit("call_message", out.message)
    emit("call_operation", out.operation)
  end
  if ok then
    local req = c:build_request("list_certificate_authorities", {})
    emit("authorization", req.headers.Authorization)
    emit("security_token", req.headers["X-Amz-Security-Token"])
  end
end
c:close()
]]):format(config_lua, no_call and "false" or "true"))
end

-- Asserts that the child got credentials from `source` and (if `key_id`)
-- signed with that access key.
local function check_source(r, source, key_id)
  assert.are.equal(source, r.source, r.message)
  assert.are.equal("true", r.call_ok, r.call_message)
  assert.are.equal("table", r.call_cas)
  if key_id then
    assert.truthy(r.authorization:find("Credential=" .. key_id .. "/", 1, true), r.authorization)
  end
end

-- The STS / SSO / IMDS answers expire an hour from now: credentials_source says when.
local function check_expires_in_an_hour(r)
  local exp = tonumber(r.expiration)
  assert.is_number(exp, "expiration: " .. tostring(r.expiration))
  assert.is_true(math.abs(exp - (os.time() + 3600)) < 120, r.expiration)
end

local function stats(kind_spec)
  return h.json_decode(h.get("/_stats/" .. kind_spec, METADATA))
end

local dir
before_each(function() dir = h.tmpdir() end)
after_each(function() h.rmdir(dir) end)

local function file(name, text)
  local path = dir .. "/" .. name
  h.sh("mkdir -p " .. h.shell_quote(path:match("^(.*)/")))
  h.write(path, text)
  return path
end

describe("c:credentials_source()", function()
  it("names config.credentials \"static\" and never returns the keys", function()
    local c = acmpca.new{ region = "us-east-1", endpoint_url = MOTO, credentials = {
      access_key_id = "AKIDLUASTATIC", secret_access_key = "SECRETLUASTATIC",
      session_token = "TOKENLUASTATIC" } }
    local r = { c:credentials_source() }
    assert.are.same({ "static" }, r)  -- the name; expiration nil (never expires)
    assert.is_table(c:list_certificate_authorities().CertificateAuthorities)
    c:close()
    h.raises_code("ClientClosedError", c.credentials_source, c)
    h.raises_code("ParamValidationError", c.credentials_source, "not a client")
  end)

  it("names the environment (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)", function()
    local r = probe({ AWS_ACCESS_KEY_ID = "AKIDLUAENV", AWS_SECRET_ACCESS_KEY = "SECRETLUAENV" },
                    "{}")
    check_source(r, "environment", "AKIDLUAENV")
    assert.are.equal("3", r.n)      -- pcall's true, the name, a nil expiration: no keys
    assert.are.equal("nil", r.expiration)
    assert.are.equal("nil", r.security_token)
  end)

  it("names the shared credentials file of a profile, and moto takes the calls", function()
    local creds = file("credentials", "[default]\naws_access_key_id = AKIDLUADEFAULT\n" ..
      "aws_secret_access_key = SECRETLUADEFAULT\n\n[dev]\naws_access_key_id = AKIDLUADEV\n" ..
      "aws_secret_access_key = SECRETLUADEV\naws_session_token = TOKENLUADEV\n")
    local env = { AWS_SHARED_CREDENTIALS_FILE = creds }
    local r = probe(env, '{ profile = "dev" }')
    check_source(r, "shared-credentials-file", "AKIDLUADEV")
    assert.are.equal("TOKENLUADEV", r.security_token)   -- on the wire, as it must be
    -- AWS_PROFILE picks it as well; without either, the default profile.
    env.AWS_PROFILE = "dev"
    check_source(probe(env, "{}"), "shared-credentials-file", "AKIDLUADEV")
    env.AWS_PROFILE = nil
    check_source(probe(env, "{}"), "shared-credentials-file", "AKIDLUADEFAULT")
  end)

  it("names the config file when the keys are there", function()
    local config = file("config", "[profile cfg]\naws_access_key_id = AKIDLUACFG\n" ..
                                  "aws_secret_access_key = SECRETLUACFG\n")
    check_source(probe({ AWS_CONFIG_FILE = config }, '{ profile = "cfg" }'), "config-file",
                 "AKIDLUACFG")
  end)

  it("names credential_process (run without a shell) from a profile", function()
    local config = file("config", "[profile proc]\ncredential_process = " .. FIXTURES ..
                                  "/cred_process_ok.sh from-profile\n")
    local r = probe({ AWS_CONFIG_FILE = config }, '{ profile = "proc" }')
    check_source(r, "credential-process", "AKIDPROC1")
    assert.are.equal("from-profile", r.security_token)  -- the script echoes its arguments
  end)

  it("names the EC2 instance metadata service (IMDSv2) on loopback", function()
    local r = probe({ AWS_EC2_METADATA_DISABLED = "false",
                      AWS_EC2_METADATA_SERVICE_ENDPOINT = METADATA .. "/imds/lua-ok" }, "{}")
    check_source(r, "imds", "ASIAIMDS1")
    check_expires_in_an_hour(r)
    assert.are.equal("TOKENASIAIMDS1", r.security_token)
    -- One token PUT, one credentials GET: the call and build_request used the cache.
    local s = stats("imds/lua-ok")
    assert.are.equal(1, s.token_calls)
    assert.are.equal(1, s.calls)
    assert.are.equal("imds-session-token", s.last.headers["x-aws-ec2-metadata-token"])
  end)

  it("names the ECS/EKS container endpoint, with its authorization token", function()
    local r = probe({ AWS_CONTAINER_CREDENTIALS_FULL_URI = METADATA ..
                        "/container/lua,auth=lua-pod-token/v1/creds",
                      AWS_CONTAINER_AUTHORIZATION_TOKEN = "lua-pod-token" }, "{}")
    check_source(r, "container", "ASIACONTAINER1")
    check_expires_in_an_hour(r)
  end)

  it("names assume-role for a role_arn profile (STS AssumeRole at moto)", function()
    local config = file("config", "[profile base]\naws_access_key_id = AKIDLUABASE\n" ..
      "aws_secret_access_key = SECRETLUABASE\n[profile role]\n" ..
      "role_arn = arn:aws:iam::123456789012:role/lua\nsource_profile = base\n" ..
      "role_session_name = lua-session\n")
    local r = probe({ AWS_CONFIG_FILE = config, AWS_ENDPOINT_URL_STS = MOTO },
                    '{ profile = "role" }')
    check_source(r, "assume-role")
    check_expires_in_an_hour(r)
    assert.is_nil(r.authorization:find("AKIDLUABASE", 1, true))  -- signed with the role's key
    assert.truthy(#r.security_token > 0)
  end)

  it("names web-identity (STS AssumeRoleWithWebIdentity at moto)", function()
    local r = probe({ AWS_WEB_IDENTITY_TOKEN_FILE = file("jwt", "eyJ.lua.token"),
                      AWS_ROLE_ARN = "arn:aws:iam::123456789012:role/irsa",
                      AWS_ROLE_SESSION_NAME = "lua-pod", AWS_ENDPOINT_URL_STS = MOTO }, "{}")
    check_source(r, "web-identity")
    check_expires_in_an_hour(r)
  end)

  it("names sso for an sso_session profile (the cached token, the portal on loopback)", function()
    local config = file("config", "[profile sso]\nsso_session = my-sso\n" ..
      "sso_account_id = 123456789012\nsso_role_name = ReadOnly\n[sso-session my-sso]\n" ..
      "sso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n")
    -- The cache file is named by the SHA-1 of the session name, as the AWS CLI does.
    file("home/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json",
         '{"startUrl": "https://example.awsapps.com/start", "region": "eu-west-1", ' ..
         '"accessToken": "sso-access-token", "expiresAt": "2099-01-01T00:00:00Z"}')
    local r = probe({ HOME = dir .. "/home", AWS_CONFIG_FILE = config,
                      AWS_ENDPOINT_URL_SSO = METADATA .. "/sso/lua" }, '{ profile = "sso" }')
    check_source(r, "sso", "ASIASSO-123456789012-ReadOnly-1")
    check_expires_in_an_hour(r)
  end)
end)

describe("credential failures name the provider and the cause", function()
  -- The error of credentials_source and of a call are the same error object.
  local function check_failure(r, code, prefix)
    assert.are.equal(code, r.code, r.message)
    assert.are.equal(prefix, r.message:sub(1, #prefix), r.message)
    assert.are.equal("false", r.call_ok)
    assert.are.equal(code, r.call_code)
    assert.are.equal(r.message, r.call_message)
    assert.are.equal("ListCertificateAuthorities", r.call_operation)
  end

  it("credential_process exiting non-zero: its status and stderr", function()
    local config = file("config", "[profile bad]\ncredential_process = " .. FIXTURES ..
                                  "/cred_process_fails.sh\n")
    local r = probe({ AWS_CONFIG_FILE = config }, '{ profile = "bad" }')
    check_failure(r, "CredentialRetrievalError", "credential-process: ")
    assert.truthy(r.message:find("exited with status 3; stderr: token expired", 1, true),
                  r.message)
  end)

  it("credential_process printing broken JSON: no secret in the message", function()
    local config = file("config", "[profile bad]\ncredential_process = " .. FIXTURES ..
                                  "/cred_process_bad_json.sh\n")
    local r = probe({ AWS_CONFIG_FILE = config }, '{ profile = "bad" }')
    check_failure(r, "CredentialRetrievalError", "credential-process: ")
    assert.is_nil(r.message:find("SECRETBADJSON", 1, true))
  end)

  it("IMDS answering HTTP 500: the URL and the status", function()
    local base = METADATA .. "/imds/lua-500,status=500"
    local r = probe({ AWS_EC2_METADATA_DISABLED = "false",
                      AWS_EC2_METADATA_SERVICE_ENDPOINT = base }, "{}")
    check_failure(r, "CredentialRetrievalError", "imds: ")
    assert.are.equal("imds: GET " .. base .. "/latest/meta-data/iam/security-credentials/" ..
                     "test-role answered HTTP 500", r.message)
    assert.are.equal("500", r.status)
  end)

  it("IMDS without a role: no credentials, and every source's reason", function()
    local r = probe({ AWS_EC2_METADATA_DISABLED = "false",
                      AWS_EC2_METADATA_SERVICE_ENDPOINT = METADATA .. "/imds/lua-norole,norole" },
                    "{}")
    check_failure(r, "NoCredentialsError", "no credentials found; tried: ")
    assert.truthy(r.message:find("environment (AWS_ACCESS_KEY_ID not set)", 1, true), r.message)
    assert.truthy(r.message:find("imds (no IAM role is attached to this instance", 1, true),
                  r.message)
  end)

  it("STS refusing AssumeRole: the STS error code", function()
    local config = file("config", "[profile base]\naws_access_key_id = AKIDLUABASE\n" ..
      "aws_secret_access_key = SECRETLUABASE\n[profile role]\n" ..
      "role_arn = arn:aws:iam::123456789012:role/lua\nsource_profile = base\n")
    local r = probe({ AWS_CONFIG_FILE = config,
                      AWS_ENDPOINT_URL_STS = METADATA .. "/sts/lua,error=AccessDenied" },
                    '{ profile = "role" }')
    check_failure(r, "CredentialRetrievalError", "assume-role: ")
    assert.truthy(r.message:find("AccessDenied", 1, true), r.message)
    assert.is_nil(r.message:find("SECRETLUABASE", 1, true))
  end)

  it("a profile that is not there: refused when the client is made", function()
    local r = h.child({ AWS_SHARED_CREDENTIALS_FILE = file("credentials",
                                                           "[dev]\naws_access_key_id = A\n") },
      [[
local ok, err = pcall(acmpca.new, { region = "us-east-1", profile = "ghost" })
emit("ok", ok)
emit("code", err.code)
emit("message", err.message)
]])
    assert.are.equal("false", r.ok)
    assert.are.equal("ProfileNotFound", r.code)
    assert.truthy(r.message:find('profile "ghost" not found', 1, true), r.message)
  end)
end)
