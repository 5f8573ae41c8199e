-- c:credentials_expiration, c:export_credentials and c:import_credentials:
-- what resty.acmpca's lua_shared_dict sharing stands on. Only expiring
-- credentials travel; a blob that is not one is refused by name; what a
-- client takes is what it then signs with.
local h = require "helpers"
local acmpca = h.acmpca

local function client()
  return acmpca.new{ region = "us-east-1", endpoint_url = h.CLOSED_PORT_URL,
                     credentials = h.CREDS }
end

local function blob(expiration, key)
  return ("acmpca-credentials-1\n%d\n%s\nsecret-from-another-worker\nTOKEN-shared"):format(
    expiration, key or "ASIASHARED")
end

describe("shared credentials", function()
  it("never exports credentials that do not expire", function()
    local c = client()
    assert.is_nil(c:credentials_expiration())
    assert.is_nil(c:export_credentials())
  end)

  it("takes credentials from another client and signs with them", function()
    local c = client()
    local later = os.time() + 3600
    assert.is_true(c:import_credentials(blob(later)))
    assert.are.equal(later, c:credentials_expiration())
    local exported, expiration = c:export_credentials()
    assert.are.equal(blob(later), exported)
    assert.are.equal(later, expiration)
    local req = c:build_request("list_certificate_authorities", {})
    assert.truthy(req.headers["Authorization"]:find("Credential=ASIASHARED/", 1, true))
    assert.are.equal("TOKEN-shared", req.headers["X-Amz-Security-Token"])
  end)

  it("keeps what outlives the offer, refuses credentials due for refresh", function()
    local c = client()
    local later = os.time() + 7200
    assert.is_true(c:import_credentials(blob(later, "ASIALATER")))
    assert.is_false(c:import_credentials(blob(later - 600, "ASIASOONER")))
    assert.is_false(client():import_credentials(blob(os.time() + 60)))
    assert.truthy(c:export_credentials():find("ASIALATER", 1, true))
  end)

  it("refuses a blob that is not one, naming it", function()
    local c = client()
    for _, bad in ipairs({ "", "acmpca-credentials-1\n1\nA\nB", "x\n1\nA\nB\nC",
                           "acmpca-credentials-1\nsoon\nA\nB\nC",
                           "acmpca-credentials-1\n9999999999\n\nB\nC",
                           "acmpca-credentials-1\n9999999999\nA\nB\nC\nD" }) do
      local err = h.raises_code("ParamValidationError", c.import_credentials, c, bad)
      assert.truthy(err.message:find("blob: expected what c:export_credentials() returned",
                                     1, true), err.message)
    end
  end)
end)
