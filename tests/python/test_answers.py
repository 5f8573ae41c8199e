"""What a 2xx answer becomes: the result dict and its ResponseMetadata.

The usual answer (an object of the output's string members) is read straight into the
dict; any other is parsed by the core; both must give what json.loads gives (JSON null
members left out). HTTPHeaders is made from the last answer's when the names repeat:
each answer must still show its own values, and a dict handed out must stay the
caller's. Answers come from tests/fixtures/fault_server.py ("respond").
"""
import json

import pytest

from conftest import make_client

CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/answers-ca"
CERT = CA + "/certificate/0123456789abcdef"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"

BODIES = [
    # read straight into the dict
    json.dumps({"Certificate": PEM, "CertificateChain": PEM + "\n" + PEM}),
    '{"Certificate":"a\\"b\\\\c\\/d\\te\\bf\\fg\\rh","CertificateChain":""}',
    ' \n{ "CertificateChain" : "x" ,\t"Certificate" : "caf\u00e9 \u2713" } \r\n',
    '{"Certificate":"\\\\\\""}',
    '{}',
    # parsed by the core
    '{"Certificate":"caf\\u00e9 \\ud83d\\ude00","CertificateChain":"y"}',
    '{"Certificate":"x","CertificateChain":null}',
    '{"Certificate":"x","Unmodelled":{"Nested":[1,2.5,true,null]}}',
    '{"Certificate":"x",}',
]


def get(c):
    return c.get_certificate(CertificateAuthorityArn=CA, CertificateArn=CERT)


def without_metadata(result):
    return {k: v for k, v in result.items() if k != "ResponseMetadata"}


@pytest.mark.parametrize("body", BODIES)
def test_answer__result_is_what_json_gives(fault, body):
    fault.script([{"action": "respond", "status": 200, "body": body}])
    with make_client(fault.endpoint) as c:
        if body == '{"Certificate":"x",}':  # not JSON: the core's typed error
            with pytest.raises(Exception) as ei:
                get(c)
            assert "not valid JSON" in str(ei.value)
            return
        out = get(c)
    want = {k: v for k, v in json.loads(body).items() if v is not None}
    assert without_metadata(out) == want
    assert out["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_answer__http_headers_are_each_answers_own(fault):
    answers = [
        ("rid-0001", {"X-Test": "one"}),
        ("rid-0002", {"X-Test": "one"}),           # same names: only the request id changes
        ("rid-0003", {"X-Test": "two"}),           # a value changes, then stays, then is back
        ("rid-0004", {"X-Test": "two"}),
        ("rid-0005", {"X-Test": "one"}),
        ("rid-0006", {"X-Test": "longer value"}),  # a value of another length,
        ("rid-0006", {"X-Test": "longer value"}),  # the same answer again,
        ("rid-0007", {"X-Test": "one"}),           # and back
        ("rid-0008", {"X-Test": "two", "X-More": "m"}),  # one more header
        ("rid-0009", {}),                          # one fewer
        ("rid-0010-longer-request-id", {"X-Test": "z"}),
    ]
    fault.script([{"action": "respond", "status": 200, "request_id": rid, "headers": extra,
                   "body": {"Certificate": PEM}} for rid, extra in answers])
    with make_client(fault.endpoint) as c:
        results = [get(c) for _ in answers]
    for (rid, extra), out in zip(answers, results):
        md = out["ResponseMetadata"]
        headers = md["HTTPHeaders"]
        assert md["RequestId"] == rid
        assert headers["x-amzn-requestid"] == rid
        assert {k: v for k, v in headers.items() if k.startswith("x-") and
                k != "x-amzn-requestid"} == {k.lower(): v for k, v in extra.items()}
        assert headers["content-length"] == str(len(json.dumps({"Certificate": PEM})))
    # Every dict is the caller's own: changing one changes no other answer's.
    assert len({id(out["ResponseMetadata"]["HTTPHeaders"]) for out in results}) == len(results)
    results[0]["ResponseMetadata"]["HTTPHeaders"]["x-test"] = "changed"
    results[0]["ResponseMetadata"]["RequestId"] = "changed"
    assert results[1]["ResponseMetadata"]["HTTPHeaders"]["x-test"] == "one"
    fault.script([{"action": "respond", "status": 200, "request_id": "rid-0011",
                   "headers": {"X-Test": "one"}, "body": {"Certificate": PEM}}] * 3)
    with make_client(fault.endpoint) as c:
        first, second = get(c), get(c)
        first["ResponseMetadata"]["HTTPHeaders"]["x-test"] = "changed"
        first["ResponseMetadata"]["HTTPHeaders"]["x-added"] = "added"
        third_headers = get(c)["ResponseMetadata"]["HTTPHeaders"]
    assert second["ResponseMetadata"]["HTTPHeaders"]["x-test"] == "one"
    assert third_headers["x-test"] == "one" and "x-added" not in third_headers
    assert second["ResponseMetadata"] == {
        "RequestId": "rid-0011", "HTTPStatusCode": 200, "RetryAttempts": 0,
        "HTTPHeaders": second["ResponseMetadata"]["HTTPHeaders"]}
    assert list(second["ResponseMetadata"]) == ["RequestId", "HTTPStatusCode", "HTTPHeaders",
                                                "RetryAttempts"]
