-- user_agent_suffix of acmpca.new as tests/fixtures/fault_server.py receives
-- it. The other options observed from outside: tests/lua/unit/options_spec.lua.
local h = require "helpers"

local CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"

describe("user_agent_suffix", function()
  it("is appended to the User-Agent the server receives", function()
    h.post("/_fault/reset", "")
    local c = h.client{ user_agent_suffix = "inventory-app/2.1 (lua spec)" }
    c:list_tags{ CertificateAuthorityArn = CA }
    c:close()
    c = h.client()
    c:list_tags{ CertificateAuthorityArn = CA }
    c:close()
    local seen = h.json_decode(h.get("/_fault/requests")).requests
    assert.are.equal(2, #seen)
    local with, without = seen[1].headers["user-agent"], seen[2].headers["user-agent"]
    assert.are.equal(without .. " inventory-app/2.1 (lua spec)", with)
    assert.matches("^acmpca", without)
  end)
end)


-- The proxy option: calls reach the fault server through
-- tests/fixtures/recording_proxy.py --forward (run around a child interpreter,
-- which gets ACMPCA_TEST_PROXY; only the Lua child gets an ASan runtime preloaded).
local function through_proxy(proxy_expr)
  local lua = os.getenv("ACMPCA_LUA_EXE") or (h.is54 and "lua5.4" or "luajit")
  local cpath = package.searchpath("acmpca", package.cpath)
  assert(cpath, "acmpca.so not on package.cpath")
  local child = ("package.cpath = %q; local a = require 'acmpca'; " ..
                 "local c = a.new{ region = 'us-east-1', max_attempts = 1, " ..
                 "endpoint_url = os.getenv('ACMPCA_TEST_ENDPOINT'), proxy = %s, " ..
                 "credentials = { access_key_id = 'testing', secret_access_key = 'testing' } }; " ..
                 "print(pcall(c.list_tags, c, { CertificateAuthorityArn = %q }))")
                :format(cpath, proxy_expr, CA)
  local script = ("NO_PROXY= no_proxy= http_proxy= HTTP_PROXY= LD_PRELOAD=%s %s -e %s; " ..
                  "echo; curl -sS --noproxy '*' \"$ACMPCA_TEST_PROXY/_requests\"")
                 :format(h.shell_quote(os.getenv("LD_PRELOAD") or ""), h.shell_quote(lua),
                         h.shell_quote(child))
  local out, ok = h.sh(("env -u LD_PRELOAD python3 %s/tests/fixtures/recording_proxy.py " ..
                        "--forward -- sh -c %s 2>&1")
                       :format(h.shell_quote(os.getenv("ACMPCA_SOURCE_DIR") or "."),
                               h.shell_quote(script)))
  assert(ok, out)
  return out, h.json_decode(out:match("\n({.*})%s*$")).requests
end

describe("proxy", function()
  it("as a string carries the call to the server through the proxy", function()
    h.post("/_fault/reset", "")
    local out, seen = through_proxy("os.getenv('ACMPCA_TEST_PROXY')")
    assert.matches("^true", out)
    assert.are.equal(1, #seen, out)
    assert.are.equal(("POST %s/ HTTP/1.1"):format(os.getenv("ACMPCA_TEST_ENDPOINT")),
                     seen[1].line)
    assert.are.equal(1, #h.json_decode(h.get("/_fault/requests")).requests)
  end)

  it("as a table uses the entry for the endpoint's scheme", function()
    h.post("/_fault/reset", "")
    local out, seen = through_proxy("{ http = os.getenv('ACMPCA_TEST_PROXY'), " ..
                                    "https = 'http://127.0.0.1:1' }")
    assert.matches("^true", out)
    assert.are.equal(1, #seen, out)
    -- An https-only proxy leaves an http endpoint alone.
    out, seen = through_proxy("{ https = os.getenv('ACMPCA_TEST_PROXY') }")
    assert.matches("^true", out)
    assert.are.equal(0, #seen, out)
  end)
end)
