#!/usr/bin/env python3
"""resty.acmpca inside a real nginx (Debian's nginx + its Lua module).

    resty_test.py MODULE_DIR GROUP     (ctest: lua/resty-acmpca/<group>)

Starts the loopback servers the group needs (tests/fixtures/fault_server.py
with its HTTPS port, or moto), then nginx in the foreground with
tests/nginx/resty.conf (one worker, bindings/lua on lua_package_path, the
LuaJIT acmpca.so from MODULE_DIR), and checks through HTTP locations
(tests/nginx/resty_cases.lua) what an OpenResty user would see.

Groups:
  walkthrough  against moto: create a CA, its CSR by waiter, issue, wait, get
               the certificate and its chain, list CAs with the paginator;
               the certificate verifies with openssl
  faults       every row of the fault matrix (tests/c/faults.cmake, checked):
               same outcomes and attempt counts as the C and Lua clients, the
               retry quota drained by 60 calls at once, a connect timeout,
               chunked bodies, rate_limit, keep-alive (off; a pool per host)
  tls          the fault server's HTTPS port: trusted CA -> success (SNI sent),
               no CA or a wrong CA -> an SSLError object; an unverified pooled
               connection is never reused by a verifying client
  nonblocking  20 calls wait 1 s on the backend while /ping on the same
               worker answers in < 50 ms (p99); the blocking module, for
               contrast, holds /ping up
  credentials  IMDSv2, container and web-identity (STS) credentials fetched
               by cosocket from tests/fixtures/metadata_server.py (the worker
               answers /ping meanwhile), cached for the next call, refreshed
               before expiry by one call while the others use the cached ones
  errors       ngx.null as absent at any depth, every option wrong-typed ->
               (nil, err), every operation a method, validation errors as
               (nil, err), waiters and paginators, tostring(err), a call from
               ngx.timer.at, no cosockets in the log phase -> (nil, err)
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, FIXTURES)

CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
DESCRIBE = {"CertificateAuthorityArn": CA_ARN}
CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBfaultcsr\n-----END CERTIFICATE REQUEST-----\n"
ISSUE = {"CertificateAuthorityArn": CA_ARN, "Csr": CSR, "SigningAlgorithm": "SHA256WITHECDSA",
         "Validity": {"Value": 30, "Type": "DAYS"}}
CREDS = {"access_key_id": "AKIDFAULTTEST", "secret_access_key": "fault-test-secret"}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("  FAIL: " + what, flush=True)
    return cond


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=60):
    data = None if body is None else (body if isinstance(body, bytes) else
                                      json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=timeout) as r:
        return r.status, r.read()


def env_directives(extra):
    """nginx `env` lines: the metadata endpoint off and no files, unless `extra` says."""
    env = {"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/nonexistent",
           "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
    env.update(extra or {})
    return "\n".join("env %s=%s;" % kv for kv in sorted(env.items()))


class Nginx:
    def __init__(self, moddir, fault, dns_port, wrong_ca, env=None, workers=1, site=None):
        self.tmp = tempfile.mkdtemp(prefix="acmpca-resty-")
        for d in ("conf", "logs", "tmp"):
            os.makedirs(os.path.join(self.tmp, d))
        self.port = free_port()
        self.tls_port = free_port()
        site = site or {}
        lpath = ";".join([os.path.join(ROOT, "bindings", "lua", "?.lua"),
                          os.path.join(HERE, "?.lua"),
                          "/usr/share/lua/5.1/?.lua", "/usr/share/lua/5.1/?/init.lua"])
        with open(os.path.join(HERE, "resty.conf")) as f:
            conf = f.read()
        for k, v in {"PREFIX": self.tmp, "PORT": str(self.port),
                     "CPATH": os.path.join(moddir, "?.so"), "LPATH": lpath,
                     "FAULT_CA": fault.ca_path, "FAULT_ENDPOINT": fault.endpoint,
                     "WRONG_CA": wrong_ca, "TLS_PORT": str(self.tls_port),
                     "TLS_CERT": site["tls_cert"], "TLS_KEY": site["tls_key"],
                     "MOTO_ENDPOINT": site.get("moto") or "http://127.0.0.1:1",
                     "DNS_PORT": str(dns_port), "ENV": env_directives(env),
                     # Several workers need a master; reuseport spreads connections over them.
                     "MASTER": "on" if workers > 1 else "off", "WORKERS": str(workers),
                     "REUSEPORT": " reuseport" if workers > 1 else ""}.items():
            conf = conf.replace("@%s@" % k, v)
        with open(os.path.join(self.tmp, "conf", "nginx.conf"), "w") as f:
            f.write(conf)
        self.log = os.path.join(self.tmp, "logs", "error.log")
        nginx = os.environ.get("NGINX", "/usr/sbin/nginx")
        self.proc = subprocess.Popen([nginx, "-p", self.tmp, "-c",
                                      os.path.join(self.tmp, "conf", "nginx.conf"),
                                      "-e", self.log])
        self.base = "http://127.0.0.1:%d" % self.port
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited at start:\n" + self.error_log())
            try:
                if http("GET", self.base + "/ping", timeout=2)[1].strip() == b"pong":
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("nginx did not answer /ping")

    def post(self, path, doc, timeout=60):
        status, body = http("POST", self.base + path, doc, timeout=timeout)
        return json.loads(body)

    def error_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, show_log):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if show_log:
            print("---- nginx error log (%s)\n%s" % (self.log, self.error_log()))
        shutil.rmtree(self.tmp, ignore_errors=True)


class Fault:
    """The fault server's control API."""

    def __init__(self, server):
        self.server = server
        self.base = server.endpoint

    def script(self, actions, default=None):
        http("POST", self.base + "/_fault/reset", b"")
        spec = {"actions": actions}
        if default is not None:
            spec["default"] = default
        http("POST", self.base + "/_fault/script", spec)

    def requests(self):
        return json.loads(http("GET", self.base + "/_fault/requests")[1])

    def count(self):
        return len(self.requests()["requests"])

    def issuances(self):
        return json.loads(http("GET", self.base + "/_fault/issuances")[1])["count"]


def established_to(port):
    """How many local TCP connections to 127.0.0.1:port are open (client side)."""
    n = 0
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            remote, state = fields[2], fields[3]
            if state == "01" and remote == "0100007F:%04X" % port:
                n += 1
    return n


def options(endpoint, **extra):
    o = {"region": "us-east-1", "endpoint_url": endpoint, "credentials": CREDS}
    o.update(extra)
    return o


# ---- faults ------------------------------------------------------------------------

def expect_error(ans, code, attempts, retryable, status, row):
    err = ans.get("err") or {}
    print("  %s: %s" % (row, err.get("tostring")), flush=True)
    check(ans.get("ok") is False, row + ": the call failed")
    check(err.get("is_error_object") is True, row + ": err is an acmpca error object")
    check(err.get("code") == code, row + ": code %s, got %s" % (code, err.get("code")))
    check(err.get("attempts") == attempts,
          row + ": attempts %d, got %s" % (attempts, err.get("attempts")))
    check(err.get("retryable") == retryable, row + ": retryable %s" % retryable)
    check(err.get("status") == status, row + ": status %s, got %s" % (status, err.get("status")))
    return err


def expect_ok(ans, retries, row):
    if not ans.get("ok"):
        print("  %s: unexpected error %s" % (row, (ans.get("err") or {}).get("tostring")))
    check(ans.get("ok") is True, row + ": the call succeeded")
    meta = ans.get("meta") or {}
    check(meta.get("retry_attempts") == retries,
          row + ": retry_attempts %d, got %s" % (retries, meta.get("retry_attempts")))
    return ans.get("result") or {}


# The rows of the C fault matrix (tests/c/faults.cmake) that group_faults runs
# under another group or name: every other row has a row of the same name here.
ELSEWHERE = {"tls-self-signed": "tls: tls-no-trusted-ca, tls-wrong-ca"}


def c_fault_rows():
    with open(os.path.join(ROOT, "tests", "c", "faults.cmake")) as f:
        text = f.read()
    return text.split("set(FAULT_ROWS", 1)[1].split(")", 1)[0].split()


