"""Hostile values at the binding's edge (security review): numbers bound for C integers
and doubles are range-checked before the conversion and refused with an error naming the
argument and the accepted range; text with CR, LF or NUL never reaches a header or gets
cut short at the NUL on its way to C."""
import datetime
import subprocess
import sys

import pytest

import acmpca
from conftest import CREDS, FAKE_CA_ARN, REGION, make_client

CA = FAKE_CA_ARN % "hostile"
HUGE = [1e30, -1e30, float("nan"), float("inf"), float("-inf"), 10 ** 30, -(10 ** 30),
        10 ** 400, 10 ** 5000]


def ident(v):
    """A test id for any value (repr of 10 ** 5000 is refused past Python's digit limit)."""
    if isinstance(v, int) and v.bit_length() > 256:
        return "%sint%dbits" % ("-" if v < 0 else "", v.bit_length())
    return repr(v)


def sign(**kwargs):
    args = dict(method="POST", url="https://acm-pca.us-east-1.amazonaws.com/", headers={},
                body=b"{}", region="us-east-1", service="acm-pca", access_key="AKID",
                secret_key="secret")
    args.update(kwargs)
    return acmpca.sign_request(**args)


# ---- numbers -------------------------------------------------------------------------

@pytest.mark.parametrize("ts", HUGE + [-1, 0, 0.5, "1e400", "-5e300", datetime.datetime(1, 1, 1)],
                         ids=ident)
def test_sign__timestamp_out_of_range_is_refused(ts):
    with pytest.raises(acmpca.ParamValidationError,
                       match=r"^timestamp: expected a time from 1970 to 9999 \(seconds since "
                             r"the epoch from 1 to 253402300799\), got ") as info:
        sign(timestamp=ts)
    assert info.value.message == str(info.value)


def test_sign__timestamp_bounds_are_accepted():
    assert sign(timestamp=1)["X-Amz-Date"] == "19700101T000001Z"
    assert sign(timestamp=253402300799)["X-Amz-Date"] == "99991231T235959Z"
    assert sign(timestamp=253402300799.5)["X-Amz-Date"] == "99991231T235959Z"


TIMEOUTS = ["connect_timeout", "read_timeout", "total_timeout"]


@pytest.mark.parametrize("name", TIMEOUTS)
@pytest.mark.parametrize("value", HUGE + [0, -1, 2e9], ids=ident)
def test_config__timeout_past_a_long_is_refused(scripted, name, value):
    # Seconds become a C long of milliseconds: the binding refuses what would not fit.
    for how in ("keyword", "config"):
        kwargs = {name: value} if how == "keyword" else {"config": acmpca.Config(**{name: value})}
        with pytest.raises(acmpca.InvalidConfigError,
                           match=r"^%s: expected a number of seconds greater than 0 and at "
                                 r"most 1000000000, got " % name):
            make_client(scripted.endpoint, **kwargs)


@pytest.mark.parametrize("name", TIMEOUTS)
def test_config__timeout_past_the_core_limit_names_the_python_setting(scripted, name):
    # Within a long, past the C library's own limit: its error, with the Python name.
    with pytest.raises(acmpca.InvalidConfigError, match=r"^%s: expected " % name) as info:
        make_client(scripted.endpoint, **{name: 1e8})
    assert "_ms" not in str(info.value) and "options." not in str(info.value)


@pytest.mark.parametrize("name", TIMEOUTS)
def test_config__timeout_in_range_is_accepted(scripted, name):
    for value in (0.001, 1, 2.5, 3600):
        make_client(scripted.endpoint, **{name: value}).close()
    with pytest.raises(acmpca.InvalidConfigError, match="^%s: expected a number" % name):
        make_client(scripted.endpoint, **{name: "10"})
    with pytest.raises(acmpca.InvalidConfigError, match="^%s: expected a number" % name):
        make_client(scripted.endpoint, **{name: True})


@pytest.mark.parametrize("key,lo,hi", [("max_attempts", 0, 2 ** 31 - 2),
                                       ("total_max_attempts", 1, 2 ** 31 - 1)])
@pytest.mark.parametrize("value", [10 ** 30, -(10 ** 30), 10 ** 5000, -1, 2 ** 31, 1.5],
                         ids=ident)
def test_config__retry_attempts_past_an_int_are_refused(scripted, key, lo, hi, value):
    with pytest.raises(acmpca.InvalidConfigError,
                       match=r"^retries\['%s'\]: expected an int from %d to %d, got "
                             % (key, lo, hi)):
        make_client(scripted.endpoint, retries={key: value})


