-- A call machine's 2xx answer turned into the result table by the module's
-- own JSON reader (m:response, no cJSON tree) must give exactly what the
-- core's parse does (acmpca.parse_response: cJSON, nulls dropped, the
-- model's timestamps as floats, blobs decoded), and where the core refuses
-- a body the same typed error. Each body below goes both ways and the two
-- outcomes are compared value by value (integer vs float included under
-- Lua 5.4); a few thousand generated and mutated bodies too.
local h = require "helpers"
local acmpca = h.acmpca

local ARN = h.CA_ARN
local HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.1\r\n" ..
             "x-amzn-RequestId: req-1"

-- Operations with different output shapes, and valid params for each.
local OPS = {
  get_certificate = { CertificateAuthorityArn = ARN, CertificateArn = ARN .. "/certificate/a" },
  describe_certificate_authority = { CertificateAuthorityArn = ARN },
  list_certificate_authorities = {},
  list_tags = { CertificateAuthorityArn = ARN },
  list_permissions = { CertificateAuthorityArn = ARN },
  describe_certificate_authority_audit_report = { CertificateAuthorityArn = ARN,
                                                  AuditReportId = "11111111-2222-3333-4444-555555555555" },
  get_policy = { ResourceArn = ARN },
}
local OP_NAMES = {}
for name in pairs(OPS) do OP_NAMES[#OP_NAMES + 1] = name end
table.sort(OP_NAMES)

local client = h.machine_client()

-- "int", "float" or the type: 1 and 1.0 differ under Lua 5.4.
local function kind(v)
  if type(v) == "number" and math.type then return math.type(v) end
  return type(v)
end

-- nil when a and b are the same value, else where they differ.
local function diff(a, b, path)
  if kind(a) ~= kind(b) then return path .. ": " .. kind(a) .. " vs " .. kind(b) end
  if type(a) ~= "table" then
    if a == b or (a ~= a and b ~= b) then return nil end
    return path .. ": " .. tostring(a) .. " vs " .. tostring(b)
  end
  for k, v in pairs(a) do
    local d = diff(v, b[k], path .. "." .. tostring(k))
    if d then return d end
  end
  for k in pairs(b) do
    if a[k] == nil then return path .. "." .. tostring(k) .. ": missing" end
  end
  return nil
end

-- The core's outcome: true, result or false, error object.
local function by_core(op, body)
  return pcall(acmpca.parse_response, op, 200, { ["x-amzn-RequestId"] = "req-1" }, body)
end

-- The machine's outcome for the same 2xx body.
local function by_machine(op, body)
  local m = client:machine(op, OPS[op])
  assert.are.equal("send", (m:next_wire()))
  m:response(200, HEAD, body)
  local k, res = m:next_wire()
  m:close()
  if k == "done" then return true, res end
  assert.are.equal("failed", k)
  return false, res
end

local function same(op, body)
  local ok1, r1 = by_core(op, body)
  local ok2, r2 = by_machine(op, body)
  local where = op .. " " .. ("%q"):format(body)
  assert(ok1 == ok2, where .. ": core " .. tostring(ok1) .. " (" .. tostring(r1) ..
                     "), machine " .. tostring(ok2) .. " (" .. tostring(r2) .. ")")
  if ok1 then
    local d = diff(r1, r2, "result")
    assert(not d, where .. ": " .. tostring(d))
  else
    assert.are.equal(r1.code, r2.code, where)
    assert.are.equal(r1.message, r2.message, where)
    assert.are.equal(200, r2.status)
    assert.are.equal("req-1", r2.request_id)
  end
  return ok1, r1
end

local function each_op(body)
  for _, op in ipairs(OP_NAMES) do same(op, body) end
end

describe("a 2xx body read by the module", function()
  it("gives the core's values for escapes, surrogate pairs and raw UTF-8", function()
    local ok, r = same("get_certificate",
      '{"Certificate":"-----BEGIN\\nA\\/B\\"q\\\\ \\b\\f\\r\\t\\u0041\\u00e9\\u20AC\\ud83d\\ude00 é"}')
    assert.is_true(ok)
    assert.are.equal('-----BEGIN\nA/B"q\\ \b\f\r\tAé€😀 é', r.Certificate)
    for _, body in ipairs{
      '{"Certificate":"\\u0000"}', '{"Certificate":"a\\u0000b"}', '{"\\u0000":1}',
      '{"Certificate":"\\ud800"}', '{"Certificate":"\\ud800x"}', '{"Certificate":"\\ud800\\u0041"}',
      '{"Certificate":"\\udc00"}', '{"Certificate":"\\uZZZZ"}', '{"Certificate":"\\u12"}',
      '{"Certificate":"\\x"}', '{"Certificate":"\\', '{"Certificate":"a\tb"}',
      '{"Certificate":"a\nb"}', '{"Certificate":"\0"}', '{"Certi\\u0066icate":"k"}',
      '{"Certificate":"\\uDBFF\\uDFFF"}', '{"Certificate":"\\u007f\\u0080\\u07ff\\u0800\\uffff"}',
    } do
      same("get_certificate", body)
    end
  end)

  it("gives integers, floats and timestamps as the core does", function()
    for _, n in ipairs{ "0", "-0", "1", "-1", "42", "1.5", "-1.25e3", "1e2", "1E+2", "2e-1",
                        "9007199254740993", "-9007199254740992", "1e400", "0.1", "123456789.0",
                        "01", "+1", ".5", "1.", "-", "1e", "--1", "1-2", "0x10", "1.5.5",
                        ("9"):rep(70), "1" .. ("0"):rep(62), "1" .. ("0"):rep(63) } do
      each_op('{"CertificateAuthority":{"CreatedAt":' .. n .. ',"Serial":' .. n ..
              '},"CertificateAuthorities":[{"NotAfter":' .. n .. ',"x":' .. n .. '}],"n":' ..
              n .. '}')
    end
    local _, r = same("describe_certificate_authority",
                      '{"CertificateAuthority":{"CreatedAt":1700000000,"X":1700000000}}')
    if math.type then
      assert.are.equal("float", math.type(r.CertificateAuthority.CreatedAt))
      assert.are.equal("integer", math.type(r.CertificateAuthority.X))
    end
  end)

  it("drops null members, keeps list holes and duplicate keys' last value", function()
    for _, body in ipairs{
      '{"Certificate":null,"CertificateChain":"c"}', '{"Tags":[{"Key":"a"},null,{"Key":"b"}]}',
      '{"Certificate":"a","Certificate":"b"}', '{"Certificate":"a","Certificate":null}',
      '{"a":{"b":{"c":[1,[2,[3,{}]],[]]}},"t":true,"f":false}', '{}', ' \r\n\t{ } \n',
      '{"Tags":[]}', '{"Tags":{}}', '{"CertificateAuthorities":"x"}', '{"NextToken":null}',
    } do
      each_op(body)
    end
  end)

  it("gives the core's typed error (or value) for what is not strict JSON", function()
    for _, body in ipairs{
      '', '   ', '[]', '"x"', '1', 'null', '{', '{"a"}', '{"a":}', '{"a":1,}', '{,}', '[1,]',
      '{"a":1} x', '{"a":1}}', '\239\187\191{"a":1}', '\v{"a":1}', '{"a":1}\0', "{'a':1}",
      '{"a":tru}', '{"a":nul}', '{"a":True}', '{"a" 1}', '{"a":[1 2]}', '{"a":"x}',
      '{"a":1}\n\n', '{ "a" : [ 1 , 2 ] , "b" : { } }',
    } do
      each_op(body)
    end
  end)

  it("leaves nesting past the core's limit and blob members to the core", function()
    for depth = 28, 36 do
      each_op('{"a":' .. ("["):rep(depth) .. ("]"):rep(depth) .. '}')
      each_op(("{\"CertificateAuthority\":"):rep(depth) .. "1" .. ("}"):rep(depth))
    end
  end)

  it("agrees on the fuzz corpus' response bodies", function()
    local dir = (os.getenv("ACMPCA_SOURCE_DIR") or ".") .. "/tests/fuzz/corpus/fuzz_response/"
    local p = io.popen("ls " .. dir .. " 2>/dev/null")
    local names = p:read("*a")
    p:close()
    local count = 0
    for name in names:gmatch("[^\n]+") do
      local f = assert(io.open(dir .. name, "rb"))
      local data = f:read("*a")
      f:close()
      local body = data:match("\n\n(.*)$") or data:sub(3)
      each_op(body)
      count = count + 1
    end
    assert.is_true(count > 50, "the corpus was not found")
  end)

  it("agrees on generated and mutated bodies", function()
    local seed = 12345
    local function rnd(n)   -- a small LCG: the same bodies on every run and interpreter
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n + 1
    end
    local strings = { '"a"', '"\\n"', '"\\u00e9"', '"\\ud83d\\ude00"', '""', '"é"', '"\\""',
                      '"\\u0000"', '"\\ud800"' }
    local numbers = { "0", "-1", "3.5", "1e3", "1700000000", "1700000000.5", "01", "-0.0" }
    local keys = { "Certificate", "CertificateChain", "CertificateAuthority", "CreatedAt",
                   "NotBefore", "CertificateAuthorities", "Tags", "Key", "Value", "Permissions",
                   "Actions", "Policy", "NextToken", "LastStateChangeAt", "x" }
    local function value(depth)
      local r = rnd(depth > 3 and 5 or 7)
      if r == 1 then return strings[rnd(#strings)] end
      if r == 2 then return numbers[rnd(#numbers)] end
      if r == 3 then return ({ "true", "false", "null" })[rnd(3)] end
      if r <= 5 then return strings[rnd(6)] end
      if r == 6 then
        local parts = {}
        for i = 1, rnd(4) - 1 do parts[i] = value(depth + 1) end
        return "[" .. table.concat(parts, ",") .. "]"
      end
      local parts = {}
      for i = 1, rnd(5) - 1 do parts[i] = '"' .. keys[rnd(#keys)] .. '":' .. value(depth + 1) end
      return "{" .. table.concat(parts, ",") .. "}"
    end
    local specials = { "", "\\", '"', "{", "}", "[", "]", ",", ":", " ", "\0", "\1", "u", "0" }
    for _ = 1, 400 do
      local body = "{" .. ('"%s":%s'):format(keys[rnd(#keys)], value(1))
      for _ = 1, rnd(3) - 1 do body = body .. (',"%s":%s'):format(keys[rnd(#keys)], value(1)) end
      body = body .. "}"
      each_op(body)
      local at = rnd(#body)   -- one byte changed, removed or added
      each_op(body:sub(1, at - 1) .. specials[rnd(#specials)] .. body:sub(at + rnd(2) - 1))
    end
  end)
end)
