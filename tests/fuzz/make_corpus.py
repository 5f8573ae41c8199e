#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/<target>/.

    make_corpus.py [SERVICE_MODEL_JSON]

Seeds are small, valid-looking inputs in each target's input format (see the
comment at the top of each fuzz_*.c), written under stable names ("seed-...")
so that re-running the script only rewrites them. Inputs found by fuzzing
(crash reproducers and interesting cases) live next to them under other names
("crash-...", "regress-...") and are kept by hand.

The model (service-2.json of acm-pca) gives an example input and output for
every operation; without it only the hand-written seeds are written.
"""
import base64
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
SIGV4 = os.path.join(ROOT, "tests", "fixtures", "sigv4", "v4")
MODEL_CANDIDATES = [os.path.join(ROOT, "core", "model", "service-2.json")]

OPERATIONS = [
    "CreateCertificateAuthority", "CreateCertificateAuthorityAuditReport", "CreatePermission",
    "DeleteCertificateAuthority", "DeletePermission", "DeletePolicy",
    "DescribeCertificateAuthority", "DescribeCertificateAuthorityAuditReport", "GetCertificate",
    "GetCertificateAuthorityCertificate", "GetCertificateAuthorityCsr", "GetPolicy",
    "ImportCertificateAuthorityCertificate", "IssueCertificate", "ListCertificateAuthorities",
    "ListPermissions", "ListTags", "PutPolicy", "RestoreCertificateAuthority",
    "RevokeCertificate", "TagCertificateAuthority", "UntagCertificateAuthority",
    "UpdateCertificateAuthority",
]
OP = {name: i for i, name in enumerate(OPERATIONS)}
# Index into fuzz_response.c's status table.
STATUS = {200: 0, 204: 2, 299: 3, 400: 4, 403: 6, 404: 7, 413: 8, 429: 9, 500: 10, 502: 11,
          503: 12, 504: 13, 100: 14, 302: 15}

CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/12345678-1234-1234-1234-123456789012"
PEM = ("-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUfuzz\n-----END CERTIFICATE-----\n")
CSR = ("-----BEGIN CERTIFICATE REQUEST-----\nMIIBfuzz\n-----END CERTIFICATE REQUEST-----\n")


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


# ---- examples from the model ------------------------------------------------------

def example(shapes, name, output, required_only=False, depth=0):
    s = shapes[name]
    t = s["type"]
    if depth > 6:
        return None
    if t == "structure":
        out = {}
        for m, ref in s.get("members", {}).items():
            if required_only and m not in s.get("required", []):
                continue
            v = example(shapes, ref["shape"], output, required_only, depth + 1)
            if v is not None:
                out[m] = v
        return out
    if t == "list":
        v = example(shapes, s["member"]["shape"], output, required_only, depth + 1)
        return [] if v is None else [v]
    if t == "map":
        v = example(shapes, s["value"]["shape"], output, required_only, depth + 1)
        return {} if v is None else {"k": v}
    if t == "string":
        if "enum" in s:
            return s["enum"][0]
        if "Arn" in name:
            return CA
        text = "x" * max(1, s.get("min", 1))
        if s.get("max") is not None and len(text) > s["max"]:
            text = text[:s["max"]]
        return text
    if t == "blob":
        text = CSR if "Csr" in name else PEM
        return base64.b64encode(text.encode()).decode() if output else text
    if t in ("integer", "long"):
        return int(s.get("min", 1))
    if t == "boolean":
        return True
    if t == "timestamp":
        return 1700000000.5
    return None


def model_seeds(path):
    with open(path) as f:
        model = json.load(f)
    shapes = model["shapes"]
    for op_name, op in model["operations"].items():
        if op_name not in OP:
            continue
        idx = OP[op_name]
        if "input" in op:
            full = example(shapes, op["input"]["shape"], False)
            write("fuzz_validate", "%s-full" % op_name, bytes([idx]) + json.dumps(full).encode())
            req = example(shapes, op["input"]["shape"], False, required_only=True)
            write("fuzz_validate", "%s-required" % op_name,
                  bytes([idx]) + json.dumps(req).encode())
        if "output" in op:
            out = example(shapes, op["output"]["shape"], True)
            write("fuzz_response", "%s-200" % op_name,
                  bytes([idx, STATUS[200]]) +
                  b"content-type: application/x-amz-json-1.1\nx-amzn-requestid: rid-1\n\n" +
                  json.dumps(out).encode())
        for err in op.get("errors", [])[:2]:
            write("fuzz_response", "%s-%s" % (op_name, err["shape"]),
                  bytes([idx, STATUS[400]]) + b"x-amzn-requestid: rid-2\n\n" +
                  json.dumps({"__type": err["shape"], "message": "m"}).encode())


# ---- hand-written seeds -------------------------------------------------------------

def response_seeds():
    d = OP["DescribeCertificateAuthority"]
    i = OP["IssueCertificate"]
    g = OP["GetCertificate"]
    l = OP["ListCertificateAuthorities"]
    csr = OP["GetCertificateAuthorityCsr"]
    seeds = {
        "describe-prefixed-type": (d, 400, "x-amzn-requestid: r\n",
                                   '{"__type":"com.amazonaws.acmpca#ResourceNotFoundException",'
                                   '"message":"gone"}'),
        "describe-header-only": (d, 400, "X-Amzn-ErrorType: InvalidArnException:http://internal/\n",
                                 ""),
        "describe-header-and-body": (d, 400, "x-amzn-errortype: ThrottlingException\n",
                                     '{"__type":"Other","Message":"capital M"}'),
        "describe-code-member": (d, 400, "", '{"code":"ValidationException","message":"v"}'),
        "describe-xml-403": (d, 403, "x-amz-request-id: xr\n",
                             "<ErrorResponse><Error><Type>Sender</Type>"
                             "<Code>SignatureDoesNotMatch</Code><Message>bad</Message></Error>"
                             "<RequestId>xml-rid</RequestId></ErrorResponse>"),
        "describe-html-500": (d, 500, "content-type: text/html\n",
                              "<html><body><h1>500 Internal Server Error</h1></body></html>"),
        "describe-html-502": (d, 502, "", "<!DOCTYPE html><title>502 Bad Gateway</title>"),
        "describe-empty-503": (d, 503, "", ""),
        "describe-unmodelled": (d, 400, "", '{"__type":"InvalidStateException","message":"x"}'),
        "describe-truncated": (d, 200, "", '{"CertificateAuthority": {"Arn": "arn:aws:ac'),
        "describe-not-json": (d, 200, "", "this is not JSON {"),
        "describe-array": (d, 200, "", "[1,2,3]"),
        "describe-whitespace": (d, 200, "", " \r\n\t "),
        "describe-nested": (d, 200, "", '{"a":' * 40 + "1" + "}" * 40),
        "describe-nulls": (d, 200, "", '{"CertificateAuthority":{"Arn":null,"Status":"ACTIVE",'
                                       '"CertificateAuthorityConfiguration":{"Subject":null}}}'),
        "issue-200": (i, 200, "x-amzn-requestid: r\n", '{"CertificateArn":"' + CA + '/certificate/1"}'),
        "issue-throttled": (i, 400, "", '{"__type":"ThrottlingException","message":"Rate exceeded"}'),
        "issue-limit": (i, 400, "", '{"__type":"LimitExceededException","message":"quota"}'),
        "get-certificate": (g, 200, "", json.dumps({"Certificate": PEM, "CertificateChain": PEM})),
        "get-in-progress": (g, 400, "", '{"__type":"RequestInProgressException","message":"wait"}'),
        "list-null-token": (l, 200, "", '{"CertificateAuthorities":[{"Arn":"' + CA + '"}],'
                                        '"NextToken":null}'),
        "csr-base64": (csr, 200, "", json.dumps({"Csr": base64.b64encode(CSR.encode()).decode()})),
        "csr-bad-base64": (csr, 200, "", '{"Csr":"!!!not base64==="}'),
        "csr-binary": (csr, 200, "", json.dumps({"Csr": base64.b64encode(b"a\0b").decode()})),
        "status-100": (d, 100, "", "{}"),
        "status-302": (d, 302, "location: http://x/\n", ""),
        "status-204-empty": (d, 204, "", ""),
    }
    for name, (op, status, headers, body) in seeds.items():
        data = bytes([op, STATUS[status]])
        data += headers.encode() + b"\n" if headers else b"\n\n"
        write("fuzz_response", name, data + body.encode())


def ini_seeds():
    config = """# shared config
