"""boto3 side by side: one script, run once with boto3.client("acm-pca") and
once with acmpca.client(), against the same moto server. The results must
have the same keys and value types, and the same values except for what
differs per run (ARNs and ids, PEM bodies, timestamps, request ids)."""
import datetime
import json
import re

import pytest

import acmpca
from conftest import CREDS, REGION, ROOT_TEMPLATE

boto3 = pytest.importorskip("boto3")

ARN = re.compile(r"^arn:aws:acm-pca:")
PEM = re.compile(r"-----BEGIN ")
RUN_SPECIFIC_HEADERS = {"date", "x-amzn-requestid", "content-length"}


def script(pca, csr_pem):
    """What a user would write for boto3; returns each step's result (or error)."""
    out = {}
    config = {"KeyAlgorithm": "RSA_2048", "SigningAlgorithm": "SHA256WITHRSA",
              "Subject": {"CommonName": "side by side", "Country": "US"}}
    out["create"] = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=config, CertificateAuthorityType="ROOT",
        Tags=[{"Key": "k1", "Value": "v1"}])
    arn = out["create"]["CertificateAuthorityArn"]
    out["describe_pending"] = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    out["csr"] = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)
    out["issue_root"] = pca.issue_certificate(
        CertificateAuthorityArn=arn, Csr=out["csr"]["Csr"], SigningAlgorithm="SHA256WITHRSA",
        TemplateArn=ROOT_TEMPLATE, Validity={"Value": 365, "Type": "DAYS"})
    pca.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=arn, CertificateArn=out["issue_root"]["CertificateArn"],
        WaiterConfig={"Delay": 1, "MaxAttempts": 3})
    out["get_root"] = pca.get_certificate(CertificateAuthorityArn=arn,
                                          CertificateArn=out["issue_root"]["CertificateArn"])
    out["import"] = pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=out["get_root"]["Certificate"].encode())
    out["describe_active"] = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    out["ca_certificate"] = pca.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    out["issue"] = pca.issue_certificate(
        CertificateAuthorityArn=arn, Csr=csr_pem.encode(), SigningAlgorithm="SHA256WITHRSA",
        Validity={"Value": 30, "Type": "DAYS"})
    out["get"] = pca.get_certificate(CertificateAuthorityArn=arn,
                                     CertificateArn=out["issue"]["CertificateArn"])
    out["tag"] = pca.tag_certificate_authority(CertificateAuthorityArn=arn,
                                               Tags=[{"Key": "k2", "Value": "v2"}])
    out["list_tags"] = pca.list_tags(CertificateAuthorityArn=arn)
    out["untag"] = pca.untag_certificate_authority(CertificateAuthorityArn=arn,
                                                   Tags=[{"Key": "k1"}])
    out["tag_pages"] = list(pca.get_paginator("list_tags").paginate(CertificateAuthorityArn=arn))
    policy = json.dumps({"Version": "2012-10-17", "Statement": []})
    out["put_policy"] = pca.put_policy(ResourceArn=arn, Policy=policy)
    out["get_policy"] = pca.get_policy(ResourceArn=arn)
    out["delete_policy"] = pca.delete_policy(ResourceArn=arn)
    out["revoke"] = pca.revoke_certificate(CertificateAuthorityArn=arn,
                                           CertificateSerial="01:02:03",
                                           RevocationReason="SUPERSEDED")
    out["update"] = pca.update_certificate_authority(CertificateAuthorityArn=arn,
                                                     Status="DISABLED")
    listed = pca.list_certificate_authorities()
    listed["CertificateAuthorities"] = [c for c in listed["CertificateAuthorities"]
                                        if c["Arn"] == arn]
    out["list"] = listed
    out["delete"] = pca.delete_certificate_authority(CertificateAuthorityArn=arn,
                                                     PermanentDeletionTimeInDays=7)
    out["describe_deleted"] = pca.describe_certificate_authority(CertificateAuthorityArn=arn)
    try:
        pca.describe_certificate_authority(CertificateAuthorityArn=arn + "-missing")
    except pca.exceptions.ResourceNotFoundException as e:
        # The whole response, HTTPHeaders included, as botocore fills it for errors.
        out["error"] = {"type": type(e).__name__, "response": e.response,
                        "operation": e.operation_name,
                        "str": str(e).replace(arn, "<arn>")}
    return out