def test_config__retry_attempts_past_the_core_limit_name_the_python_setting(scripted):
    make_client(scripted.endpoint, retries={"max_attempts": 0}).close()
    make_client(scripted.endpoint, retries={"total_max_attempts": 5}).close()
    with pytest.raises(acmpca.InvalidConfigError, match=r"from 1 to \d+, got 0$"):
        make_client(scripted.endpoint, retries={"total_max_attempts": 0})
    for retries in ({"total_max_attempts": 2 ** 31 - 1}, {"max_attempts": 2 ** 31 - 2}):
        with pytest.raises(acmpca.InvalidConfigError, match=r"^retries") as info:
            make_client(scripted.endpoint, retries=retries)
        assert "options." not in str(info.value)


@pytest.mark.parametrize("value", [10 ** 30, 10 ** 5000, 0, -1, 2 ** 31, 2.0], ids=ident)
def test_config__pool_size_past_an_int_is_refused(scripted, value):
    with pytest.raises(acmpca.InvalidConfigError,
                       match=r"^max_pool_connections: expected an int from 1 to 2147483647, "
                             r"got "):
        make_client(scripted.endpoint, max_pool_connections=value)
    with pytest.raises(acmpca.InvalidConfigError, match=r"^max_pool_connections: ") as info:
        make_client(scripted.endpoint, max_pool_connections=2 ** 31 - 1)
    assert "options." not in str(info.value)


@pytest.mark.parametrize("value", [10 ** 30, -(10 ** 30), 0, -1, 1.0], ids=ident)
def test_config__max_response_bytes_out_of_range_is_refused(scripted, value):
    with pytest.raises(acmpca.InvalidConfigError,
                       match=r"^max_response_bytes: expected an int from 1 to \d+, got "):
        make_client(scripted.endpoint, max_response_bytes=value)


@pytest.mark.parametrize("value", HUGE + [-1, 1e-300, 0.0009, 1000001], ids=ident)
def test_config__rate_limit_out_of_range_is_refused(scripted, value):
    with pytest.raises(acmpca.InvalidConfigError,
                       match=r"^rate_limit\['ListTags'\]: expected (requests per second from 0 "
                             r"to 1000000|0 \(no limit\) or from 0.001 to 1000000 requests per "
                             r"second), got "):
        make_client(scripted.endpoint, rate_limit={"ListTags": value})


def test_config__rate_limit_bounds_are_accepted(scripted):
    make_client(scripted.endpoint, rate_limit={"ListTags": 0, "GetCertificate": 0.001,
                                               "IssueCertificate": 1000000}).close()


@pytest.mark.parametrize("value", HUGE + [-1, 3601], ids=ident)
def test_waiter__delay_out_of_range_is_refused(scripted_client, value):
    w = scripted_client.get_waiter("certificate_issued")
    with pytest.raises(acmpca.ParamValidationError,
                       match=r"^WaiterConfig.Delay: expected a number of seconds from 0 to "
                             r"3600, got "):
        w.wait(CertificateAuthorityArn=CA, CertificateArn=CA, WaiterConfig={"Delay": value})


@pytest.mark.parametrize("value", [10 ** 30, 10 ** 5000, 2 ** 31, 0, -1, 1.0], ids=ident)
def test_waiter__max_attempts_out_of_range_is_refused(scripted_client, value):
    w = scripted_client.get_waiter("certificate_issued")
    with pytest.raises(acmpca.ParamValidationError,
                       match=r"^WaiterConfig.MaxAttempts: expected an int from 1 to 2147483647, "
                             r"got "):
        w.wait(CertificateAuthorityArn=CA, CertificateArn=CA,
               WaiterConfig={"MaxAttempts": value})


@pytest.mark.parametrize("key", ["MaxItems", "PageSize"])
@pytest.mark.parametrize("value", [10 ** 30, 10 ** 5000, 2 ** 31, 0, -1, 1.0], ids=ident)
def test_paginator__sizes_out_of_range_are_refused(scripted_client, key, value):
    p = scripted_client.get_paginator("list_tags")
    with pytest.raises(acmpca.ParamValidationError,
                       match=r"^PaginationConfig.%s: expected an int from 1 to 2147483647, got "
                             % key):
        p.paginate(CertificateAuthorityArn=CA, PaginationConfig={key: value})