[default]
region = us-east-1
output = json
retry_mode = adaptive
max_attempts = 5
ca_bundle = /etc/ssl/ca.pem

[profile dev]
region=eu-west-1
role_arn = arn:aws:iam::123456789012:role/dev
source_profile = default
s3 =
  max_concurrent_requests = 10
  addressing_style = path
services = local

[profile "quoted name"]
region = ap-south-1 ; inline comment
credential_process = /bin/echo {"Version": 1}

[sso-session s]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1

[services local]
acm_pca =
  endpoint_url = http://127.0.0.1:4566

[not-a-profile]
region = nowhere
"""
    creds = """[default]
aws_access_key_id = AKIDEXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
aws_session_token = token#with#hashes

[p]
aws_access_key_id=AKID2
aws_secret_access_key=secret2 # comment
\t
[ spaced ]
aws_access_key_id = AKID3
"""
    write("fuzz_ini", "config", b"\x01" + config.encode())
    write("fuzz_ini", "config-crlf", b"\x03" + config.replace("\n", "\r\n").encode())
    write("fuzz_ini", "config-bom", b"\x11\xef\xbb\xbf" + config.encode())
    write("fuzz_ini", "credentials", b"\x00" + creds.encode())
    write("fuzz_ini", "credentials-nul", b"\x02" + creds.encode().replace(b"AKID2", b"AK\0D2"))
    write("fuzz_ini", "continuation", b"\x21[default]\nregion =\n  us-west-2\n\tmore = x\n"
                                      b"key=value\n  not = sub\n[default]\nregion = again\n")
    write("fuzz_ini", "odd", b"\x01[\n]\n[]\n[profile]\n[profile a b]\n= novalue\nkey\n"
                             b"[profile p] trailing\n[profile p] # ok\nk = v\n[default\n")
    write("fuzz_ini", "empty-config", b"\x01")
    write("fuzz_ini", "empty-credentials", b"\x00")


def sign_header(flags, offset=0, expires=0, nheaders=0):
    return bytes([flags]) + struct.pack("<iIB", offset, expires, nheaders)


def sign_seed(name, flags, method, url, headers, body=b"", region="us-east-1", service="service",
              token="", payload="", offset=0, expires=0):
    data = sign_header(flags, offset, expires, len(headers))
    fields = [method, url, region, service, "AKIDEXAMPLE",
              "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token, payload]
    for k, v in headers:
        fields += [k, v]
    data += b"".join(f.encode("utf-8") + b"\0" for f in fields) + body
    write("fuzz_sign", name, data)


def sign_seeds():
    # The SigV4 suite's requests, in both signing modes.
    if os.path.isdir(SIGV4):
        for case in sorted(os.listdir(SIGV4)):
            path = os.path.join(SIGV4, case, "request.txt")
            ctx_path = os.path.join(SIGV4, case, "context.json")
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                raw = f.read().decode("utf-8")
            ctx = {}
            if os.path.exists(ctx_path):
                with open(ctx_path) as f:
                    ctx = json.load(f)
            head, _, body = raw.partition("\n\n")
            lines = head.split("\n")
            method, target = lines[0].split(" ")[0], lines[0].split(" ")[1]
            headers, host = [], "example.amazonaws.com"
            for line in lines[1:]:
                if line.startswith((" ", "\t")) and headers:
                    headers[-1] = (headers[-1][0], headers[-1][1] + "\n" + line)
                    continue
                k, _, v = line.partition(":")
                headers.append((k, v))
                if k.lower() == "host":
                    host = v
            flags = 0 if ctx.get("normalize", True) else 0x02
            if ctx.get("sign_body"):
                flags |= 0x04
            token = ctx.get("credentials", {}).get("token", "")
            for mode, extra in (("header", 0), ("query", 0x01)):
                sign_seed("suite-%s-%s" % (case, mode), flags | extra, method,
                          "https://" + host + target, headers, body.encode(), token=token,
                          expires=ctx.get("expiration_in_seconds", 3600))
    sign_seed("acmpca-post", 0x00, "POST", "https://acm-pca.us-east-1.amazonaws.com/",
              [("Content-Type", "application/x-amz-json-1.1"),
               ("X-Amz-Target", "ACMPrivateCA.ListCertificateAuthorities")], b"{}",
              service="acm-pca", token="FQoGZXIvYXdzEXAMPLE", offset=3600)
    sign_seed("loopback-port", 0x08, "POST", "http://127.0.0.1:4566/?b=2&a=1&a=0",
              [("content-type", "application/x-amz-json-1.1")], b'{"x":1}', token="t")
    sign_seed("ipv6", 0x01, "GET", "https://[::1]:8443/path/%7Efoo/../bar?x=%zz&y=%E1%88%B4#frag",
              [], expires=604800)
    sign_seed("precomputed-payload", 0x04, "PUT", "https://example.amazonaws.com/a//b/./c/",
              [("X-Amz-Meta", "  a   b  ")], payload="UNSIGNED-PAYLOAD")
    sign_seed("epoch-edge", 0x00, "GET", "https://example.amazonaws.com/", [], offset=-1440938159)
    sign_seed("bad-method", 0x00, "G ET", "https://example.amazonaws.com/", [])
    sign_seed("bad-url", 0x00, "GET", "ftp://example.amazonaws.com/", [])
    sign_seed("bad-header", 0x00, "GET", "https://example.amazonaws.com/", [("Bad Name", "v")])
    write("fuzz_sign", "short-defaults", sign_header(0x00))


def validate_seeds():
    i = OP["IssueCertificate"]
    c = OP["CreateCertificateAuthority"]
    t = OP["TagCertificateAuthority"]
    seeds = {
        "issue-wrong-types": (i, {"CertificateAuthorityArn": 1, "Csr": [], "SigningAlgorithm": {},
                                  "Validity": {"Value": "30", "Type": "DAYS"}}),
        "issue-unknown-member": (i, {"CertificateAuthorityArn": CA, "Csrr": CSR}),
        "issue-float-validity": (i, {"CertificateAuthorityArn": CA, "Csr": CSR,
                                     "SigningAlgorithm": "SHA256WITHRSA",
                                     "Validity": {"Value": 1.5, "Type": "DAYS"}}),
        "issue-huge-validity": (i, {"CertificateAuthorityArn": CA, "Csr": CSR,
                                    "SigningAlgorithm": "SHA256WITHRSA",
                                    "Validity": {"Value": 1e300, "Type": "DAYS"}}),
        "issue-token-too-long": (i, {"CertificateAuthorityArn": CA, "Csr": CSR,
                                     "SigningAlgorithm": "SHA256WITHRSA",
                                     "Validity": {"Value": 1, "Type": "DAYS"},
                                     "IdempotencyToken": "x" * 37}),
        "create-nested": (c, {"CertificateAuthorityConfiguration": {
            "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "x", "CustomAttributes": [{"ObjectIdentifier": "1.2.3",
                                                                 "Value": "v"}]},
            "CsrExtensions": {"KeyUsage": {"DigitalSignature": True},
                              "SubjectInformationAccess": [{"AccessMethod": {
                                  "AccessMethodType": "CA_REPOSITORY"},
                                  "AccessLocation": {"DNSName": "x"}}]}},
            "CertificateAuthorityType": "ROOT",
            "Tags": [{"Key": "k", "Value": "v"}] * 3}),
        "tag-deep": (t, {"CertificateAuthorityArn": CA, "Tags": [[[[[[[[[]]]]]]]]]}),
        "null-members": (t, {"CertificateAuthorityArn": None, "Tags": None}),
        "not-an-object": (t, [1, 2, 3]),
        "string-input": (t, "text"),
        "empty": (OP["ListCertificateAuthorities"], {}),
        "list-max": (OP["ListCertificateAuthorities"], {"MaxResults": 1001, "NextToken": ""}),
    }
    for name, (op, value) in seeds.items():
        write("fuzz_validate", name, bytes([op]) + json.dumps(value).encode())
    write("fuzz_validate", "deep-nesting", bytes([t]) + b"[" * 200 + b"]" * 200)
    write("fuzz_validate", "duplicate-member",
          bytes([OP["DescribeCertificateAuthority"]]) +
          ('{"CertificateAuthorityArn":"%s","CertificateAuthorityArn":"%s"}' % (CA, CA)).encode())
    write("fuzz_validate", "validity-not-before",
          bytes([i]) + json.dumps({"CertificateAuthorityArn": CA, "Csr": CSR,
                                   "SigningAlgorithm": "SHA256WITHRSA",
                                   "Validity": {"Value": 1700000000, "Type": "ABSOLUTE"},
                                   "ValidityNotBefore": {"Value": -1, "Type": "ABSOLUTE"},
                                   "ApiPassthrough": {"Extensions": {"CustomExtensions": [
                                       {"ObjectIdentifier": "1.2.3", "Value": "dmFsdWU=",
                                        "Critical": False}]}}}).encode())
    write("fuzz_validate", "revoke-timestamps",
          bytes([OP["RevokeCertificate"]]) +
          b'{"CertificateAuthorityArn":"' + CA.encode() +
          b'","CertificateSerial":"01:02","RevocationReason":"UNSPECIFIED","X":1e999}')
    write("fuzz_validate", "audit-report",
          bytes([OP["CreateCertificateAuthorityAuditReport"]]) +
          json.dumps({"CertificateAuthorityArn": CA, "S3BucketName": "b" * 64,
                      "AuditReportResponseFormat": "CSV"}).encode())
    write("fuzz_validate", "unicode-keys",
          bytes([t]) + '{"CertificateAuthorityArn":"\\u00e9\\ud83d\\ude00","\\u0000":1}'.encode())


def main(argv):
    model = argv[0] if argv else next((p for p in MODEL_CANDIDATES if os.path.exists(p)), None)
    if model:
        model_seeds(model)
    else:
        print("no service model found: writing the hand-written seeds only", file=sys.stderr)
    response_seeds()
    ini_seeds()
    sign_seeds()
    validate_seeds()
    for target in sorted(os.listdir(CORPUS)):
        print("%s: %d files" % (target, len(os.listdir(os.path.join(CORPUS, target)))))


if __name__ == "__main__":
    main(sys.argv[1:])