def normalize(value, key=None):
    """Replace what differs between two runs; keep the shape and the types."""
    if isinstance(value, dict):
        if key == "HTTPHeaders":
            return {k: ("<%s>" % k if k in RUN_SPECIFIC_HEADERS else v) for k, v in value.items()}
        return {k: normalize(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, datetime.datetime):
        assert value.utcoffset() is not None, key
        return "<datetime>"
    if isinstance(value, str):
        if key == "RequestId":
            return "<request id>"
        if ARN.match(value):
            return "<arn>"
        if PEM.search(value):
            return "<pem>"
        if key in ("Message", "message") and "arn:aws:acm-pca" in value:
            return re.sub(r"arn:aws:acm-pca:\S+", "<arn>", value)
    return value


def test_same_script_same_results(moto_endpoint):
    key = acmpca.generate_key("rsa2048")
    csr = acmpca.make_csr(key, common_name="side.example", dns_names=["side.example"])
    theirs = script(boto3.client("acm-pca", endpoint_url=moto_endpoint, region_name=REGION,
                                 **CREDS), csr)
    ours = script(acmpca.client(endpoint_url=moto_endpoint, region_name=REGION, **CREDS), csr)
    assert list(ours) == list(theirs)
    assert ours["error"]["response"]["ResponseMetadata"]["HTTPHeaders"]
    for step in theirs:
        assert normalize(ours[step]) == normalize(theirs[step]), step
    # Types, beyond what == shows (True == 1, 1 == 1.0).
    def types(v):
        if isinstance(v, dict):
            return {k: types(x) for k, x in v.items()}
        if isinstance(v, list):
            return [types(x) for x in v]
        return type(v).__name__
    for step in theirs:
        assert types(normalize(ours[step])) == types(normalize(theirs[step])), step


def test_pages_carry_response_metadata(moto_endpoint):
    """Each page is the operation's answer with its ResponseMetadata, as boto3's."""
    b = boto3.client("acm-pca", endpoint_url=moto_endpoint, region_name=REGION, **CREDS)
    a = acmpca.client(endpoint_url=moto_endpoint, region_name=REGION, **CREDS)
    theirs = list(b.get_paginator("list_certificate_authorities").paginate())
    ours = list(a.get_paginator("list_certificate_authorities").paginate())
    assert all(p["ResponseMetadata"]["HTTPStatusCode"] == 200 for p in ours)
    assert normalize(ours) == normalize(theirs)


def test_resume_tokens_pass_both_ways_on_moto(moto_endpoint):
    """A StartingToken from boto3 resumes an acmpca paginator and the other way round,
    and both write the same token text for the same position."""
    b = boto3.client("acm-pca", endpoint_url=moto_endpoint, region_name=REGION, **CREDS)
    a = acmpca.client(endpoint_url=moto_endpoint, region_name=REGION, **CREDS)
    config = {"KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
              "Subject": {"CommonName": "tokens"}}
    for _ in range(5):
        a.create_certificate_authority(CertificateAuthorityConfiguration=config,
                                       CertificateAuthorityType="ROOT")
    everything = [c["Arn"] for c in b.get_paginator("list_certificate_authorities")
                  .paginate().build_full_result()["CertificateAuthorities"]]
    assert len(everything) >= 5

    def arns(result):
        return [c["Arn"] for c in result["CertificateAuthorities"]]

    # MaxItems mid-page (boto_truncate_amount) and at a page boundary (NextToken only).
    for cfg in ({"PageSize": 2, "MaxItems": 3}, {"PageSize": 2, "MaxItems": 2}):
        theirs = b.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig=cfg).build_full_result()
        ours = a.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig=cfg).build_full_result()
        assert arns(ours) == arns(theirs) == everything[:cfg["MaxItems"]]
        assert ours["NextToken"] == theirs["NextToken"], cfg
        rest = {"PageSize": 2, "StartingToken": theirs["NextToken"]}
        resumed_here = a.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig=rest).build_full_result()
        rest["StartingToken"] = ours["NextToken"]
        resumed_there = b.get_paginator("list_certificate_authorities").paginate(
            PaginationConfig=rest).build_full_result()
        assert arns(resumed_here) == arns(resumed_there) == everything[cfg["MaxItems"]:]
    a.close()