@pytest.mark.parametrize("name,value,expected", [
    ("validity_days", 10 ** 30, r"an int from 1 to 36500"),
    ("validity_days", 0, r"an int from 1 to 36500"),
    ("wait_delay", float("inf"), r"a number of seconds greater than 0 and at most 3600"),
    ("wait_delay", 1e30, r"a number of seconds greater than 0 and at most 3600"),
    ("wait_delay", float("nan"), r"a number of seconds greater than 0 and at most 3600"),
    ("wait_delay", 10 ** 400, r"a number of seconds greater than 0 and at most 3600"),
    ("wait_delay", 0, r"a number of seconds greater than 0 and at most 3600"),
    ("wait_max_attempts", 10 ** 30, r"an int from 1 to 100000"),
    ("wait_max_attempts", -(10 ** 30), r"an int from 1 to 100000"),
])
def test_request_certificate__numbers_out_of_range_are_refused(scripted, name, value,
                                                               expected):
    with make_client(scripted.endpoint) as c:
        before = scripted.count
        with pytest.raises(acmpca.ParamValidationError, match="^%s: expected %s, got "
                                                              % (name, expected)):
            c.request_certificate(CA, common_name="x", **{name: value})
        assert scripted.count == before  # refused before any I/O


def test_operation__huge_integer_member_is_refused(scripted_client):
    for value in (10 ** 30, 10 ** 400, -(10 ** 400)):
        with pytest.raises(acmpca.ParamValidationError, match=r"^Validity\.Value: "):
            scripted_client.issue_certificate(CertificateAuthorityArn=CA, Csr="x",
                                              SigningAlgorithm="SHA256WITHRSA",
                                              Validity={"Value": value, "Type": "DAYS"})


# ---- text: CR, LF and NUL ---------------------------------------------------------------

@pytest.mark.parametrize("ua", ["x\r\nX-Injected: 1", "x\nX-Injected: 1", "x\rY", "x\x00y"])
def test_config__user_agent_extra_with_line_breaks_is_refused(scripted, ua):
    for kwargs in ({"user_agent_extra": ua}, {"config": acmpca.Config(user_agent_extra=ua)}):
        with pytest.raises((acmpca.InvalidConfigError, acmpca.ParamValidationError),
                           match="^user_agent_extra: ") as info:
            make_client(scripted.endpoint, **kwargs)
        assert "user_agent_suffix" not in str(info.value)
    assert not any("x-injected" in r["headers"] for r in scripted.requests)


@pytest.mark.parametrize("headers,named", [
    ({"X-A": "v\r\nX-Injected: 1"}, "'X-A'"),
    ({"X-A": "v\nX-Injected: 1"}, "'X-A'"),
    ({"X-A": "v\rx"}, "'X-A'"),
    ({"X-A": "v\x00x"}, "'X-A'"),
    ([("X-A", "v\r\nX-Injected: 1")], "'X-A'"),
    ({"X-A\r\nX-Injected": "1"}, r"'X-A\\r\\nX-Injected'"),
    ({"X-A\x00": "1"}, r"'X-A\\x00'"),
])
def test_sign__header_with_line_break_or_nul_is_refused(headers, named):
    with pytest.raises(acmpca.ParamValidationError, match=r"^headers.*%s.*CR, LF or NUL"
                                                          % named):
        sign(headers=headers)
    sign(headers={"X-A": "v\tx"})  # a tab is fine in a header value


@pytest.mark.parametrize("kwargs,named", [
    ({"method": "PO\x00ST"}, "method"),
    ({"url": "https://h/\x00"}, "url"),
    ({"region": "us\x00"}, "region"),
    ({"service": "acm\x00"}, "service"),
    ({"access_key": "AK\x00"}, "access_key"),
    ({"secret_key": "s\x00"}, "secret_key"),
    ({"session_token": "t\x00"}, "session_token"),
])
def test_sign__nul_in_any_text_argument_is_refused(kwargs, named):
    with pytest.raises(acmpca.ParamValidationError, match="^%s: contains a NUL" % named):
        sign(**kwargs)


@pytest.mark.parametrize("name", ["region_name", "endpoint_url", "aws_access_key_id",
                                  "aws_secret_access_key", "aws_session_token", "profile_name"])
def test_config__nul_in_text_option_is_refused(name):
    args = dict(CREDS, region_name=REGION, endpoint_url="http://127.0.0.1:1")
    args[name] = "x\x00y"
    with pytest.raises(acmpca.ParamValidationError, match="^%s: contains a NUL" % name):
        acmpca.client(**args)


def test_operation__nul_in_keys_is_refused(scripted_client):
    # Cut at the NUL, these keys would name real members on the C side.
    with pytest.raises(acmpca.ParamValidationError, match="NUL"):
        scripted_client.list_tags(**{"CertificateAuthorityArn\x00x": CA})
    with pytest.raises(acmpca.ParamValidationError,
                       match=r"^Tags\[0\]: expected an object, got dict with a key "
                             r"containing a NUL character: 'Value\\x00x'$"):
        scripted_client.tag_certificate_authority(CertificateAuthorityArn=CA,
                                                  Tags=[{"Key": "k", "Value\x00x": "v"}])
    with pytest.raises(acmpca.ParamValidationError, match=r"^CertificateAuthorityArn: .*NUL"):
        scripted_client.list_tags(CertificateAuthorityArn=CA + "\x00x")


