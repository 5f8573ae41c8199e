"""A realistic acmpca script, checked (never run) by tests/python/typecheck.sh:
it must pass mypy --strict and pyright's strict mode, so the stubs accept what
a boto3 user writes. Each bad_*.py beside it holds one mistake they must reject."""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import acmpca
import acmpca.aio
from acmpca.stub import ANY, Stubber
from acmpca.testing import moto_server

if TYPE_CHECKING:
    from acmpca import (
        CertificateAuthorityConfigurationTypeDef,
        CertificateAuthorityStatusType,
        IssueCertificateRequestTypeDef,
        KeyAlgorithmType,
        ListTagsResponseTypeDef,
        SigningAlgorithmType,
    )

REGION = "eu-west-1"


def before_call(params: dict[str, object], **kwargs: object) -> None:
    params.setdefault("headers", {})


def make_client() -> acmpca.Client:
    config = acmpca.Config(
        connect_timeout=5,
        read_timeout=30.0,
        retries={"mode": "adaptive", "max_attempts": 4},
        max_pool_connections=20,
        user_agent_extra="billing/1.0",
        tcp_keepalive=True,
        parameter_validation=True,
        use_fips_endpoint=False,
        rate_limit={"IssueCertificate": 25.0},
        max_response_bytes=1 << 20,
        total_timeout=120,
        proxies={"https": "http://proxy.example:3128"},
        proxies_config={"proxy_ca_bundle": "/etc/proxy-ca.pem",
                        "proxy_client_cert": ("/etc/c.pem", "/etc/c.key")},
    )
    pca = acmpca.client("acm-pca", REGION, "2017-08-22", True, True, None,
                        config=config.merge(acmpca.Config(region_name=REGION)))
    pca.meta.events.register("before-call.acm-pca.IssueCertificate", before_call)
    retries = pca.meta.config.retries
    if retries is not None and retries.get("mode") == "adaptive":
        print(pca.meta.region_name, pca.meta.endpoint_url, pca.meta.partition)
    model = pca.meta.service_model.operation_model("IssueCertificate")
    print(model.input_shape.name, sorted(model.input_shape.members), model.documentation)
    print(pca.meta.method_to_api_mapping["issue_certificate"])
    return pca


def create_root_ca(pca: acmpca.Client, key: KeyAlgorithmType) -> str:
    signing: SigningAlgorithmType = "SHA256WITHRSA" if key.startswith("RSA") else "SHA256WITHECDSA"
    configuration: CertificateAuthorityConfigurationTypeDef = {
        "KeyAlgorithm": key,
        "SigningAlgorithm": signing,
        "Subject": {"CommonName": "Example Root", "Country": "FR",
                    "CustomAttributes": [{"ObjectIdentifier": "2.5.4.97", "Value": "VATFR-1"}]},
        "CsrExtensions": {
            "KeyUsage": {"KeyCertSign": True, "CRLSign": True},
            "SubjectInformationAccess": [{
                "AccessMethod": {"AccessMethodType": "CA_REPOSITORY"},
                "AccessLocation": {"UniformResourceIdentifier": "https://pki.example/repo"},
            }],
        },
    }
    out = pca.create_certificate_authority(
        CertificateAuthorityConfiguration=configuration,
        CertificateAuthorityType="ROOT",
        RevocationConfiguration={"OcspConfiguration": {"Enabled": True}},
        Tags=[{"Key": "team", "Value": "pki"}],
        UsageMode="GENERAL_PURPOSE",
    )
    arn: str = out["CertificateAuthorityArn"]  # required in a result, as mypy-boto3
    print(out["ResponseMetadata"]["RequestId"])
    waiter = pca.get_waiter("certificate_authority_csr_created")
    print(waiter.name, waiter.config.delay, waiter.config.operation,
          [a.expected for a in waiter.config.acceptors if a.state == "failure"])
    waiter.wait(CertificateAuthorityArn=arn, WaiterConfig={"Delay": 1, "MaxAttempts": 30})
    return arn


def status_of(pca: acmpca.Client, arn: str) -> CertificateAuthorityStatusType | None:
    ca = pca.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    config = ca.get("CertificateAuthorityConfiguration")
    if config is not None:
        print(config["KeyAlgorithm"], config["Subject"].get("CommonName"))
    created = ca.get("CreatedAt")
    if created is not None:
        print(created.isoformat())
    return ca.get("Status")


