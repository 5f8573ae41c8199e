"""Every operation against a real server answer: the 17 moto implements in one
full private-CA flow, the 6 it lacks against the fixture server."""
import datetime
import json

import pytest

import acmpca
from conftest import CA_CONFIG, ROOT_TEMPLATE, create_root_ca

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402


def check_metadata(result):
    md = result["ResponseMetadata"]
    assert md["HTTPStatusCode"] == 200
    assert isinstance(md["RequestId"], str) and md["RequestId"]
    assert md["RetryAttempts"] == 0
    headers = md["HTTPHeaders"]
    assert headers and all(k == k.lower() for k in headers)
    assert headers["x-amzn-requestid"] == md["RequestId"]


def aware(value):
    return isinstance(value, datetime.datetime) and value.utcoffset() is not None


def issue_and_fetch(client, ca_arn, csr, **extra):
    issued = client.issue_certificate(CertificateAuthorityArn=ca_arn, Csr=csr,
                                      SigningAlgorithm="SHA256WITHRSA",
                                      Validity={"Value": 30, "Type": "DAYS"}, **extra)
    check_metadata(issued)
    client.get_waiter("certificate_issued").wait(
        CertificateAuthorityArn=ca_arn, CertificateArn=issued["CertificateArn"],
        WaiterConfig={"Delay": 0.05, "MaxAttempts": 5})
    got = client.get_certificate(CertificateAuthorityArn=ca_arn,
                                 CertificateArn=issued["CertificateArn"])
    check_metadata(got)
    return issued["CertificateArn"], got


