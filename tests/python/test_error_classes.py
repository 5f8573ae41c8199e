"""The shared table of failures (tests/fixtures/error_classes.json), asserted from
Python; tests/lua/fault/error_classes_spec.lua asserts the same rows from Lua. Each
scenario is made to happen against the fault server; the exception must be an
instance of the row's class, and a service error must carry the row's code.
"""
import json
import os
import pathlib
import subprocess
import sys

import pytest

import acmpca
from conftest import make_client

ROWS = json.loads((pathlib.Path(__file__).parents[1] / "fixtures" / "error_classes.json")
                  .read_text())["rows"]
CA_ARN = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/fault-ca"
GET = {"CertificateAuthorityArn": CA_ARN, "CertificateArn": CA_ARN + "/certificate/01"}


def one_attempt(endpoint, **config):
    return make_client(endpoint, config=acmpca.Config(retries={"total_max_attempts": 1},
                                                      **config))


def describe(c):
    return c.describe_certificate_authority(CertificateAuthorityArn=CA_ARN)


def no_credentials(fault):
    """Credentials resolve in a child with no source at all (only the local server)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_EC2_METADATA_DISABLED="true", AWS_CONFIG_FILE="/nonexistent",
               AWS_SHARED_CREDENTIALS_FILE="/nonexistent")
    code = ("import acmpca\n"
            "c = acmpca.client('acm-pca', region_name='us-east-1', endpoint_url=%r)\n"
            "try:\n"
            "    c.describe_certificate_authority(CertificateAuthorityArn=%r)\n"
            "except acmpca.NoCredentialsError as e:\n"
            "    raise SystemExit(0)\n"
            "raise SystemExit(1)\n" % (fault.endpoint, CA_ARN))
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0
    return acmpca.NoCredentialsError("raised in the child")


def bad_config(scenario):
    """A client made with no region, a region that is no host label, or a profile in
    neither file (no region or profile from the environment)."""
    saved = {k: os.environ.pop(k) for k in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE")
             if k in os.environ}
    kwargs = {"aws_access_key_id": "AKIDCLASSES", "aws_secret_access_key": "s",
              "region_name": {"no-region": None, "invalid-region": "us east 1"}.get(
                  scenario, "us-east-1")}
    if scenario == "profile-not-found":
        kwargs["profile_name"] = "ghost"
    try:
        with pytest.raises(acmpca.Error) as info:
            acmpca.client("acm-pca", **kwargs)
    finally:
        os.environ.update(saved)
    return info.value


def happen(scenario, fault):
    """Make the scenario happen; the exception it raised."""
    if scenario == "no-credentials":
        return no_credentials(fault)
    if scenario in ("no-region", "invalid-region", "profile-not-found"):
        return bad_config(scenario)
    scripts = {
        "read-timeout": [{"action": "stall", "seconds": 5}],
        "connection-reset": [{"action": "reset_before"}],
        "invalid-json": [{"action": "invalid_json"}],
        "body-over-cap": [{"action": "big_body", "size": 4096}],
        "service-error": [{"action": "error", "code": "ResourceNotFoundException"}],
        "unmodelled-service-error": [{"action": "error", "code": "SomethingNewException"}],
        "waiter-gave-up": [{"action": "error", "code": "RequestInProgressException",
                            "repeat": 2}],
    }
    fault.script(scripts.get(scenario, []))
    with pytest.raises(acmpca.Error) as info:
        if scenario == "invalid-input":
            one_attempt(fault.endpoint).describe_certificate_authority(Bogus=1)
        elif scenario == "unknown-retry-mode":
            make_client(fault.endpoint, config=acmpca.Config(retries={"mode": "fast"}))
        elif scenario == "connection-refused":
            describe(one_attempt(fault.refused_endpoint))
        elif scenario == "read-timeout":
            describe(one_attempt(fault.endpoint, read_timeout=0.3))
        elif scenario == "tls-untrusted":
            describe(one_attempt(fault.tls_endpoint))
        elif scenario == "body-over-cap":
            describe(one_attempt(fault.endpoint, max_response_bytes=1024))
        elif scenario == "waiter-gave-up":
            one_attempt(fault.endpoint).get_waiter("certificate_issued").wait(
                **GET, WaiterConfig={"Delay": 0.01, "MaxAttempts": 2})
        else:
            describe(one_attempt(fault.endpoint))
    return info.value


@pytest.mark.parametrize("row", ROWS, ids=[r["scenario"] for r in ROWS])
def test_error_classes__same_class_and_code_as_every_binding(row, fault):
    exc = happen(row["scenario"], fault)
    assert isinstance(exc, getattr(acmpca, row["class"])), (type(exc), row)
    assert str(exc).count("gave up") <= 1, str(exc)  # the attempt count is said once at most
    if "code" in row:
        assert exc.response["Error"]["Code"] == row["code"]
