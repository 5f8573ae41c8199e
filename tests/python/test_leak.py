"""A leak check: 20,000 calls in a loop must not grow the process.

The mix: a cheap local path (arguments refused by validation before any I/O,
so a ParamValidationError is built and dropped every time) and some thousands
of real calls over loopback, successes (output conversion, ResponseMetadata),
paginator pages (with their ResponseMetadata) and service errors (ClientError
and its response dict, headers included). RSS is read after a
warm-up and after each later round; a leak of ~100 bytes per call would show
as megabytes. The count of GC-tracked Python objects must not grow either.
"""
import gc

import pytest

import acmpca
from conftest import FAKE_CA_ARN, make_client

ROUNDS = 4            # the first round is the warm-up
LOCAL_PER_ROUND = 3500
REAL_PER_ROUND = 1500  # 20,000 calls in all


def rss_bytes():
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    pytest.fail("no VmRSS in /proc/self/status: the leak check needs Linux")


# Every problem, one a line: Tags is no member of IssueCertificate.
REFUSED = ("Validity.Value: expected an integer, got string\n"
           "Tags: unknown parameter; expected one of: ApiPassthrough, CertificateAuthorityArn, "
           "Csr, SigningAlgorithm, TemplateArn, Validity, ValidityNotBefore, IdempotencyToken")


def one_round(c, server):
    ok_arn = FAKE_CA_ARN % "leak"
    err_arn = FAKE_CA_ARN % "acmpca-test:error:ResourceNotFoundException"
    sent_before = server.count
    for i in range(LOCAL_PER_ROUND):
        # Not pytest.raises: a validator that stopped refusing must fail here,
        # and the check must cost little next to the call it measures.
        try:
            c.issue_certificate(CertificateAuthorityArn=ok_arn, Csr=b"-----BEGIN x",
                                SigningAlgorithm="SHA256WITHRSA",
                                Validity={"Value": "not an int", "Type": "DAYS"},
                                Tags=[{"Key": "k%d" % i, "Value": "v"}])
        except acmpca.ParamValidationError as e:
            if str(e) != REFUSED:
                raise AssertionError("refused for another reason: %s" % e)
        else:
            raise AssertionError("Validity.Value 'not an int' was accepted (call %d)" % i)
    # Refused before any I/O: nothing of the local path reached the server.
    assert server.count == sent_before
    for i in range(REAL_PER_ROUND):
        if i % 5 == 0:
            try:
                c.get_policy(ResourceArn=err_arn)
            except acmpca.ResourceNotFoundException as e:
                assert e.response["Error"]["Code"] == "ResourceNotFoundException"
                assert e.response["ResponseMetadata"]["HTTPHeaders"]
        elif i % 5 == 1:
            pages = list(c.get_paginator("list_tags").paginate(CertificateAuthorityArn=ok_arn))
            assert pages[0]["ResponseMetadata"]["HTTPStatusCode"] == 200
        else:
            r = c.get_certificate(CertificateAuthorityArn=ok_arn, CertificateArn=ok_arn + "/c")
            assert r["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_leak__twenty_thousand_calls_do_not_grow_rss(scripted):
    c = make_client(scripted.endpoint, retries={"total_max_attempts": 1})
    one_round(c, scripted)  # warm-up: connection pool, caches, allocator arenas
    gc.collect()
    rss0, objects0 = rss_bytes(), len(gc.get_objects())
    samples = []
    for _ in range(ROUNDS - 1):
        one_round(c, scripted)
        gc.collect()
        samples.append(rss_bytes())
    growth = samples[-1] - rss0
    objects_growth = len(gc.get_objects()) - objects0
    assert growth < 2 * 1024 * 1024, "RSS grew by %d bytes: %r" % (growth, [rss0] + samples)
    assert objects_growth < 200, objects_growth
    c.close()