@pytest.mark.smoke
def test_full_ca_flow(client):
    # Create: a ROOT CA waiting for its certificate.
    created = client.create_certificate_authority(
        CertificateAuthorityConfiguration=CA_CONFIG, CertificateAuthorityType="ROOT",
        Tags=[{"Key": "team", "Value": "pki"}])
    check_metadata(created)
    arn = created["CertificateAuthorityArn"]
    ca = client.describe_certificate_authority(CertificateAuthorityArn=arn)
    check_metadata(ca)
    ca = ca["CertificateAuthority"]
    assert ca["Arn"] == arn and ca["Type"] == "ROOT"
    assert ca["Status"] == "PENDING_CERTIFICATE"
    assert ca["CertificateAuthorityConfiguration"]["Subject"]["CommonName"] == "acmpca test root"
    assert aware(ca["CreatedAt"])

    # CSR -> root certificate from the RootCACertificate template -> import.
    client.get_waiter("certificate_authority_csr_created").wait(CertificateAuthorityArn=arn)
    csr_result = client.get_certificate_authority_csr(CertificateAuthorityArn=arn)
    check_metadata(csr_result)
    ca_csr = x509.load_pem_x509_csr(csr_result["Csr"].encode())
    assert ca_csr.is_signature_valid
    root_arn, root = issue_and_fetch(client, arn, csr_result["Csr"], TemplateArn=ROOT_TEMPLATE)
    assert root_arn.startswith(arn + "/certificate/")
    root_cert = x509.load_pem_x509_certificate(root["Certificate"].encode())
    root_cert.verify_directly_issued_by(root_cert)
    assert root_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    imported = client.import_certificate_authority_certificate(
        CertificateAuthorityArn=arn, Certificate=root["Certificate"].encode())
    check_metadata(imported)
    assert set(imported) == {"ResponseMetadata"}
    described = client.describe_certificate_authority(CertificateAuthorityArn=arn)
    assert described["CertificateAuthority"]["Status"] == "ACTIVE"
    ca_cert = client.get_certificate_authority_certificate(CertificateAuthorityArn=arn)
    check_metadata(ca_cert)
    assert ca_cert["Certificate"].strip() == root["Certificate"].strip()

    # End-entity certificate from a CSR made by acmpca.make_csr.
    key_pem = acmpca.generate_key("EC_prime256v1")
    csr1 = acmpca.make_csr(key_pem, common_name="svc.example.test", organization="acmpca",
                           dns_names=["svc.example.test", "alt.example.test"],
                           ip_addresses=["127.0.0.1"])
    cert1_arn, got1 = issue_and_fetch(client, arn, csr1)
    cert1 = x509.load_pem_x509_certificate(got1["Certificate"].encode())
    cert1.verify_directly_issued_by(root_cert)
    key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    assert cert1.public_key().public_numbers() == key.public_key().public_numbers()
    assert "BEGIN CERTIFICATE" in got1["CertificateChain"]

    # ... and from a CSR made by the cryptography package, given as bytes.
    ckey = ec.generate_private_key(ec.SECP256R1())
    csr2 = (x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crypto.example")]))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("crypto.example")]),
                           critical=False)
            .sign(ckey, hashes.SHA256()))
    _, got2 = issue_and_fetch(client, arn, csr2.public_bytes(serialization.Encoding.PEM))
    cert2 = x509.load_pem_x509_certificate(got2["Certificate"].encode())
    cert2.verify_directly_issued_by(root_cert)
    assert cert2.public_key().public_numbers() == ckey.public_key().public_numbers()

    info = acmpca.parse_certificate(got1["Certificate"])
    assert "svc.example.test" in info["Subject"]
    assert {"Type": "DNS", "Value": "alt.example.test"} in info["SubjectAlternativeNames"]
    assert aware(info["NotAfter"]) and info["NotAfter"] > info["NotBefore"]
    assert info["IsCA"] is False

    # Tags.
    check_metadata(client.tag_certificate_authority(
        CertificateAuthorityArn=arn, Tags=[{"Key": "env", "Value": "test"}]))
    tags = client.list_tags(CertificateAuthorityArn=arn)
    check_metadata(tags)
    assert {"Key": "team", "Value": "pki"} in tags["Tags"]
    assert {"Key": "env", "Value": "test"} in tags["Tags"]
    check_metadata(client.untag_certificate_authority(CertificateAuthorityArn=arn,
                                                      Tags=[{"Key": "team"}]))
    assert client.list_tags(CertificateAuthorityArn=arn)["Tags"] == [{"Key": "env",
                                                                       "Value": "test"}]

    # Resource policy.
    policy = json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "x", "Effect": "Allow", "Principal": {"AWS": "123456789012"},
        "Action": "acm-pca:IssueCertificate", "Resource": arn}]})
    check_metadata(client.put_policy(ResourceArn=arn, Policy=policy))
    got_policy = client.get_policy(ResourceArn=arn)
    check_metadata(got_policy)
    assert json.loads(got_policy["Policy"]) == json.loads(policy)
    check_metadata(client.delete_policy(ResourceArn=arn))

    # Listing, revocation, update, deletion.
    listed = client.list_certificate_authorities()
    check_metadata(listed)
    assert arn in [c["Arn"] for c in listed["CertificateAuthorities"]]
    check_metadata(client.revoke_certificate(
        CertificateAuthorityArn=arn, CertificateSerial=acmpca.normalize_serial(got1["Certificate"]),
        RevocationReason="KEY_COMPROMISE"))
    check_metadata(client.update_certificate_authority(CertificateAuthorityArn=arn,
                                                       Status="DISABLED"))
    assert client.describe_certificate_authority(
        CertificateAuthorityArn=arn)["CertificateAuthority"]["Status"] == "DISABLED"
    check_metadata(client.delete_certificate_authority(CertificateAuthorityArn=arn,
                                                       PermanentDeletionTimeInDays=7))
    assert client.describe_certificate_authority(
        CertificateAuthorityArn=arn)["CertificateAuthority"]["Status"] == "DELETED"