def issue(pca: acmpca.Client, ca_arn: str, csr: str) -> str:
    params: IssueCertificateRequestTypeDef = {
        "CertificateAuthorityArn": ca_arn,
        "Csr": csr,
        "SigningAlgorithm": "SHA256WITHECDSA",
        "Validity": {"Value": 30, "Type": "DAYS"},
    }
    cert_arn = pca.issue_certificate(**params)["CertificateArn"]
    pca.issue_certificate(
        CertificateAuthorityArn=ca_arn, Csr=csr.encode(), SigningAlgorithm="SHA256WITHECDSA",
        Validity={"Value": 1, "Type": "DAYS"}, IdempotencyToken="one",
        ApiPassthrough={"Extensions": {
            "SubjectAlternativeNames": [{"DnsName": "svc.example"}],
            "ExtendedKeyUsage": [{"ExtendedKeyUsageType": "SERVER_AUTH"}],
        }})
    pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=ca_arn,
                                              CertificateArn=cert_arn)
    got = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    return got["Certificate"] + got["CertificateChain"]


def tags(pca: acmpca.Client, ca_arn: str) -> dict[str, str]:
    found: dict[str, str] = {}
    pages = pca.get_paginator("list_tags").paginate(
        CertificateAuthorityArn=ca_arn, PaginationConfig={"PageSize": 10, "MaxItems": 100})
    page: ListTagsResponseTypeDef
    for page in pages:
        for tag in page["Tags"]:
            found[tag["Key"]] = tag.get("Value", "")
    print(pages.resume_token, pages.result_keys, pages.build_full_result())
    for value in pages.search("Tags[].Key"):
        print(value)
    return found


def revoke(pca: acmpca.Client, ca_arn: str, serial: str) -> None:
    try:
        pca.revoke_certificate(CertificateAuthorityArn=ca_arn, CertificateSerial=serial,
                               RevocationReason="KEY_COMPROMISE")
    except pca.exceptions.RequestAlreadyProcessedException:
        pass
    except acmpca.ParamValidationError as e:
        print(e.kwargs["report"])
    except acmpca.ClientError as e:
        if e.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        print(e.operation_name, e.response["ResponseMetadata"]["HTTPStatusCode"])


def wait_audit(pca: acmpca.Client, ca_arn: str) -> None:
    report = pca.create_certificate_authority_audit_report(
        CertificateAuthorityArn=ca_arn, S3BucketName="audit", AuditReportResponseFormat="JSON")
    try:
        pca.get_waiter("audit_report_created").wait(
            CertificateAuthorityArn=ca_arn, AuditReportId=report["AuditReportId"])
    except acmpca.WaiterError as e:
        error = e.last_response.get("Error")
        print(e.reason, e.state, error["Code"] if error else None)


def unit_test(pca: acmpca.Client) -> None:
    with Stubber(pca) as stubber:
        stubber.add_response("get_policy", {"Policy": "{}"}, {"ResourceArn": ANY})
        stubber.add_client_error("delete_policy", "ResourceNotFoundException", http_status_code=404)
        assert pca.get_policy(ResourceArn="arn:aws:acm-pca:x")["Policy"] == "{}"
        stubber.assert_no_pending_responses()


def session_client() -> acmpca.Client:
    session = acmpca.Session(profile_name="ops", region_name=REGION)
    print(session.profile_name, session.available_profiles)
    return session.client("acm-pca", config=acmpca.Config(retries={"mode": "standard"}))


def against_moto() -> None:
    with moto_server() as moto:
        pca = moto.client(region_name="us-west-2", max_pool_connections=2)
        print(moto.endpoint, len(pca.list_certificate_authorities()["CertificateAuthorities"]))
        moto.reset()


async def async_main(ca_arn: str) -> None:
    async with acmpca.aio.client("acm-pca", region_name=REGION) as pca:
        out = await pca.describe_certificate_authority(CertificateAuthorityArn=ca_arn)
        print(out["CertificateAuthority"].get("Type"))
        await pca.get_waiter("certificate_issued").wait(CertificateAuthorityArn=ca_arn,
                                                        CertificateArn=ca_arn + "/certificate/1")
        pages = pca.get_paginator("list_permissions").paginate(CertificateAuthorityArn=ca_arn)
        async for page in pages:
            for permission in page["Permissions"]:
                print(permission.get("Actions", []))
        async for principal in pages.search("Permissions[].Principal"):
            print(principal)
        issued = await pca.request_certificate(ca_arn, key_type="EC_prime256v1",
                                               common_name="svc.example")
        print(issued["PrivateKey"] or "")


def main() -> None:
    with make_client() as pca:
        ca = create_root_ca(pca, "RSA_2048")
        print(status_of(pca, ca))
        print(issue(pca, ca, acmpca.make_csr(acmpca.generate_key("p256"), common_name="a")))
        print(tags(pca, ca))
        revoke(pca, ca, "0a:1b")
        wait_audit(pca, ca)
        unit_test(pca)
    session_client().close()
    against_moto()
    asyncio.run(async_main("arn:aws:acm-pca:eu-west-1:1:certificate-authority/x"))


if __name__ == "__main__":
    main()
