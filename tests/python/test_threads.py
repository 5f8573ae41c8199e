"""One client shared by threads; the GIL released while calls wait."""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

import acmpca
from conftest import FAKE_CA_ARN, create_root_ca, make_client


@pytest.mark.smoke
def test_threads_share_one_client_on_moto(client):
    arn, root_pem = create_root_ca(client)
    csr = acmpca.make_csr(acmpca.generate_key(), common_name="threads.example")

    def work(i):
        issued = client.issue_certificate(CertificateAuthorityArn=arn, Csr=csr,
                                          SigningAlgorithm="SHA256WITHRSA",
                                          Validity={"Value": 1 + i, "Type": "DAYS"})
        got = client.get_certificate(CertificateAuthorityArn=arn,
                                     CertificateArn=issued["CertificateArn"])
        desc = client.describe_certificate_authority(CertificateAuthorityArn=arn)
        assert desc["CertificateAuthority"]["Status"] == "ACTIVE"
        return issued["CertificateArn"], got["Certificate"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(48)))
    assert len({arn for arn, _ in results}) == 48
    assert all(pem.startswith("-----BEGIN CERTIFICATE-----") for _, pem in results)


def test_threads_share_one_client_with_errors(scripted):
    c = make_client(scripted.endpoint, retries={"total_max_attempts": 1})
    errors, oks = [], []

    def work(i):
        for j in range(40):
            if (i + j) % 3 == 0:
                try:
                    c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:error:ResourceNotFoundException")
                except acmpca.ResourceNotFoundException as e:
                    errors.append(e.request_id)
            elif (i + j) % 3 == 1:
                try:
                    c.get_policy(ResourceArn="")
                except acmpca.ParamValidationError as e:
                    assert "ResourceArn" in str(e)
                    errors.append(None)
            else:
                oks.append(c.list_tags(CertificateAuthorityArn=FAKE_CA_ARN % "t")["ResponseMetadata"]
                           ["RequestId"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) + len(oks) == 320
    # Each thread read its own error detail: every request id is distinct.
    ids = [e for e in errors if e] + oks
    assert len(ids) == len(set(ids))


def test_gil_released_while_waiting(scripted):
    c = make_client(scripted.endpoint)
    done = threading.Event()

    def slow():
        c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:stall:0.6")
        done.set()

    t = threading.Thread(target=slow)
    t.start()
    spins = 0
    start = time.monotonic()
    while not done.is_set() and time.monotonic() - start < 5:
        spins += 1
    t.join()
    # The main thread kept running Python code the whole time.
    assert spins > 10000


def test_close_while_calls_run(scripted):
    c = make_client(scripted.endpoint)
    results = []

    def slow():
        try:
            results.append(c.get_policy(ResourceArn=FAKE_CA_ARN % "acmpca-test:stall:0.5"))
        except acmpca.Error as e:
            results.append(e)

    threads = [threading.Thread(target=slow) for _ in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.2)
    c.close()
    with pytest.raises(acmpca.GeneralError):
        c.list_tags(CertificateAuthorityArn=FAKE_CA_ARN % "x")
    for t in threads:
        t.join()
    # The running calls finished normally; the core client was freed after them.
    assert len(results) == 4
    assert all(isinstance(r, dict) for r in results)


def test_page_iterator_in_use_elsewhere(scripted):
    c = make_client(scripted.endpoint)
    pages = c.get_paginator("list_tags").paginate(
        CertificateAuthorityArn=FAKE_CA_ARN % "acmpca-test:stall:0.5")
    it = iter(pages)
    got = []
    t = threading.Thread(target=lambda: got.append(next(it)))
    t.start()
    time.sleep(0.2)
    with pytest.raises(RuntimeError, match="another thread"):
        next(it)
    t.join()
    assert len(got) == 1 and set(got[0]) == {"ResponseMetadata"}