def test_request_certificate_new_key(client, root_ca):
    arn, root_pem = root_ca
    out = client.request_certificate(arn, common_name="rc.example.test",
                                     dns_names=["rc.example.test"], key_type="EC_secp384r1",
                                     validity_days=10, wait_delay=0.05)
    assert set(out) == {"CertificateArn", "Certificate", "CertificateChain", "PrivateKey", "Csr"}
    cert = x509.load_pem_x509_certificate(out["Certificate"].encode())
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(root_pem.encode()))
    key = serialization.load_pem_private_key(out["PrivateKey"].encode(), password=None)
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert out["CertificateArn"].startswith(arn)


def test_issue_and_wait_with_csr(client, root_ca):
    arn, _ = root_ca
    key = acmpca.generate_key("rsa2048")
    csr = acmpca.make_csr(key, common_name="given.example.test")
    der = x509.load_pem_x509_csr(csr.encode()).public_bytes(serialization.Encoding.DER)
    out = client.issue_and_wait(arn, csr=der, signing_algorithm="SHA256WITHRSA")
    assert out["PrivateKey"] is None
    assert out["Csr"].strip() == csr.strip()
    assert "given.example.test" in acmpca.parse_certificate(out["Certificate"])["Subject"]


# ---- the operations moto lacks, on the fixture server -------------------------------

FIXTURE_CA = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fixture-ops"


def test_audit_report_operations(fixture_client):
    created = fixture_client.create_certificate_authority_audit_report(
        CertificateAuthorityArn=FIXTURE_CA, S3BucketName="bucket", AuditReportResponseFormat="JSON")
    check_metadata(created)
    assert created["S3BucketName"] == "bucket"
    assert created["S3Key"].endswith(".json")
    described = fixture_client.describe_certificate_authority_audit_report(
        CertificateAuthorityArn=FIXTURE_CA, AuditReportId=created["AuditReportId"])
    check_metadata(described)
    assert described["AuditReportStatus"] == "IN_PROGRESS"
    # 1700000000.5 on the wire: an aware datetime with the fraction kept.
    assert described["CreatedAt"] == datetime.datetime(2023, 11, 14, 22, 13, 20, 500000,
                                                       tzinfo=datetime.timezone.utc)


def test_permission_operations(fixture_client):
    ca = FIXTURE_CA + "-perm"
    check_metadata(fixture_client.create_permission(
        CertificateAuthorityArn=ca, Principal="acm.amazonaws.com",
        Actions=["IssueCertificate", "GetCertificate", "ListPermissions"],
        SourceAccount="123456789012"))
    listed = fixture_client.list_permissions(CertificateAuthorityArn=ca)
    check_metadata(listed)
    [perm] = listed["Permissions"]
    assert perm["Principal"] == "acm.amazonaws.com"
    assert perm["Actions"] == ["IssueCertificate", "GetCertificate", "ListPermissions"]
    assert aware(perm["CreatedAt"])
    check_metadata(fixture_client.delete_permission(CertificateAuthorityArn=ca,
                                                    Principal="acm.amazonaws.com",
                                                    SourceAccount="123456789012"))
    assert fixture_client.list_permissions(CertificateAuthorityArn=ca)["Permissions"] == []


def test_restore_certificate_authority(fixture_client):
    result = fixture_client.restore_certificate_authority(CertificateAuthorityArn=FIXTURE_CA)
    check_metadata(result)
    assert set(result) == {"ResponseMetadata"}


def test_every_operation_is_a_method(client):
    model = acmpca._acmpca._model()
    assert len(model["operations"]) == 23
    for op in model["operations"]:
        method = getattr(client, op["snake_name"])
        assert callable(method)
        assert method.__name__ == op["snake_name"]
        assert op["name"] in method.__doc__
        assert getattr(acmpca.Client, op["snake_name"]).operation_name == op["name"]


def test_create_two_cas_are_distinct(client):
    a, _ = create_root_ca(client)
    b, _ = create_root_ca(client)
    assert a != b