def group_faults(ngx, fault, env):
    ep = fault.base
    with open(__file__) as f:
        source = f.read()
    missing = [r for r in c_fault_rows()
               if r not in ELSEWHERE and ('"%s' % r) not in source]
    check(not missing, "every row of the C fault matrix has a row here (missing: %s)" % missing)

    def call(op, params, client=None, **opts):
        doc = {"options": options(ep, **opts), "op": op, "params": params}
        if client:
            doc["client"] = client
        return ngx.post("/call", doc)

    row = "http-500"
    fault.script([{"action": "server_error", "repeat": 3}])
    err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=3),
                       "InternalFailure", 3, True, 500, row)
    check(err.get("class") == "ClientError", row + ": class ClientError")
    check(err.get("operation") == "DescribeCertificateAuthority", row + ": operation")
    check("scripted internal failure" in (err.get("message") or ""), row + ": message")
    check(err.get("request_id") == "fault-req-3", row + ": request id of the last answer")
    check(err.get("tostring", "").endswith("(gave up after 3 attempts)"), row + ": tostring")
    check(fault.count() == 3, row + ": 3 requests received")

    row = "503-then-200"
    fault.script([{"action": "service_unavailable"}, {"action": "ok"}])
    res = expect_ok(call("describe_certificate_authority", DESCRIBE, max_attempts=3), 1, row)
    check(res.get("CertificateAuthority", {}).get("Status") == "ACTIVE", row + ": result")
    check(fault.count() == 2, row + ": 2 requests received")

    row = "throttling-then-200"
    fault.script([{"action": "throttle", "repeat": 2}, {"action": "ok"}])
    res = expect_ok(call("get_certificate", {"CertificateAuthorityArn": CA_ARN,
                                             "CertificateArn": CA_ARN + "/certificate/abc"},
                         max_attempts=3), 2, row)
    check("BEGIN CERTIFICATE" in res.get("Certificate", ""), row + ": the certificate")
    check(fault.count() == 3, row + ": 3 requests received")

    for mode in ("standard", "adaptive"):
        row = "limit-exceeded (%s)" % mode
        fault.script([{"action": "limit_exceeded"}, {"action": "ok"}])
        err = expect_error(call("issue_certificate", ISSUE, max_attempts=5, retry_mode=mode),
                           "LimitExceededException", 1, False, 400, row)
        check("scripted quota reached" in (err.get("message") or ""), row + ": message")
        check(err.get("request_id") == "fault-req-1", row + ": request id")
        check(fault.count() == 1, row + ": 1 request received")

    row = "connection-refused"
    ans = ngx.post("/call", {"options": options(env["ACMPCA_TEST_FAULT_REFUSED_ENDPOINT"],
                                                max_attempts=3),
                             "op": "describe_certificate_authority", "params": DESCRIBE})
    err = expect_error(ans, "EndpointConnectionError", 3, True, None, row)
    check("could not connect" in (err.get("message") or ""), row + ": message")

    row = "connect-timeout"
    # A port whose accept queue is full (listen(0) and fillers): SYNs go unanswered, so
    # connect neither succeeds nor is refused (tests/c/test_connections.c's trick).
    with socket.socket() as stalled:
        stalled.bind(("127.0.0.1", 0))
        stalled.listen(0)
        fillers = []
        for _ in range(3):
            f = socket.socket()
            f.setblocking(False)
            f.connect_ex(stalled.getsockname())
            fillers.append(f)
        time.sleep(0.1)
        stalled_ep = "http://127.0.0.1:%d" % stalled.getsockname()[1]
        try:
            for opts in ({"connect_timeout": 0.2}, {"timeout": 0.2}):
                ans = ngx.post("/call", {"options": options(stalled_ep, max_attempts=2, **opts),
                                         "op": "describe_certificate_authority",
                                         "params": DESCRIBE})
                what = "%s (%s)" % (row, ", ".join(opts))
                err = expect_error(ans, "ConnectTimeoutError", 2, True, None, what)
                check("connect timeout" in (err.get("message") or ""), what + ": message")
                check(ans.get("elapsed", 0) < 2.5, what + ": bounded by the connect timeout "
                      "(%.2f s)" % ans.get("elapsed", 0))
        finally:
            for f in fillers:
                f.close()

    row = "reset-before-any-byte"
    fault.script([{"action": "reset_before", "repeat": 2}])
    expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=2),
                 "ConnectionClosedError", 2, True, None, row)
    check(fault.count() == 2, row + ": 2 requests received")
    fault.script([{"action": "reset_before"}, {"action": "ok"}])
    expect_ok(call("describe_certificate_authority", DESCRIBE, max_attempts=2), 1, row)

    row = "reset-mid-body"
    fault.script([{"action": "reset_mid_body", "repeat": 2}])
    expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=2),
                 "ConnectionClosedError", 2, True, 200, row)
    check(fault.count() == 2, row + ": 2 requests received")
    fault.script([{"action": "reset_mid_body"}, {"action": "ok"}])
    expect_ok(call("describe_certificate_authority", DESCRIBE, max_attempts=2), 1, row)

    row = "stall"
    fault.script([{"action": "stall", "seconds": 20, "repeat": 2}])
    err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=2,
                            read_timeout=0.3), "ReadTimeoutError", 2, True, None, row)
    check("read timeout" in (err.get("message") or ""), row + ": message")
    check(fault.count() == 2, row + ": 2 requests received")
    fault.script([{"action": "stall", "seconds": 20, "after_headers": True, "repeat": 2}])
    expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=2,
                      read_timeout=0.3), "ReadTimeoutError", 2, True, 200, row + " after head")

    row = "slow-trickle"
    fault.script([{"action": "trickle", "chunk": 8, "interval_ms": 100}])
    ans = call("describe_certificate_authority", DESCRIBE, max_attempts=1, read_timeout=0.5)
    res = expect_ok(ans, 0, row)
    check(ans.get("elapsed", 0) > 1.0, row + ": longer than the read timeout in total")
    check(res.get("CertificateAuthority", {}).get("Arn") == CA_ARN, row + ": result")

    row = "slow-trickle-chunked"
    # Head, chunk-size lines and data a byte a read: every CR ends a read.
    fault.script([{"action": "trickle", "chunk": 1, "interval_ms": 2, "headers_too": True,
                   "chunked": True}])
    res = expect_ok(call("describe_certificate_authority", DESCRIBE, max_attempts=1), 0, row)
    check(res.get("CertificateAuthority", {}).get("Arn") == CA_ARN, row + ": result")

    row = "slow-trickle-head"
    fault.script([{"action": "trickle", "chunk": 16, "interval_ms": 100, "headers_too": True}])
    ans = call("describe_certificate_authority", DESCRIBE, max_attempts=1, read_timeout=1)
    res = expect_ok(ans, 0, row)
    check(ans.get("elapsed", 0) > 1.5, row + ": the head trickled too")
    check(res.get("CertificateAuthority", {}).get("Arn") == CA_ARN, row + ": result")

    for row, action in (("truncated-json", "truncated_json"), ("invalid-json", "invalid_json")):
        fault.script([{"action": action}, {"action": "ok"}])
        err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=3),
                           "ResponseParserError", 1, False, 200, row)
        check("not valid JSON" in (err.get("message") or ""), row + ": message")
        check(fault.count() == 1, row + ": 1 request received")

    row = "html-502"
    fault.script([{"action": "html_502", "repeat": 2}])
    err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=2),
                       "502", 2, True, 502, row)
    check("502 Bad Gateway" in (err.get("message") or ""), row + ": excerpt in the message")
    check(fault.count() == 2, row + ": 2 requests received")

    row = "body-over-cap"
    for chunked in (False, True):
        fault.script([{"action": "big_body", "size": 4096, "chunked": chunked},
                      {"action": "ok"}])
        err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=3,
                                max_response_bytes=1024),
                           "ResponseParserError", 1, False, 200,
                           row + (" (chunked)" if chunked else ""))
        check("1024-byte limit" in (err.get("message") or ""), row + ": message")
        check(fault.count() == 1, row + ": 1 request received")
    fault.script([{"action": "big_body", "size": 1000, "chunked": True}])
    expect_ok(call("describe_certificate_authority", DESCRIBE, max_response_bytes=1024), 0,
              row + " (under the cap, chunked)")

    row = "chunked"
    # A body of three chunks (the server writes 4096-byte chunks), then the next request
    # on the same connection: the terminating chunk was read exactly.
    fault.script([{"action": "big_body", "size": 10000, "chunked": True, "keep_alive": True},
                  {"action": "ok", "keep_alive": True}])
    for _ in range(2):
        expect_ok(call("describe_certificate_authority", DESCRIBE, client="chunked"), 0, row)
    peers = {r["peer_port"] for r in fault.requests()["requests"]}
    check(fault.count() == 2 and len(peers) == 1,
          row + ": the connection carried the next request (%r)" % peers)
    fault.script([{"action": "respond", "status": 400, "chunked": True,
                   "body": {"__type": "ResourceNotFoundException", "message": "chunked no"}}])
    err = expect_error(call("describe_certificate_authority", DESCRIBE), "ResourceNotFoundException",
                       1, False, 400, row + " (an error answer)")
    check(err.get("message") == "chunked no", row + ": the error's message")

    row = "wrong-content-length"
    fault.script([{"action": "wrong_length", "extra": 100, "repeat": 2}])
    expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=2),
                 "ConnectionClosedError", 2, True, 200, row)
    check(fault.count() == 2, row + ": 2 requests received")

    row = "header-over-limit"
    fault.script([{"action": "big_header", "size": 204800}, {"action": "ok"}])
    err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=3),
                       "ResponseParserError", 1, False, 200, row)
    check("over the 102400-byte limit" in (err.get("message") or ""), row + ": message")
    fault.script([{"action": "big_header", "size": 60000}])
    expect_ok(call("describe_certificate_authority", DESCRIBE), 0, row + " (under the limit)")

    row = "error-type-header-only"
    fault.script([{"action": "header_only_error", "code": "ResourceNotFoundException",
                   "message": "no such CA"}, {"action": "ok"}])
    err = expect_error(call("describe_certificate_authority", DESCRIBE, max_attempts=3),
                       "ResourceNotFoundException", 1, False, 400, row)
    check(err.get("message") == "no such CA", row + ": message")

    row = "skewed-date"
    fault.script([{"action": "skew", "offset_s": 3600, "code": "RequestTimeTooSkewed"},
                  {"action": "ok"}])
    expect_ok(call("describe_certificate_authority", DESCRIBE, client="skew", max_attempts=3),
              1, row)
    reqs = fault.requests()["requests"]
    check(len(reqs) == 2, row + ": 2 requests received")
    fault.script([{"action": "ok"}])
    expect_ok(call("describe_certificate_authority", DESCRIBE, client="skew"), 0,
              row + " (the next call starts from the server's time)")
    sent = fault.requests()["requests"][0]["headers"]["x-amz-date"]
    t = time.mktime(time.strptime(sent, "%Y%m%dT%H%M%SZ")) - time.mktime(time.gmtime())
    check(abs(t - 3600) <= 60, row + ": signed with the server's clock (%+d s)" % t)

    row = "never-issue-twice"
    fault.script([{"action": "issue_then_drop", "repeat": 2}, {"action": "ok"}])
    expect_ok(call("issue_certificate", ISSUE, max_attempts=3), 2, row)
    reqs = fault.requests()["requests"]
    tokens = {(r.get("body") or {}).get("IdempotencyToken") for r in reqs}
    check(len(reqs) == 3 and len(tokens) == 1 and None not in tokens,
          row + ": one IdempotencyToken on all 3 attempts")
    check(fault.issuances() == 1, row + ": issued once")

    row = "request-certificate-one-flow"
    # The core's request_certificate machine on cosockets: the CA's own algorithm, one
    # token for the retried issuance, the waiter's polls, one certificate.
    described = {"action": "ok", "body": {"CertificateAuthority": {
        "CertificateAuthorityConfiguration": {"SigningAlgorithm": "SHA384WITHECDSA"}}}}
    fault.script([described, {"action": "issue_then_drop"}, {"action": "ok"},
                  {"action": "error", "code": "RequestInProgressException"}, {"action": "ok"}])
    ans = ngx.post("/call", {"options": options(ep, max_attempts=3),
                             "request_certificate": CA_ARN,
                             "request_options": {"common_name": "flow.resty.test",
                                                 "wait_delay": 0.01}})
    check(ans.get("ok") is True,
          row + ": it succeeded: %s" % (ans.get("err") or {}).get("tostring"))
    res = ans.get("result") or {}
    reqs = fault.requests()["requests"]
    check([r["operation"] for r in reqs] == ["DescribeCertificateAuthority", "IssueCertificate",
                                             "IssueCertificate", "GetCertificate",
                                             "GetCertificate"], row + ": the calls, in order")
    issues = [r.get("body") or {} for r in reqs if r["operation"] == "IssueCertificate"]
    check(all(b.get("SigningAlgorithm") == "SHA384WITHECDSA" for b in issues),
          row + ": the CA's own signing algorithm")
    check(len({b.get("IdempotencyToken") for b in issues}) == 1 and
          issues[0].get("IdempotencyToken"), row + ": one IdempotencyToken on both attempts")
    check(fault.issuances() == 1, row + ": issued once")
    check(res.get("CertificateArn") == (reqs[3].get("body") or {}).get("CertificateArn") and
          "BEGIN PRIVATE KEY" in (res.get("PrivateKey") or "") and
          "BEGIN CERTIFICATE REQUEST" in (res.get("Csr") or "") and
          "BEGIN CERTIFICATE" in (res.get("Certificate") or ""), row + ": the result")
    fault.script([{"action": "error", "code": "AccessDeniedException"}])
    ans = ngx.post("/call", {"options": options(ep), "request_certificate": CA_ARN,
                             "request_options": {"common_name": "flow.resty.test"}})
    err = expect_error(ans, "AccessDeniedException", 1, False, 400, row + " (describe refused)")
    check(err.get("operation") == "DescribeCertificateAuthority" and fault.count() == 1,
          row + ": DescribeCertificateAuthority's error, nothing issued")
    fault.script([])
    ans = ngx.post("/call", {"options": options(ep), "request_certificate": CA_ARN,
                             "request_options": {"common_name": "flow.resty.test",
                                                 "template_arn": "bad"}})
    err = ans.get("err") or {}
    check(err.get("code") == "ParamValidationError" and "TemplateArn" in
          (err.get("message") or "") and fault.count() == 0,
          row + ": a bad template ARN is refused before any request: %s" % err.get("tostring"))

    row = "retry-quota"
    # 60 failing calls at once on one client drain its retry quota (500 tokens, 5 a
    # retry): 50 are retried, the others fail on their first attempt. In nginx the
    # calls of one worker run at once, as the C row's threads do.
    fault.script([{"action": "reset_before", "repeat": 200}])
    quota = [None] * 60
    threads = [threading.Thread(target=lambda i=i: quota.__setitem__(i, call(
        "describe_certificate_authority", DESCRIBE, client="quota", max_attempts=2)))
        for i in range(60)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    errs = [(q or {}).get("err") or {} for q in quota]
    attempts = [e.get("attempts") for e in errs]
    print("  %s: %d calls, %s attempts, %d retried" % (row, len(quota), sum(a or 0 for a in attempts),
                                                        attempts.count(2)))
    check(all(e.get("code") == "ConnectionClosedError" for e in errs), row + ": every call failed")
    check(attempts.count(2) == 50 and attempts.count(1) == 10,
          row + ": 50 calls retried, 10 not (%r)" % attempts)
    check(fault.count() == 110, row + ": 110 requests received (%d)" % fault.count())
    fault.script([{"action": "server_error"}, {"action": "ok"}])
    expect_error(call("describe_certificate_authority", DESCRIBE, client="quota"),
                 "InternalFailure", 1, True, 500, row + " (drained)")
    check(fault.count() == 1, row + " (drained): a retryable 500 is not retried")
    fault.script([])
    for _ in range(5):
        expect_ok(call("describe_certificate_authority", DESCRIBE, client="quota"), 0,
                  row + " (refill)")
    fault.script([{"action": "server_error"}, {"action": "ok"}])
    expect_ok(call("describe_certificate_authority", DESCRIBE, client="quota"), 1,
              row + ": five successes pay for one retry")

    row = "total-timeout-slow-answer"
    fault.script([{"action": "ok", "delay_ms": 2000, "repeat": 3}])
    ans = call("describe_certificate_authority", DESCRIBE, max_attempts=3, read_timeout=10,
               total_timeout=0.5)
    err = expect_error(ans, "ReadTimeoutError", 1, True, None, row)
    check("total_timeout_ms" in (err.get("message") or ""), row + ": message")
    check(0.45 <= ans.get("elapsed", 0) < 1.5, row + ": gave up after %.2f s" % ans["elapsed"])
    check(fault.count() == 1, row + ": 1 request received")

    row = "total-timeout-slow-handshake"
    fault.script([])
    ans = ngx.post("/call", {"options": options("https://" + ep[len("http://"):],
                                                max_attempts=3, connect_timeout=10,
                                                read_timeout=10, total_timeout=0.5),
                             "op": "describe_certificate_authority", "params": DESCRIBE})
    err = expect_error(ans, "ReadTimeoutError", 1, True, None, row)
    check("total_timeout_ms" in (err.get("message") or ""), row + ": message")
    check(0.45 <= ans.get("elapsed", 0) < 1.5, row + ": gave up after %.2f s" % ans["elapsed"])
    check(fault.count() == 0, row + ": no request received")

    row = "total-timeout-stops-retries"
    fault.script([{"action": "throttle", "repeat": 10}])
    ans = call("describe_certificate_authority", DESCRIBE, max_attempts=10, total_timeout=2)
    err = ans.get("err") or {}
    print("  %s: %s in %.2f s" % (row, err.get("tostring"), ans.get("elapsed", 0)))
    check(err.get("code") in ("ThrottlingException", "ReadTimeoutError"), row + ": code")
    check(1 <= (err.get("attempts") or 0) < 10, row + ": fewer attempts than max_attempts")
    check(fault.count() == err.get("attempts"), row + ": requests received = attempts")
    check(ans.get("elapsed", 99) < 3.5, row + ": ended by the deadline")

    row = "rate-limit"
    # rate_limit = { list_tags = 4 }: five calls at once on one client reach the server
    # spaced by the limiter's sleeps (four intervals of 250 ms: ngx.sleep, as the worker
    # serves the other requests meanwhile); other operations are not paced.
    fault.script([], default={"action": "ok"})
    for op, params, spaced in (("list_tags", {"CertificateAuthorityArn": CA_ARN}, True),
                               ("describe_certificate_authority", DESCRIBE, False)):
        fault.script([], default={"action": "ok"})
        paced = [None] * 5
        threads = [threading.Thread(target=lambda i=i: paced.__setitem__(i, call(
            op, params, client="paced", rate_limit={"list_tags": 4}))) for i in range(5)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        check(all(p and p.get("ok") for p in paced), row + ": %s: all five succeeded" % op)
        arrived = sorted(r["mono"] for r in fault.requests()["requests"])
        span = arrived[-1] - arrived[0] if len(arrived) == 5 else 0
        print("  %s: %s: 5 requests over %.2f s" % (row, op, span))
        if spaced:
            check(span >= 0.85, row + ": list_tags paced to 4/s (%.2f s for 5)" % span)
        else:  # printed for contrast; only a lower bound is asserted
            check(len(arrived) == 5, row + ": describe_certificate_authority: 5 requests")

    row = "keep-alive"
    fault.script([], default={"action": "echo", "keep_alive": True})
    for i in range(3):
        res = expect_ok(call("get_certificate", {"CertificateAuthorityArn": CA_ARN,
                                                 "CertificateArn": CA_ARN + "/certificate/%d" % i},
                             client="keepalive"), 0, row)
        check(res.get("Certificate") == CA_ARN + "/certificate/%d" % i,
              row + ": the answer to this request")
    check(fault.count() == 3, row + ": 3 requests")
    peers = {r["peer_port"] for r in fault.requests()["requests"]}
    check(len(peers) == 1, row + ": on one connection (%r)" % peers)
    # One connection carried them and waits in nginx's pool for the next.
    port = int(ep.rsplit(":", 1)[1])
    check(established_to(port) == 1,
          row + ": one open connection to the server (%d)" % established_to(port))

    row = "keep-alive-stale"
    # The pooled connection dies under the next request: sent again on a fresh
    # one, as curl does, without costing an attempt.
    fault.script([{"action": "drop"}, {"action": "ok", "keep_alive": True}])
    ans = call("describe_certificate_authority", DESCRIBE, client="keepalive")
    expect_ok(ans, 0, row)
    check(fault.count() == 2, row + ": the request went out again on a new connection")

    row = "keep-alive-extra-bytes"
    # Bytes past the body that Content-Length frames (here a second, smuggled
    # answer): the call takes the framed body and the connection is closed, never
    # pooled for the next request with the surplus unaccounted for.
    fault.script([], default={"action": "echo", "keep_alive": True})
    expect_ok(call("get_certificate", {"CertificateAuthorityArn": CA_ARN,
                                       "CertificateArn": CA_ARN + "/certificate/0"},
                   client="keepalive"), 0, row + " (a pooled connection first)")
    check(established_to(port) == 1, row + ": one pooled connection before")
    framed = json.dumps({"Certificate": "framed", "CertificateChain": "framed"})
    smuggled = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    fault.script([{"action": "respond", "body": framed + smuggled, "keep_alive": True,
                   "headers": {"Content-Length": len(framed)}}])
    res = expect_ok(call("get_certificate", {"CertificateAuthorityArn": CA_ARN,
                                             "CertificateArn": CA_ARN + "/certificate/1"},
                         client="keepalive"), 0, row)
    check(res.get("Certificate") == "framed", row + ": the body Content-Length frames")
    check(established_to(port) == 0,
          row + ": the connection was closed, not pooled (%d open)" % established_to(port))

    row = "keep-alive-off"
    # keepalive = false: a connection per request, closed after it (Connection: close).
    fault.script([], default={"action": "echo", "keep_alive": True})
    for i in range(2):
        expect_ok(call("get_certificate", {"CertificateAuthorityArn": CA_ARN,
                                           "CertificateArn": CA_ARN + "/certificate/%d" % i},
                       client="no-keepalive", keepalive=False), 0, row)
    reqs = fault.requests()["requests"]
    check([r["headers"].get("connection") for r in reqs] == ["close", "close"],
          row + ": Connection: close sent (%r)" % [r["headers"].get("connection") for r in reqs])
    peers = {r["peer_port"] for r in reqs}
    check(len(peers) == 2, row + ": each request on its own connection (%r)" % peers)

    row = "keep-alive-pool-per-host"
    # Two clients, two servers, calls alternating: nginx's connection pools belong to the
    # worker, and each pooled connection goes back to its own host's pool, so every
    # request reaches the server it was addressed to.
    import fault_server
    other = fault_server.serve_in_thread("127.0.0.1", free_port())
    try:
        second = Fault(other)
        fault.script([], default={"action": "echo", "keep_alive": True})
        second.script([], default={"action": "echo", "keep_alive": True})
        for i in range(6):
            target = (ep, second.base)[i % 2]
            arn = CA_ARN + "/certificate/%d" % i
            res = expect_ok(ngx.post("/call", {"options": options(target),
                                               "client": "host-%d" % (i % 2),
                                               "op": "get_certificate",
                                               "params": {"CertificateAuthorityArn": CA_ARN,
                                                          "CertificateArn": arn}}), 0, row)
            check(res.get("Certificate") == arn, row + ": the answer to this request")
        mine = [r["body"]["CertificateArn"][-1] for r in fault.requests()["requests"]]
        theirs = [r["body"]["CertificateArn"][-1] for r in second.requests()["requests"]]
        check(mine == ["0", "2", "4"] and theirs == ["1", "3", "5"],
              row + ": each server got its own requests (%r, %r)" % (mine, theirs))
        for base in (ep, second.base):
            port = int(base.rsplit(":", 1)[1])
            check(established_to(port) == 1,
                  row + ": one pooled connection to %s (%d)" % (base, established_to(port)))
    finally:
        other.shutdown()
    fault.script([], default={"action": "ok"})


# ---- tls ---------------------------------------------------------------------------

def group_tls(ngx, fault, env):
    # By name, as a real endpoint: the certificate names localhost (nginx's
    # host check reads DNS names only, never IP addresses).
    tls_ip = env["ACMPCA_TEST_FAULT_TLS_ENDPOINT"]
    tls = tls_ip.replace("https://127.0.0.1:", "https://localhost:")
    doc = {"options": options(tls, max_attempts=3), "op": "describe_certificate_authority",
           "params": DESCRIBE}

    row = "tls-trusted-ca"
    fault.script([])
    res = expect_ok(ngx.post("/call-trusted", doc), 0, row)
    check(res.get("CertificateAuthority", {}).get("Arn") == CA_ARN, row + ": result")
    check(fault.count() == 1, row + ": 1 request received over TLS")
    sni = [r.get("sni") for r in fault.requests()["requests"]]
    check(sni == ["localhost"], row + ": the endpoint's host name sent as SNI (%r)" % sni)

    for row, path, endpoint, why in (
            ("tls-no-trusted-ca", "/call", tls, "self-signed certificate"),
            ("tls-wrong-ca", "/call-wrong-ca", tls, "self-signed certificate"),
            ("tls-name-mismatch", "/call-trusted", tls_ip, "host mismatch")):
        fault.script([])
        err = expect_error(ngx.post(path, dict(doc, options=options(endpoint, max_attempts=3))),
                           "SSLError", 1, False, None, row)
        check("TLS error" in (err.get("message") or ""), row + ": message")
        check(endpoint in (err.get("message") or ""), row + ": the endpoint in the message")
        check(why in (err.get("message") or ""), row + ": says " + why)
        check(fault.count() == 0, row + ": no request was sent")

    row = "tls-verify-off"
    fault.script([])
    expect_ok(ngx.post("/call", dict(doc, options=options(tls, ssl_verify=False))), 0, row)
    check(fault.count() == 1, row + ": sent")

    row = "tls-unverified-connection-not-reused"
    # A connection kept alive by a client that does not verify sits in nginx's pool:
    # a verifying client to the same host must not get it (it handshakes, and fails).
    fault.script([], default={"action": "ok", "keep_alive": True})
    expect_ok(ngx.post("/call", dict(doc, options=options(tls, ssl_verify=False))), 0, row)
    port = int(tls.rsplit(":", 1)[1])
    check(established_to(port) == 1, row + ": the unverified connection is pooled")
    err = expect_error(ngx.post("/call", doc), "SSLError", 1, False, None, row)
    check("self-signed certificate" in (err.get("message") or ""), row + ": refused by name")
    check(fault.count() == 1, row + ": the verifying call sent nothing")
    fault.script([], default={"action": "ok"})


# ---- nonblocking -------------------------------------------------------------------

def ping_latencies(base, count, gap):
    """Latencies (s) of `count` GET /ping on one keep-alive connection."""
    out = []
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=10) as s:
        f = s.makefile("rb")
        for _ in range(count):
            t0 = time.monotonic()
            s.sendall(b"GET /ping HTTP/1.1\r\nHost: t\r\n\r\n")
            length = 0
            while True:
                line = f.readline()
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                if line in (b"\r\n", b""):
                    break
            f.read(length) if length else None
            # A chunked "pong": read to the terminating chunk.
            if not length:
                while f.readline() not in (b"0\r\n", b""):
                    pass
                f.readline()
            out.append(time.monotonic() - t0)
            time.sleep(gap)
    return out


def group_nonblocking(ngx, fault, env):
    row = "nonblocking"
    fault.script([], default={"action": "ok", "delay_ms": 1000})
    results = [None] * 20

    def one(i):
        results[i] = ngx.post("/call", {"options": options(fault.base, max_attempts=1,
                                                           read_timeout=10),
                                        "client": "shared", "op": "describe_certificate_authority",
                                        "params": DESCRIBE})

    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    time.sleep(0.15)
    lat = ping_latencies(ngx.base, 40, 0.01)
    # The pings ran while the backend held every call (it logs a request before its delay).
    inflight = fault.count()
    unanswered = sum(r is None for r in results)
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    lat.sort()
    p99 = lat[int(len(lat) * 0.99) - 1] if len(lat) > 1 else lat[0]
    print("  20 calls in %.2f s; /ping p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (took, lat[len(lat) // 2] * 1e3, p99 * 1e3, lat[-1] * 1e3))
    check(inflight == 20 and unanswered == 20,
          row + ": /ping measured while the 20 calls waited (%d sent, %d unanswered)"
          % (inflight, unanswered))
    check(all(r and r.get("ok") for r in results), row + ": every call succeeded")
    check(fault.count() == 20, row + ": 20 requests reached the backend")
    check(took < 3.5, row + ": the 20 calls ran concurrently (%.2f s)" % took)
    check(p99 < 0.050, row + ": /ping p99 %.1f ms < 50 ms" % (p99 * 1e3))

    # The blocking module in the same place holds the whole worker: /ping waits.
    row = "blocking-module-contrast"
    fault.script([], default={"action": "ok", "delay_ms": 1000})
    box = {}
    th = threading.Thread(target=lambda: box.setdefault(
        "ans", ngx.post("/blocking", {"options": options(fault.base, max_attempts=1),
                                      "op": "describe_certificate_authority",
                                      "params": DESCRIBE})))
    th.start()
    time.sleep(0.2)
    held = ping_latencies(ngx.base, 1, 0)[0]
    th.join()
    print("  /ping during one blocking call: %.0f ms" % (held * 1e3))
    check(box.get("ans", {}).get("ok") is True, row + ": the blocking call succeeded")
    check(held > 0.5, row + ": the blocking module held /ping (%.0f ms)" % (held * 1e3))
    fault.script([], default={"action": "ok"})

    # ... and says so once per worker, pointing to resty.acmpca.
    row = "blocking-module-warns-once"
    ans = ngx.post("/blocking", {"options": options(fault.base), "op": "list_tags",
                                 "params": {"CertificateAuthorityArn": CA_ARN}})
    check(ans.get("ok") is True, row + ": a second blocking call")
    warnings = [l for l in ngx.error_log().splitlines() if "a blocking call in the" in l]
    check(len(warnings) == 1 and "[warn]" in warnings[0] and "content phase" in warnings[0]
          and 'require "resty.acmpca"' in warnings[0], row + ": one warning (%r)" % warnings)


# ---- errors ------------------------------------------------------------------------

def group_errors(ngx, fault, env):
    ep = fault.base

    row = "ngx-null-is-absent"
    # /null decodes the posted JSON with ngx.null for null, as cjson does: null at any
    # depth of the parameters, the options and the waiter/paginator/request options.
    arn_cert = {"CertificateAuthorityArn": CA_ARN, "CertificateArn": CA_ARN + "/certificate/a"}
    for name, doc, sent in (
            ("top level", {"op": "list_certificate_authorities",
                           "params": {"NextToken": None, "MaxResults": None,
                                      "ResourceOwner": None}}, {}),
            ("the parameters", {"op": "list_certificate_authorities", "params": None}, {}),
            ("nested tables", {"op": "issue_certificate", "params": dict(
                ISSUE, TemplateArn=None, ApiPassthrough={
                    "Extensions": None, "Subject": {"CommonName": "x", "Country": None}})},
             dict({k: v for k, v in ISSUE.items() if k != "Csr"},
                  ApiPassthrough={"Subject": {"CommonName": "x"}})),
            ("a member in a list", {"op": "tag_certificate_authority", "params": {
                "CertificateAuthorityArn": CA_ARN, "Tags": [{"Key": "k", "Value": None}]}},
             {"CertificateAuthorityArn": CA_ARN, "Tags": [{"Key": "k"}]}),
            ("list elements", {"op": "tag_certificate_authority", "params": {
                "CertificateAuthorityArn": CA_ARN,
                "Tags": [None, {"Key": "a"}, None, {"Key": "b"}, None]}},
             {"CertificateAuthorityArn": CA_ARN, "Tags": [{"Key": "a"}, {"Key": "b"}]}),
            ("the options", {"op": "list_certificate_authorities", "params": {},
                             "options": dict(options(ep), timeout=None, ssl_verify=None,
                                             keepalive=None, keepalive_pool=None,
                                             shared_dict=None, profile=None, rate_limit=None,
                                             proxy=None, ca_bundle=None, credentials=dict(
                                                 CREDS, session_token=None))}, {}),
            ("waiter options", {"wait": "certificate_issued", "params": arn_cert,
                                "wait_options": {"delay": None, "max_attempts": None}},
             arn_cert),
            ("paginator options", {"paginate": "list_certificate_authorities",
                                   "params": {"MaxResults": None},
                                   "paginate_options": {"page_size": None, "max_items": None,
                                                        "starting_token": None}}, {})):
        fault.script([], default={"action": "ok"})
        doc.setdefault("options", options(ep))
        ans = ngx.post("/null", doc)
        reqs = fault.requests()["requests"]
        body = reqs[0]["body"] if reqs else None
        if isinstance(body, dict):  # made by the client / a blob sent as base64
            body.pop("IdempotencyToken", None)
            body.pop("Csr", None)
        if not ans.get("ok") or body != sent:
            print("  %s (%s): %s, sent %r" % (row, name, (ans.get("err") or {}).get("tostring"),
                                               body))
        check(ans.get("ok") is True, "%s: null in %s is accepted" % (row, name))
        check(body == sent, "%s: null in %s is not sent" % (row, name))

    # request_certificate's options: a null SAN is absent, the others reach the CSR.
    fault.script([{"action": "ok"}], default={"action": "ok"})
    ans = ngx.post("/null", {"options": options(ep), "request_certificate": CA_ARN,
                             "request_options": {"common_name": "null.resty.test",
                                                 "dns_names": [None, "a.resty.test", None,
                                                               "b.resty.test"],
                                                 "signing_algorithm": "SHA256WITHECDSA",
                                                 "csr": None, "key_type": None,
                                                 "template_arn": None, "wait_delay": 0.01}})
    check(ans.get("ok") is True, row + ": null in request_certificate's options is accepted "
          "(%s)" % (ans.get("err") or {}).get("tostring"))
    issued = [r for r in fault.requests()["requests"] if r["operation"] == "IssueCertificate"]
    csr = ""
    if issued:
        import base64
        csr = base64.b64decode(issued[0]["body"]["Csr"]).decode()
    sans = openssl("req", "-noout", "-text", stdin=csr).stdout
    check("DNS:a.resty.test, DNS:b.resty.test" in sans,
          row + ": the CSR names the non-null DNS names only (%r)"
          % [l.strip() for l in sans.splitlines() if "DNS:" in l])

    row = "validation-error-returned"
    fault.script([])
    ans = ngx.post("/call", {"options": options(ep), "op": "issue_certificate",
                             "params": {"CertificateAuthorityArn": CA_ARN,
                                        "Validity": {"Value": "soon"}}})
    err = expect_error(ans, "ParamValidationError", 0, False, None, row)
    check("Validity.Value" in (err.get("message") or ""), row + ": the path in the message")
    check(fault.count() == 0, row + ": nothing sent")

    row = "bad-option-returned"
    ans = ngx.post("/call", {"options": options(ep, keepalive_pool="many"), "op": "list_tags",
                             "params": {}})
    check(ans.get("stage") == "new" and (ans.get("err") or {}).get("code") ==
          "ParamValidationError", row + ": acmpca.new returns nil, err")
    ans = ngx.post("/call", {"options": options(ep, ca_bundle="/etc/ssl/x.pem"),
                             "op": "list_tags", "params": {}})
    check("lua_ssl_trusted_certificate" in ((ans.get("err") or {}).get("message") or ""),
          row + ": ca_bundle points to lua_ssl_trusted_certificate")
    ans = ngx.post("/call", {"options": options(ep, proxy="http://127.0.0.1:1"),
                             "op": "list_tags", "params": {}})
    check(ans.get("stage") == "new" and "config.proxy: not supported by resty.acmpca" in
          ((ans.get("err") or {}).get("message") or ""), row + ": proxy refused, not ignored")
    # Every option of the blocking module and of resty.acmpca, wrong-typed: acmpca.new
    # returns nil and an error object naming it (never raises, never ignores it).
    for key, value, named in (
            ("region", 5, "config.region"), ("endpoint_url", 5, "config.endpoint_url"),
            ("profile", True, "config.profile"), ("credentials", "x", "config.credentials"),
            ("credentials", {"access_key_id": 1, "secret_access_key": "s"},
             "config.credentials.access_key_id"),
            ("credentials", {"access_key_id": "a"}, "config.credentials.secret_access_key"),
            ("connect_timeout", "1", "config.connect_timeout"),
            ("read_timeout", -1, "config.read_timeout"),
            ("total_timeout", "1", "config.total_timeout"),
            ("max_attempts", "3", "config.max_attempts"), ("max_attempts", 0, "max_attempts"),
            ("retry_mode", 1, "config.retry_mode"), ("retry_mode", "eager", "retry_mode"),
            ("verify_tls", "yes", "config.verify_tls"), ("use_fips", "yes", "config.use_fips"),
            ("use_dualstack", 1, "config.use_dualstack"),
            ("user_agent_suffix", {"a": 1}, "config.user_agent_suffix"),
            ("rate_limit", "fast", "config.rate_limit"),
            ("rate_limit", {"no_such_op": 1}, "config.rate_limit"),
            ("max_response_bytes", "big", "config.max_response_bytes"),
            ("idempotency_tokens", "no", "config.idempotency_tokens"),
            ("timeout", "5", "config.timeout"), ("timeout", 0, "config.timeout"),
            ("ssl_verify", "yes", "config.ssl_verify"), ("keepalive", 1, "config.keepalive"),
            ("keepalive_timeout", "60", "config.keepalive_timeout"),
            ("keepalive_pool", 0, "config.keepalive_pool"),
            ("shared_dict", 5, "config.shared_dict"),
            ("shared_dict_key", "k", "config.shared_dict_key"),
            ("regoin", "us-east-1", "config.regoin: unknown option")):
        ans = ngx.post("/call", {"options": dict(options(ep), **{key: value}), "op": "list_tags",
                                 "params": {"CertificateAuthorityArn": CA_ARN}})
        err = ans.get("err") or {}
        check(ans.get("stage") == "new" and err.get("is_error_object") is True and
              err.get("code") in ("ParamValidationError", "InvalidConfigError") and
              named in (err.get("message") or ""),
              row + ": %s = %r -> nil, err naming %s (%s)" % (key, value, named,
                                                               err.get("tostring")))
    # An unknown option's message lists resty.acmpca's own options too.
    check("keepalive_pool" in (err.get("message") or ""),
          row + ": the unknown option's message lists resty.acmpca's options")
    check(fault.count() == 0, row + ": nothing sent")
    # ... and every one of them, well-typed, is accepted and used.
    fault.script([], default={"action": "ok"})
    ans = ngx.post("/call", {"options": dict(
        options(ep), connect_timeout=2, read_timeout=2, total_timeout=10, max_attempts=2,
        retry_mode="adaptive", verify_tls=True, use_fips=False, use_dualstack=False,
        user_agent_suffix="matrix/1", rate_limit={"list_tags": 100},
        max_response_bytes=65536, idempotency_tokens=True, timeout=3, ssl_verify=True,
        keepalive=True, keepalive_timeout=30, keepalive_pool=4, shared_dict="acmpca_creds",
        shared_dict_key="matrix"), "op": "list_tags",
        "params": {"CertificateAuthorityArn": CA_ARN}})
    check(ans.get("ok") is True, row + ": every option at once is accepted (%s)"
          % (ans.get("err") or {}).get("tostring"))
    agent = (fault.requests()["requests"] or [{}])[-1].get("headers", {}).get("user-agent", "")
    check(agent.endswith(" resty matrix/1"), row + ": user_agent_suffix sent (%r)" % agent)
    fault.script([])

    row = "every-operation-a-method"
    fault.script([])
    ans = ngx.post("/methods", {"options": options(ep)})
    methods = ans.get("methods") or {}
    check(ans.get("count") == 23 and len(methods) == 23 and not ans.get("missing"),
          row + ": the 23 operations of the blocking client are methods (missing: %s)"
          % ans.get("missing"))
    check(all(code == "ParamValidationError" for code in methods.values()),
          row + ": each returns nil, err for a bad parameter, never raises (%r)"
          % {k: v for k, v in methods.items() if v != "ParamValidationError"})
    check(fault.count() == 0, row + ": nothing sent")

    row = "waiter-and-paginator"
    fault.script([{"action": "error", "code": "RequestInProgressException"},
                  {"action": "ok", "body": {"Certificate": "x", "CertificateChain": "y"}}])
    ans = ngx.post("/call", {"options": options(ep), "wait": "certificate_issued",
                             "params": {"CertificateAuthorityArn": CA_ARN,
                                        "CertificateArn": CA_ARN + "/certificate/a"},
                             "wait_options": {"delay": 0.05, "max_attempts": 3}})
    check(ans.get("ok") is True, row + ": the waiter succeeded on its second poll")
    check(fault.count() == 2, row + ": 2 polls")
    fault.script([{"action": "error", "code": "RequestInProgressException", "repeat": 2}])
    ans = ngx.post("/call", {"options": options(ep), "wait": "certificate_issued",
                             "params": {"CertificateAuthorityArn": CA_ARN,
                                        "CertificateArn": CA_ARN + "/certificate/a"},
                             "wait_options": {"delay": 0.05, "max_attempts": 2}})
    err = ans.get("err") or {}
    check(err.get("code") == "WaiterError" and err.get("waiter_state") == "max_attempts",
          row + ": the waiter gave up with a WaiterError object (%s)" % err.get("tostring"))
    fault.script([{"action": "ok", "body": {"CertificateAuthorities": [{"Arn": "a"}],
                                            "NextToken": "t1"}},
                  {"action": "ok", "body": {"CertificateAuthorities": [{"Arn": "b"}]}}])
    ans = ngx.post("/call", {"options": options(ep), "paginate": "list_certificate_authorities",
                             "params": {}})
    pages = ans.get("result") or []
    check([p["CertificateAuthorities"][0]["Arn"] for p in pages] == ["a", "b"],
          row + ": two pages")
    second = fault.requests()["requests"][1]["body"]
    check(second.get("NextToken") == "t1", row + ": the second page asked with the token")
    fault.script([{"action": "ok", "body": {"CertificateAuthorities": [{"Arn": "a"}],
                                            "NextToken": "t1"}},
                  {"action": "limit_exceeded"}])
    ans = ngx.post("/call", {"options": options(ep), "paginate": "list_certificate_authorities",
                             "params": {}})
    check((ans.get("err") or {}).get("code") == "LimitExceededException",
          row + ": a failed page ends the loop with (false, err)")

    row = "error-object-tostring"
    fault.script([{"action": "error", "code": "InvalidArnException", "message": "arn:bad"}])
    ans = ngx.post("/call", {"options": options(ep), "op": "describe_certificate_authority",
                             "params": {"CertificateAuthorityArn": "arn:bad"}})
    err = expect_error(ans, "InvalidArnException", 1, False, 400, row)
    check(err.get("tostring") == "InvalidArnException: arn:bad", row + ": tostring(err)")

    row = "ipv6-literal"
    with socket.socket(socket.AF_INET6) as v6:
        v6.bind(("::1", 0))
        v6.listen(8)
        v6.settimeout(10)
        port = v6.getsockname()[1]
        box = {}

        def serve():
            try:
                conn, _ = v6.accept()
            except OSError:
                return
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                box["request"] = data
                body = b'{"Tags":[{"Key":"k","Value":"v6"}]}'
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%s" % (len(body), body))

        th = threading.Thread(target=serve, daemon=True)
        th.start()
        ans = ngx.post("/call", {"options": options("http://[::1]:%d" % port, max_attempts=1),
                                 "op": "list_tags", "params": {"CertificateAuthorityArn": CA_ARN}})
        th.join(5)
    check(ans.get("ok") is True and ans["result"]["Tags"][0]["Value"] == "v6",
          row + ": a call to http://[::1]:port (%s)" % (ans.get("err") or {}).get("tostring"))

    row = "readme-example"
    fault.script([], default={"action": "echo"})
    status, body = http("GET", ngx.base + "/cert?ca=%s&cert=%s/certificate/readme"
                        % (CA_ARN, CA_ARN))
    check(status == 200 and body.decode() == CA_ARN + "/certificate/readme",
          row + ": the client made in init_worker answers in content (%r)" % body[:80])
    fault.script([], default={"action": "ok"})

    row = "timer-phase-call"
    fault.script([], default={"action": "echo"})
    status, body = http("GET", ngx.base + "/timer?key=t1&cert=%s/certificate/timer" % CA_ARN)
    check(body.strip() == b"scheduled", row + ": the timer was scheduled (%r)" % body)
    result = b""
    for _ in range(100):
        result = http("GET", ngx.base + "/result?key=t1")[1].strip()
        if result:
            break
        time.sleep(0.05)
    check(result.decode() == CA_ARN + "/certificate/timer",
          row + ": the call in ngx.timer.at answered (%r)" % result[:80])
    check(fault.count() == 1, row + ": one request")
    fault.script([], default={"action": "ok"})

    row = "no-cosockets-in-log-phase"
    http("GET", ngx.base + "/log-phase")
    time.sleep(0.2)
    log = ngx.error_log()
    check("log phase call: GeneralError: resty.acmpca: no cosockets in the log phase" in log,
          row + ": (nil, err) naming the phase, not a crash")


# ---- credentials -------------------------------------------------------------------

def call_with_pings(ngx, doc, window):
    """POST /call in a thread while /ping is measured for about `window` s."""
    box = {}
    th = threading.Thread(target=lambda: box.setdefault("ans", ngx.post("/call", doc)))
    th.start()
    time.sleep(0.05)
    lat = ping_latencies(ngx.base, max(1, int(window / 0.02)), 0.01)
    th.join()
    return box.get("ans") or {}, sorted(lat)


def group_credentials(make_nginx, fault, env):
    import metadata_server
    mport = free_port()
    meta = metadata_server.serve_in_thread("127.0.0.1", mport)
    tmp = tempfile.mkdtemp(prefix="acmpca-resty-cred-")
    base = "http://127.0.0.1:%d" % mport

    def stats(kind_spec):
        return json.loads(http("GET", base + "/_stats/" + kind_spec)[1])

    def signed_with(prefix, row):
        req = fault.requests()["requests"][-1]["headers"]
        check(("Credential=%s1/" % prefix) in req.get("authorization", ""),
              row + ": signed with the fetched key (%s)" % req.get("authorization", "")[:60])
        check((req.get("x-amz-security-token") or "").startswith("TOKEN%s1" % prefix),
              row + ": session token")

    try:
        row = "imds-by-cosocket"
        spec = "resty-imds,delay=300"
        ngx = make_nginx({"AWS_EC2_METADATA_DISABLED": "false",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds/" + spec})
        fault.script([], default={"action": "ok"})
        doc = {"options": {"region": "us-east-1", "endpoint_url": fault.base},
               "client": "imds", "op": "describe_certificate_authority", "params": DESCRIBE}
        # Three metadata requests of 300 ms each: the worker keeps answering /ping.
        ans, lat = call_with_pings(ngx, doc, 0.7)
        if not ans.get("ok"):
            print("  %s: %s" % (row, (ans.get("err") or {}).get("tostring")))
        check(ans.get("ok") is True, row + ": the call succeeded with IMDSv2 credentials")
        check(ans.get("elapsed", 0) >= 0.85, row + ": after the metadata exchanges (%.2f s)"
              % ans.get("elapsed", 0))
        signed_with("ASIAIMDS", row)
        st = stats("imds/" + spec)
        check(st["token_calls"] == 1 and st["calls"] == 1,
              row + ": one token and one credentials request (%r)" % st)
        p99 = lat[int(len(lat) * 0.99) - 1] if len(lat) > 1 else lat[0]
        print("  /ping while IMDS answered: p99 %.1f ms of %d" % (p99 * 1e3, len(lat)))
        check(p99 < 0.050, row + ": /ping p99 %.1f ms < 50 ms during the fetch" % (p99 * 1e3))
        ans = ngx.post("/call", doc)
        check(ans.get("ok") is True and ans.get("elapsed", 1) < 0.25,
              row + ": the next call uses the cached credentials")
        check(stats("imds/" + spec)["calls"] == 1, row + ": no second fetch")

        row = "concurrent-calls-share-one-fetch"
        # Five calls at once on a new client (cold credentials): one IMDS exchange.
        burst = [None] * 5
        threads = [threading.Thread(target=lambda i=i: burst.__setitem__(
            i, ngx.post("/call", dict(doc, client="imds-burst")))) for i in range(5)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        check(all(b and b.get("ok") for b in burst), row + ": all five succeeded")
        st = stats("imds/" + spec)
        check(st["token_calls"] == 2 and st["calls"] == 2,
              row + ": one more token and credentials request, not five (%r)" % st)

        row = "refresh-before-expiry"
        # Credentials 800 s from expiry are due for a refresh (under 900 s left) but still
        # good (over 600 s): of five calls at once, one fetches new ones while the other
        # four sign with the cached ones instead of waiting.
        spec = "resty-refresh,ttl=800,delay=300"
        ngx = make_nginx({"AWS_EC2_METADATA_DISABLED": "false",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds/" + spec})
        fault.script([], default={"action": "ok"})
        ans = ngx.post("/call", dict(doc, client="refresh"))
        check(ans.get("ok") is True, row + ": the first call fetched (%s)" % ans.get("err"))
        fault.script([], default={"action": "ok"})
        burst = [None] * 5
        threads = [threading.Thread(target=lambda i=i: burst.__setitem__(
            i, ngx.post("/call", dict(doc, client="refresh")))) for i in range(5)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        check(all(b and b.get("ok") for b in burst), row + ": all five succeeded")
        keys = sorted(r["headers"].get("authorization", "").split("Credential=")[1].split("/")[0]
                      for r in fault.requests()["requests"])
        check(keys == ["ASIAIMDS1"] * 4 + ["ASIAIMDS2"],
              row + ": four calls signed with the cached key, one with the new (%r)" % keys)
        check(stats("imds/" + spec)["calls"] == 2, row + ": one refresh (%r)" % stats("imds/" + spec))

        row = "killed-call-hands-its-fetch-over"
        # A call killed while it fetches the credentials (its machine is left to the GC):
        # the next call on that client takes the fetch over once its lease runs out.
        spec = "resty-killed,delay=300"
        ngx = make_nginx({"AWS_EC2_METADATA_DISABLED": "false",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds/" + spec})
        fault.script([], default={"action": "ok"})
        ans = ngx.post("/call", dict(doc, client="killed", abandon_after=0.1))
        check(ans.get("ok") is True, row + ": the next call succeeded (%s)" % ans.get("err"))
        st = stats("imds/" + spec)
        check(st["calls"] == 1, row + ": the credentials were fetched once (%r)" % st)

        row = "shared-dict-across-workers"
        # Two workers, one lua_shared_dict: the worker that did not fetch uses what the
        # other one fetched (the kernel picks the worker of each new connection).
        spec = "resty-shared"
        ngx = make_nginx({"AWS_EC2_METADATA_DISABLED": "false",
                          "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/imds/" + spec},
                         workers=2)
        fault.script([], default={"action": "ok"})
        shared = dict(doc, client="shared", options=dict(doc["options"],
                                                         shared_dict="acmpca_creds"))
        first = ngx.post("/call", shared)
        check(first.get("ok") is True, row + ": the first call succeeded (%s)" % first.get("err"))
        check(stats("imds/" + spec)["calls"] == 1, row + ": the first call fetched")
        other = None
        for _ in range(200):
            ans = ngx.post("/call", shared)
            if ans.get("worker") != first.get("worker"):
                other = ans
                break
        check(other is not None, row + ": a call reached the other worker")
        if other:
            check(other.get("ok") is True, row + ": the other worker's call succeeded")
            signed_with("ASIAIMDS", row)
            check(stats("imds/" + spec)["calls"] == 1,
                  row + ": with the shared credentials, no second fetch (%r)"
                  % stats("imds/" + spec))
        ngx.post("/call", dict(doc, client="private"))
        check(stats("imds/" + spec)["calls"] == 2,
              row + ": a client without shared_dict fetches its own (%r)" % stats("imds/" + spec))
        bad = ngx.post("/call", dict(doc, client="bad-dict", options=dict(
            doc["options"], shared_dict="no_such_dict")))
        check((bad.get("err") or {}).get("code") == "ParamValidationError" and
              "config.shared_dict" in (bad.get("err") or {}).get("message", ""),
              row + ": an unknown dict is refused by name: %s" % bad.get("err"))

        row = "container-by-cosocket"
        spec = "resty-container,auth=pod-token"
        ngx = make_nginx({"AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/container/" + spec +
                          "/v1/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN": "pod-token"})
        fault.script([], default={"action": "ok"})
        ans = ngx.post("/call", dict(doc, client="container"))
        if not ans.get("ok"):
            print("  %s: %s" % (row, (ans.get("err") or {}).get("tostring")))
        check(ans.get("ok") is True, row + ": the call succeeded with container credentials")
        signed_with("ASIACONTAINER", row)
        st = stats("container/" + spec)
        check(st["calls"] == 1, row + ": one credentials request")
        check((st.get("last") or {}).get("headers", {}).get("authorization") == "pod-token",
              row + ": with the pod's authorization token")

        row = "web-identity-by-cosocket"
        spec = "resty-web-identity"
        token_file = os.path.join(tmp, "web-identity-token")
        with open(token_file, "w") as f:
            f.write("eyJ.resty.token")
        ngx = make_nginx({"AWS_WEB_IDENTITY_TOKEN_FILE": token_file,
                          "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/resty",
                          "AWS_ROLE_SESSION_NAME": "resty-pod",
                          "AWS_ENDPOINT_URL_STS": base + "/sts/" + spec})
        fault.script([], default={"action": "ok"})
        ans = ngx.post("/call", dict(doc, client="web-identity"))
        if not ans.get("ok"):
            print("  %s: %s" % (row, (ans.get("err") or {}).get("tostring")))
        check(ans.get("ok") is True, row + ": the call succeeded with STS credentials")
        signed_with("ASIASTS", row)
        params = ((stats("sts/" + spec).get("last") or {}).get("params") or {})
        check(params.get("Action") == "AssumeRoleWithWebIdentity" and
              params.get("WebIdentityToken") == "eyJ.resty.token",
              row + ": AssumeRoleWithWebIdentity with the token (%r)" % params.get("Action"))

        row = "sso-by-cosocket"
        # An sso_session profile: the cached token from ~/.aws/sso/cache (named by the
        # SHA-1 of the session name), GetRoleCredentials from the portal on loopback.
        spec = "resty-sso"
        config = os.path.join(tmp, "config")
        with open(config, "w") as f:
            f.write("[profile sso]\nsso_session = my-sso\nsso_account_id = 123456789012\n"
                    "sso_role_name = ReadOnly\n[sso-session my-sso]\n"
                    "sso_start_url = https://example.awsapps.com/start\nsso_region = eu-west-1\n")
        cache = os.path.join(tmp, "home", ".aws", "sso", "cache")
        os.makedirs(cache)
        with open(os.path.join(cache, "0ad374308c5a4e22f723adf10145eafad7c4031c.json"), "w") as f:
            json.dump({"startUrl": "https://example.awsapps.com/start", "region": "eu-west-1",
                       "accessToken": "sso-access-token", "expiresAt": "2099-01-01T00:00:00Z"}, f)
        ngx = make_nginx({"HOME": os.path.join(tmp, "home"), "AWS_CONFIG_FILE": config,
                          "AWS_ENDPOINT_URL_SSO": base + "/sso/" + spec})
        fault.script([], default={"action": "ok"})
        sso_doc = dict(doc, client="sso", options=dict(doc["options"], profile="sso"))
        ans = ngx.post("/call", sso_doc)
        if not ans.get("ok"):
            print("  %s: %s" % (row, (ans.get("err") or {}).get("tostring")))
        check(ans.get("ok") is True, row + ": the call succeeded with SSO credentials")
        req = fault.requests()["requests"][-1]["headers"]
        check("Credential=ASIASSO-123456789012-ReadOnly-1/" in req.get("authorization", ""),
              row + ": signed with the role's key (%s)" % req.get("authorization", "")[:70])
        st = stats("sso/" + spec)
        check(st["calls"] == 1, row + ": one GetRoleCredentials")
        agent = ((st.get("last") or {}).get("headers") or {}).get("user-agent", "")
        check(agent.endswith(" resty"), row + ": fetched over a cosocket (User-Agent %r)" % agent)
    finally:
        meta.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)


# ---- walkthrough -------------------------------------------------------------------

def openssl(*args, stdin=None):
    return subprocess.run(["openssl"] + list(args), input=stdin, capture_output=True, text=True)


def group_walkthrough(ngx, endpoint):
    walkthrough(ngx, "walkthrough", "/flow", endpoint)
    # The same flow over TLS: nginx's own HTTPS listener (a test certificate for
    # localhost) proxies to moto; /flow-tls trusts that certificate's CA through
    # lua_ssl_trusted_certificate, /flow-tls-wrong-ca an unrelated one. The wrong CA
    # goes first: nginx's connection pools belong to the worker, not to a location,
    # so a connection /flow-tls verified would be reused by any location (README).
    tls = "https://localhost:%d" % ngx.tls_port
    err = walkthrough(ngx, "walkthrough-tls-wrong-ca", "/flow-tls-wrong-ca", tls,
                      expect_ok=False)
    check(err.get("code") == "SSLError" and err.get("is_error_object") is True and
          "self-signed certificate" in (err.get("message") or ""),
          "walkthrough-tls-wrong-ca: the first call fails with an SSLError object (%s)"
          % err.get("tostring"))
    walkthrough(ngx, "walkthrough-tls", "/flow-tls", tls)


def walkthrough(ngx, row, path, endpoint, expect_ok=True):
    tmp = tempfile.mkdtemp(prefix="acmpca-resty-wt-")
    try:
        cn = "resty.example.test"
        key, csr = os.path.join(tmp, "leaf.key"), os.path.join(tmp, "leaf.csr")
        r = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + cn,
                    "-addext", "subjectAltName=DNS:" + cn)
        assert r.returncode == 0, r.stderr
        with open(csr) as f:
            csr_pem = f.read()
        ans = ngx.post(path, {"options": {"region": "us-east-1", "endpoint_url": endpoint,
                                          "credentials": {"access_key_id": "testing",
                                                          "secret_access_key": "testing"}},
                              "csr": csr_pem}, timeout=120)
        if not expect_ok:
            print("  %s: %s at %s" % (row, (ans.get("err") or {}).get("tostring"), ans.get("step")))
            check(ans.get("ok") is False and ans.get("step") == "create_certificate_authority",
                  row + ": the flow stops at its first call")
            return ans.get("err") or {}
        if not ans.get("ok"):
            print("  %s failed at %s: %s" % (row, ans.get("step"),
                                             (ans.get("err") or {}).get("tostring")))
        check(ans.get("ok") is True, row + ": the flow succeeded")
        if not ans.get("ok"):
            return
        leaf, chain = os.path.join(tmp, "leaf.pem"), os.path.join(tmp, "chain.pem")
        with open(leaf, "w") as f:
            f.write(ans["certificate"])
        with open(chain, "w") as f:
            f.write(ans["chain"])
        subject = openssl("x509", "-noout", "-subject", "-in", leaf).stdout
        print("  issued: " + subject.strip())
        check(cn in subject, row + ": the certificate is for the CSR's name")
        check("resty.acmpca Test Root" in openssl("x509", "-noout", "-subject", "-in",
                                                  chain).stdout, row + ": the chain is the root")
        v = openssl("verify", "-CAfile", chain, leaf)
        check(v.returncode == 0, row + ": openssl verifies it: " + (v.stdout + v.stderr).strip())
        pub_cert = openssl("x509", "-noout", "-pubkey", "-in", leaf).stdout
        pub_key = openssl("pkey", "-pubout", "-in", key).stdout
        check(pub_cert == pub_key, row + ": the certificate carries the CSR's key")
        check(ans.get("found") is True and ans.get("listed", 0) >= 1,
              row + ": the paginator listed the new CA (%s CAs)" % ans.get("listed"))
        made = ans["made"]
        for name in ("cert", "chain", "key"):
            with open(os.path.join(tmp, "made." + name), "w") as f:
                f.write(made["certificate" if name == "cert" else name])
        made_cert = os.path.join(tmp, "made.cert")
        check("made.resty.example.test" in openssl("x509", "-noout", "-subject", "-in",
                                                   made_cert).stdout,
              row + ": request_certificate: the certificate has the asked name")
        check(openssl("verify", "-CAfile", os.path.join(tmp, "made.chain"),
                      made_cert).returncode == 0, row + ": request_certificate: it verifies")
        check(openssl("x509", "-noout", "-pubkey", "-in", made_cert).stdout ==
              openssl("pkey", "-pubout", "-in", os.path.join(tmp, "made.key")).stdout,
              row + ": request_certificate: the certificate is for the key it made")
        bad = ans.get("bad_option") or {}
        check(bad.get("code") == "ParamValidationError" and "options.colour" in
              (bad.get("message") or ""), row + ": request_certificate: an unknown option is "
              "an err naming it: %s" % bad)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---- main --------------------------------------------------------------------------

def main(argv):
    if len(argv) != 2 or argv[1] not in ("walkthrough", "faults", "tls", "nonblocking",
                                         "errors", "credentials"):
        sys.exit(__doc__)
    moddir, group = os.path.abspath(argv[0]), argv[1]
    if not os.path.exists(os.path.join(moddir, "acmpca.so")):
        sys.exit("resty_test.py: no %s/acmpca.so (build first)" % moddir)
    tmp = tempfile.mkdtemp(prefix="acmpca-resty-ca-")
    wrong_ca = os.path.join(tmp, "wrong-ca.pem")
    r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1/O=not the fault server",
                "-addext", "subjectAltName=IP:127.0.0.1", "-keyout",
                os.path.join(tmp, "wrong.key"), "-out", wrong_ca)
    assert r.returncode == 0, r.stderr
    # nginx's own HTTPS listener (the walkthrough over TLS): a certificate for localhost.
    site = {"tls_cert": os.path.join(tmp, "localhost.pem"),
            "tls_key": os.path.join(tmp, "localhost.key")}
    r = openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", "/CN=localhost/O=resty.acmpca test",
                "-addext", "subjectAltName=DNS:localhost", "-keyout", site["tls_key"],
                "-out", site["tls_cert"])
    assert r.returncode == 0, r.stderr
    stops = []
    started = []
    finished = False
    try:
        import dns_server
        import fault_server
        dns = dns_server.serve_in_thread({"localhost": "127.0.0.1"})
        stops.append(dns.shutdown)
        server = fault_server.serve_in_thread("127.0.0.1", free_port(), tls_port=free_port())
        stops.append(server.shutdown)
        env = server.test_env()
        moto_endpoint = None
        if group == "walkthrough":
            import local_moto
            port = free_port()
            moto = local_moto.start(port)
            stops.append(moto.stop)
            moto_endpoint = "http://127.0.0.1:%d" % port
            site["moto"] = moto_endpoint

        def make_nginx(extra_env=None, workers=1):
            n = Nginx(moddir, server, dns.port, wrong_ca, extra_env, workers, site)
            started.append(n)
            return n

        print("== resty.acmpca in nginx: %s" % group, flush=True)
        if group == "walkthrough":
            group_walkthrough(make_nginx(), moto_endpoint)
        elif group == "credentials":
            group_credentials(make_nginx, Fault(server), env)
        else:
            globals()["group_" + group](make_nginx(), Fault(server), env)
        for n in started:
            log = n.error_log()
            for bad in ("[alert]", "[crit]", "[emerg]", "lua entry thread aborted"):
                check(bad not in log, "no %s in the nginx log" % bad)
        finished = True
    finally:
        for n in started:
            n.stop(show_log=bool(failures) or not finished)
        for stop in reversed(stops):
            stop()
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("resty.acmpca %s: ok" % group)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
