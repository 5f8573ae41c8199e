-- c:machine serializes params whose members are all plain strings straight
-- to the request body (no cJSON tree); everything else goes the cJSON way
-- and the core checks it. Either way the body and every error must be what
-- c:build_request (always the cJSON way) gives: compared here over
-- hand-picked and generated params, escapes and length bounds included.
local h = require "helpers"

local ARN = h.CA_ARN
local c = h.machine_client()

-- The body of the request a machine would send first.
local function machine_body(op, params)
  local m = c:machine(op, params)
  local _, s = m:next_wire()
  m:close()
  return s.wire:match("\r\n\r\n(.*)$")
end

local function same(op, params)
  local ok1, r1 = pcall(c.build_request, c, op, params)
  local ok2, r2 = pcall(machine_body, op, params)
  local where = op .. " " .. require("string").format("%q", tostring(params and
                                                       (params.CertificateArn or params.Principal
                                                        or params.CertificateAuthorityArn)))
  assert(ok1 == ok2, where .. ": build_request " .. tostring(ok1) .. " (" .. tostring(r1) ..
                     "), machine " .. tostring(ok2) .. " (" .. tostring(r2) .. ")")
  if ok1 then
    assert.are.equal(r1.body, r2, where)
  else
    assert.are.equal(r1.code, r2.code, where)
    assert.are.equal(r1.message, r2.message, where)
  end
  return ok1, r1
end

describe("c:machine's params", function()
  it("give build_request's body and errors for plain string members", function()
    local cert = ARN .. "/certificate/abc"
    assert.is_true((same("get_certificate", { CertificateAuthorityArn = ARN, CertificateArn = cert })))
    for _, params in ipairs{
      { CertificateAuthorityArn = ARN },                                -- a required one missing
      { CertificateAuthorityArn = ARN, CertificateArn = cert, Extra = "x" },
      { CertificateAuthorityArn = ARN, CertificateArn = 7 },
      { CertificateAuthorityArn = ARN, CertificateArn = { cert } },
      { CertificateAuthorityArn = ARN, CertificateArn = "a\0b" },
      { CertificateAuthorityArn = ARN, CertificateArn = "" },
      { CertificateAuthorityArn = ARN, CertificateArn = ("x"):rep(200) },
      { CertificateAuthorityArn = ARN, CertificateArn = ("x"):rep(201) },
      { CertificateAuthorityArn = ARN, CertificateArn = ("é"):rep(150) },  -- 300 bytes, 150 chars
      { CertificateAuthorityArn = ARN, CertificateArn = ("😀"):rep(60) },
      { CertificateAuthorityArn = ARN, CertificateArn = ("😀"):rep(201) },
      { CertificateAuthorityArn = ARN, CertificateArn = "arn:q\"b\\s/\b\f\n\r\t\1\27\31\127é" },
      { CertificateAuthorityArn = ARN, CertificateArn = ("\"\n"):rep(100) },
      { CertificateAuthorityArn = ARN, CertificateArn = cert, [1] = "x" },
      { CertificateAuthorityArn = ARN, CertificateArn = true },
      {}, "x",
    } do
      same("get_certificate", params)
    end
    same("get_certificate", nil)
    same("list_certificate_authorities", {})
    same("list_certificate_authorities", { NextToken = "t", MaxResults = 5 })
    same("list_certificate_authorities", { NextToken = "t" })
    same("list_tags", { CertificateAuthorityArn = ARN, MaxResults = 10 })
    same("revoke_certificate", { CertificateAuthorityArn = ARN, CertificateSerial = "01:02",
                                 RevocationReason = "KEY_COMPROMISE" })
    same("revoke_certificate", { CertificateAuthorityArn = ARN, CertificateSerial = "01:02",
                                 RevocationReason = "NOT_A_REASON" })
    -- an operation with an IdempotencyToken goes the cJSON way (the core adds the token)
    local m = c:machine("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
      SigningAlgorithm = "SHA256WITHRSA", Validity = { Value = 1, Type = "DAYS" } })
    assert.matches('"IdempotencyToken":"', select(2, m:next_wire()).wire)
  end)

  it("agree on generated params", function()
    local seed = 4242
    local function rnd(n)
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local pieces = { "a", "Z", "0", ":", "/", "-", '"', "\\", "\n", "\t", "\0", "\1", "\27",
                     "\31", "\127",
                     "é", "€", "😀", " " }
    local function text()
      local n = ({ 0, 1, 4, 5, 20, 60, 199, 200, 201, 260 })[rnd(10)]
      local t = {}
      for i = 1, n do t[i] = rnd(4) == 1 and pieces[rnd(#pieces)] or "x" end
      return table.concat(t)
    end
    local ops = {
      get_certificate = { "CertificateAuthorityArn", "CertificateArn" },
      describe_certificate_authority = { "CertificateAuthorityArn" },
      get_policy = { "ResourceArn" },
      delete_permission = { "CertificateAuthorityArn", "Principal", "SourceAccount" },
      revoke_certificate = { "CertificateAuthorityArn", "CertificateSerial", "RevocationReason" },
      describe_certificate_authority_audit_report = { "CertificateAuthorityArn", "AuditReportId" },
    }
    local names = {}
    for op in pairs(ops) do names[#names + 1] = op end
    table.sort(names)
    for _ = 1, 300 do
      local op = names[rnd(#names)]
      local params = {}
      for _, k in ipairs(ops[op]) do
        local r = rnd(12)
        if r == 1 then params[k] = nil
        elseif r == 2 then params[k] = rnd(100)
        elseif r <= 6 then params[k] = text()
        else params[k] = ARN .. "/" .. text():sub(1, 40) end
      end
      if rnd(10) == 1 then params.Unknown = "u" end
      same(op, params)
    end
  end)
end)