def test_config__nul_in_dict_keys_is_refused(scripted, scripted_client):
    with pytest.raises(acmpca.InvalidConfigError, match="^retries: unknown key"):
        make_client(scripted.endpoint, retries={"mode\x00x": "standard"})
    with pytest.raises(acmpca.ParamValidationError, match=r"^retries\['mode'\]: contains a NUL"):
        make_client(scripted.endpoint, retries={"mode": "standard\x00x"})
    with pytest.raises(acmpca.ParamValidationError, match="^WaiterConfig.*unknown key"):
        scripted_client.get_waiter("certificate_issued").wait(
            CertificateAuthorityArn=CA, CertificateArn=CA, WaiterConfig={"Delay\x00x": 1})
    with pytest.raises(acmpca.ParamValidationError, match="^PaginationConfig.*unknown key"):
        scripted_client.get_paginator("list_tags").paginate(
            CertificateAuthorityArn=CA, PaginationConfig={"PageSize\x00x": 1})
    with pytest.raises(acmpca.ParamValidationError, match="NUL"):
        make_client(scripted.endpoint, rate_limit={"ListTags\x00x": 1.0})


@pytest.mark.parametrize("call", [
    lambda: acmpca.generate_key("EC_prime256v1\x00x"),
    lambda: acmpca.make_csr(acmpca.generate_key(), common_name="a\x00b"),
    lambda: acmpca.make_csr(acmpca.generate_key(), dns_names=["a\x00b"]),
    lambda: acmpca.make_csr("key\x00"),
    lambda: acmpca.normalize_serial("01\x00"),
    lambda: acmpca.parse_certificate("x\x00"),
])
def test_pki__nul_in_text_is_refused(call):
    with pytest.raises(acmpca.ParamValidationError, match="NUL"):
        call()


# ---- containers changed by the caller's code while they are read ------------------------
# A value's read() (a file-like blob) runs while the binding walks the list or dict
# holding it, and may empty that container; an int subclass's __float__ may fill the
# rate_limit dict. Run in a child with Python's debug allocator (-X dev), which reports
# a write past a buffer or a read of freed memory instead of going on quietly.
CHANGED_WHILE_READ = r'''
import acmpca
c = acmpca.Client(region_name="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="s",
                  endpoint_url="http://127.0.0.1:9")
CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/changed"

def emptying(container):
    class Blob:
        def read(self):
            container.clear()
            return b"x"
    return Blob()

chain = []
chain.extend([emptying(chain)] + [object() for _ in range(8)])
try:
    c.import_certificate_authority_certificate(CertificateAuthorityArn=CA, Certificate=b"x",
                                               CertificateChain=chain)
except acmpca.ParamValidationError as e:
    print("list:", e)

validity = {"".join(["Ty", "pe"]): None}
validity[next(iter(validity))] = emptying(validity)
try:
    c.issue_certificate(CertificateAuthorityArn=CA, Csr=b"x", SigningAlgorithm="SHA256WITHRSA",
                        Validity=validity)
except acmpca.ParamValidationError as e:
    print("dict:", e)

limits = {}
class Filling(int):
    def __float__(self):
        for op in ("GetCertificate", "IssueCertificate", "GetPolicy", "PutPolicy",
                   "DeletePolicy", "ListPermissions", "RevokeCertificate", "CreatePermission"):
            limits[op] = 1
        return 5.0
limits["ListTags"] = Filling(20)
acmpca.Client(region_name="us-east-1", aws_access_key_id="AKID", aws_secret_access_key="s",
              endpoint_url="http://127.0.0.1:9", rate_limit=limits).close()
print("rate_limit: created")
'''


def test_containers_changed_while_read_are_read_safely():
    out = subprocess.run([sys.executable, "-X", "dev", "-c", CHANGED_WHILE_READ],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "list: CertificateChain: expected a string or bytes, got list",
        "dict: Validity.Type: expected a string, got bytes",
        "Validity.Value: missing required parameter",
        "rate_limit: created"], out.stderr


def test_machine__closed_while_its_answer_is_read_is_refused():
    c = acmpca.Client(region_name=REGION, endpoint_url="http://127.0.0.1:9", **CREDS)
    m = c._machine("GetCertificate", CertificateAuthorityArn=CA, CertificateArn=CA + "/x")
    assert m.next().kind == "send"

    def headers():
        m.close()
        c.close()
        yield ("Content-Type", "application/x-amz-json-1.1")
    with pytest.raises(acmpca.GeneralError, match="^the machine is closed$"):
        m.response(200, headers(), b'{"Certificate": "x"}')
