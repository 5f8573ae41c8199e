-- Bad arguments raise ParamValidationError naming the member, before any I/O:
-- the client points at a closed port, so a request that got as far as the
-- network would raise EndpointConnectionError instead.
local h = require "helpers"

local ARN = h.CA_ARN
local CERT_ARN = ARN .. "/certificate/0123456789abcdef0123456789abcdef"
local c

setup(function() c = h.offline_client() end)
teardown(function() c:close() end)

local function check(method, params, message, operation)
  local err = h.raises_code("ParamValidationError", c[method], c, params)
  assert.are.equal(message, err.message)
  assert.are.equal(operation, err.operation)
  assert.are.equal(0, err.attempts)
  assert.is_nil(err.status)
  assert.is_false(err.retryable)
  return err
end

describe("validation before I/O", function()
  it("a valid call does reach the network (the control case)", function()
    local err = h.raises_code("EndpointConnectionError", c.list_tags, c,
                              { CertificateAuthorityArn = ARN })
    assert.are.equal("ListTags", err.operation)
    assert.is_true(err.retryable)
    assert.are.equal(1, err.attempts)  -- max_attempts = 1 passed through
  end)

  it("missing required member", function()
    check("get_certificate", { CertificateAuthorityArn = ARN },
          "CertificateArn: missing required parameter", "GetCertificate")
  end)

  it("nested missing required member", function()
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
                                 SigningAlgorithm = "SHA256WITHRSA", Validity = { Value = 1 } },
          "Validity.Type: missing required parameter", "IssueCertificate")
  end)

  it("unknown member, listing the expected ones", function()
    check("list_tags", { CertificateAuthorityArn = ARN, Bogus = 1 },
          "Bogus: unknown parameter; expected one of: MaxResults, NextToken, CertificateAuthorityArn",
          "ListTags")
  end)

  it("an operation without input members", function()
    check("list_certificate_authorities", { Nope = true },
          "Nope: unknown parameter; expected one of: MaxResults, NextToken, ResourceOwner",
          "ListCertificateAuthorities")
  end)

  it("wrong scalar types name the path", function()
    check("get_certificate", { CertificateAuthorityArn = ARN, CertificateArn = 42 },
          "CertificateArn: expected a string, got number", "GetCertificate")
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
                                 SigningAlgorithm = "SHA256WITHRSA",
                                 Validity = { Value = "365", Type = "DAYS" } },
          "Validity.Value: expected an integer, got string", "IssueCertificate")
    check("update_certificate_authority", {
            CertificateAuthorityArn = ARN,
            RevocationConfiguration = { CrlConfiguration = { Enabled = "yes" } } },
          "RevocationConfiguration.CrlConfiguration.Enabled: expected a boolean, got string",
          "UpdateCertificateAuthority")
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = {},
                                 SigningAlgorithm = "SHA256WITHRSA",
                                 Validity = { Value = 1, Type = "DAYS" } },
          "Csr: expected a string or bytes, got an empty table", "IssueCertificate")
  end)

  it("a fractional integer (core check, with the path)", function()
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
                                 SigningAlgorithm = "SHA256WITHRSA",
                                 Validity = { Value = 1.5, Type = "DAYS" } },
          "Validity.Value: expected an integer, got 1.5", "IssueCertificate")
  end)

  it("out-of-range numbers and lengths", function()
    check("list_certificate_authorities", { MaxResults = 0 },
          "MaxResults: value 0 is below the minimum 1", "ListCertificateAuthorities")
    check("list_certificate_authorities", { MaxResults = 1001 },
          "MaxResults: value 1001 is above the maximum 1000", "ListCertificateAuthorities")
    check("get_certificate", { CertificateAuthorityArn = "arn", CertificateArn = CERT_ARN },
          "CertificateAuthorityArn: length 3 is below the minimum 5", "GetCertificate")
    check("tag_certificate_authority", { CertificateAuthorityArn = ARN, Tags = {} },
          "Tags: length 0 is below the minimum 1", "TagCertificateAuthority")
  end)

  it("list element paths (0-based, as the core prints them)", function()
    check("tag_certificate_authority",
          { CertificateAuthorityArn = ARN, Tags = { { Key = "a" }, { Key = 7 } } },
          "Tags[1].Key: expected a string, got number", "TagCertificateAuthority")
    check("tag_certificate_authority",
          { CertificateAuthorityArn = ARN, Tags = { { Key = "a" }, { Value = "v" } } },
          "Tags[1].Key: missing required parameter", "TagCertificateAuthority")
  end)

  it("a table with string keys where a list belongs", function()
    check("tag_certificate_authority",
          { CertificateAuthorityArn = ARN, Tags = { Key = "a", Value = "b" } },
          "Tags: expected a list, got object",
          "TagCertificateAuthority")
    check("tag_certificate_authority",
          { CertificateAuthorityArn = ARN, Tags = { [1] = { Key = "a" }, [3] = { Key = "b" } } },
          "Tags: expected a list, got a table with holes",
          "TagCertificateAuthority")
  end)

  it("a list where a structure belongs", function()
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
                                 SigningAlgorithm = "SHA256WITHRSA",
                                 Validity = { 365, "DAYS" } },
          "Validity: expected an object, got list",
          "IssueCertificate")
  end)

  it("strings with a NUL byte", function()
    check("get_certificate", { CertificateAuthorityArn = ARN, CertificateArn = "a\0b" .. CERT_ARN },
          "CertificateArn: expected a string, got a string with a NUL byte", "GetCertificate")
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "-----BEGIN\0",
                                 SigningAlgorithm = "SHA256WITHRSA",
                                 Validity = { Value = 1, Type = "DAYS" } },
          "Csr: expected a string or bytes, got a string with a NUL byte", "IssueCertificate")
  end)

  it("functions and other non-data values", function()
    check("get_certificate", { CertificateAuthorityArn = ARN, CertificateArn = print },
          "CertificateArn: expected a string, got function", "GetCertificate")
  end)

  it("a table with a key of another type, or mixed keys", function()
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
                                 SigningAlgorithm = "SHA256WITHRSA",
                                 Validity = { Value = 1, Type = "DAYS", [true] = 1 } },
          "Validity: expected an object, got a table with a boolean key", "IssueCertificate")
    check("tag_certificate_authority",
          { CertificateAuthorityArn = ARN, Tags = { { Key = "a" }, Extra = 1 } },
          "Tags: expected a list, got a table with both string and number keys",
          "TagCertificateAuthority")
  end)

  it("an empty table is a list or an object, as the model wants", function()
    check("tag_certificate_authority", { CertificateAuthorityArn = ARN, Tags = {} },
          "Tags: length 0 is below the minimum 1", "TagCertificateAuthority")
    check("issue_certificate", { CertificateAuthorityArn = ARN, Csr = "x",
                                 SigningAlgorithm = "SHA256WITHRSA", Validity = {} },
          "Validity.Value: missing required parameter\n" ..
          "Validity.Type: missing required parameter", "IssueCertificate")
  end)

  it("nesting deeper than the core's limit names the path", function()
    local deep = {}
    deep[1] = deep
    check("tag_certificate_authority", { CertificateAuthorityArn = ARN, Tags = deep },
          "Tags" .. string.rep("[0]", 31) .. ": nesting deeper than 32 levels",
          "TagCertificateAuthority")
  end)

  it("params that are not a table", function()
    check("list_tags", "arn", "input: expected a table of parameters, got string", "ListTags")
  end)

  it("no params at all is an empty input", function()
    check("get_certificate", nil, "CertificateAuthorityArn: missing required parameter\n" ..
          "CertificateArn: missing required parameter", "GetCertificate")
    h.raises_code("EndpointConnectionError", c.list_certificate_authorities, c)
  end)

  it("waiter names and options", function()
    local err = h.raises_code("ParamValidationError", c.wait, c, "cert_issued", {})
    assert.matches("^waiter: unknown waiter \"cert_issued\"; expected one of: audit_report_created, certificate_authority_csr_created, certificate_issued",
                   err.message)
    err = h.raises_code("ParamValidationError", c.wait, c, "certificate_issued",
                        { CertificateAuthorityArn = ARN, CertificateArn = CERT_ARN },
                        { delay = 1, tries = 3 })
    assert.matches("^options.tries: unknown option", err.message)
    err = h.raises_code("ParamValidationError", c.wait, c, "certificate_issued",
                        { CertificateAuthorityArn = ARN, CertificateArn = CERT_ARN },
                        { max_attempts = 0 })
    assert.matches("^options.max_attempts: 0 is out of range", err.message)
    err = h.raises_code("ParamValidationError", c.wait, c, "certificate_issued",
                        { CertificateAuthorityArn = ARN })
    assert.are.equal("CertificateArn: missing required parameter", err.message)
    assert.are.equal("GetCertificate", err.operation)
  end)

  it("paginator operations and options", function()
    local err = h.raises_code("ParamValidationError", c.paginate, c, "get_certificate", {})
    assert.matches("^operation: \"get_certificate\" cannot be paginated; expected one of: " ..
                   "list_certificate_authorities, list_permissions, list_tags", err.message)
    err = h.raises_code("ParamValidationError", c.paginate, c, "list_tags",
                        { CertificateAuthorityArn = ARN }, { page_size = 0 })
    assert.matches("^options.page_size: 0 is out of range", err.message)
    err = h.raises_code("ParamValidationError", c.paginate, c, "list_tags",
                        { CertificateAuthorityArn = ARN }, { starting_token = 5 })
    assert.are.equal("options.starting_token: expected a string, got number", err.message)
    -- the input is validated on the first page, still before any I/O
    local pages = c:paginate("list_tags", { CertificateAuthorityArn = ARN, Extra = 1 })
    err = h.raises_code("ParamValidationError", pages)
    assert.matches("^Extra: unknown parameter", err.message)
    -- and CamelCase names work too
    pages = c:paginate("ListTags", { CertificateAuthorityArn = ARN })
    h.raises_code("EndpointConnectionError", pages)
  end)
end)
