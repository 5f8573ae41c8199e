"""botocore's `except` clauses catch acmpca's errors (issue 14, gap 1): the same
scripts run through boto3 and acmpca against moto (and a closed port), and
the botocore classes that catch each error, e.response and e.operation_name
must be the same. Also: the default path never imports botocore, and errors
keep their acmpca class, attributes and pickling once botocore's bases are on."""
import os
import pickle
import subprocess
import sys
import textwrap

import pytest

import acmpca
from conftest import CREDS, FAKE_CA_ARN, REGION

boto3 = pytest.importorskip("boto3")
import botocore.exceptions as B  # noqa: E402

# The botocore classes a boto3 code base writes in its except clauses.
CLAUSES = ["ClientError", "BotoCoreError", "ParamValidationError", "NoCredentialsError",
           "NoRegionError", "InvalidRegionError", "ProfileNotFound", "EndpointConnectionError",
           "ConnectTimeoutError", "ReadTimeoutError", "WaiterError",
           "OperationNotPageableError", "InvalidConfigError"]
RUN_SPECIFIC_HEADERS = {"date", "x-amzn-requestid", "content-length", "server",
                        "connection", "content-type"}


def caught_by(exc):
    """The botocore classes whose except clause catches `exc`."""
    return sorted(name for name in CLAUSES if isinstance(exc, getattr(B, name)))


def plain_response(response):
    md = dict(response["ResponseMetadata"])
    md.pop("RequestId")
    md["HTTPHeaders"] = {k: v for k, v in md["HTTPHeaders"].items()
                         if k not in RUN_SPECIFIC_HEADERS}
    return dict(response, ResponseMetadata=md)


def script(make, endpoint, closed_endpoint):
    """What a boto3 user writes; each step's outcome as the except clauses see it."""
    out = {}
    pca = make(endpoint_url=endpoint, region_name=REGION, **CREDS)
    missing = FAKE_CA_ARN % "does-not-exist"
    try:
        pca.describe_certificate_authority(CertificateAuthorityArn=missing)
    except B.ClientError as e:
        out["service"] = (caught_by(e), type(e).__name__, e.operation_name,
                          plain_response(e.response), str(e))
    try:
        pca.describe_certificate_authority()
    except B.ParamValidationError as e:
        out["param"] = (caught_by(e), sorted(e.kwargs))
    try:
        pca.get_paginator("get_certificate")
    except B.OperationNotPageableError as e:
        out["not_pageable"] = (caught_by(e), str(e), e.kwargs)
    dead = make(endpoint_url=closed_endpoint, region_name=REGION, **CREDS)
    try:
        dead.list_certificate_authorities()
    except B.EndpointConnectionError as e:
        out["connect"] = (caught_by(e), sorted(e.kwargs))
    for name, kwargs in (("no_region", {}), ("bad_region", {"region_name": "us east 1"})):
        try:
            make(**kwargs)
        except B.BotoCoreError as e:
            out[name] = caught_by(e)
    return out


def make_boto3(**kwargs):
    # boto3 checks the region when the client is made, as acmpca does.
    return boto3.client("acm-pca", **kwargs)


def make_acmpca(**kwargs):
    return acmpca.client("acm-pca", **kwargs)


def test_boto3_exceptions__botocore_clauses_catch_what_they_catch_for_boto3(
        moto_endpoint, closed_endpoint, monkeypatch):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    theirs = script(make_boto3, moto_endpoint, closed_endpoint)
    ours = script(make_acmpca, moto_endpoint, closed_endpoint)
    assert sorted(ours) == sorted(theirs) == ["bad_region", "connect", "no_region",
                                              "not_pageable", "param", "service"]
    for step in theirs:
        if step == "connect":
            # botocore's kwargs are {"endpoint_url", "error"}; the class set is the same.
            assert ours[step][0] == theirs[step][0], step
            assert ours[step][1] == theirs[step][1] == ["endpoint_url", "error"]
        else:
            assert ours[step] == theirs[step], step
    assert ours["service"][0] == ["ClientError"]
    assert ours["no_region"] == ["BotoCoreError", "NoRegionError"]


def test_boto3_exceptions__profile_not_found_as_boto3(monkeypatch):
    with pytest.raises(B.ProfileNotFound) as theirs:
        boto3.Session(profile_name="acmpca-no-such-profile").client("acm-pca")
    with pytest.raises(B.ProfileNotFound) as ours:
        acmpca.client("acm-pca", region_name=REGION, profile_name="acmpca-no-such-profile")
    assert caught_by(ours.value) == caught_by(theirs.value)
    assert isinstance(ours.value, acmpca.InvalidConfigError)


def test_boto3_exceptions__config_errors_carry_botocore_kwargs(monkeypatch):
    # The region or profile name an except clause reads from e.kwargs, as botocore
    # fills it for the same input (not parsed from acmpca's message).
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    bad = "not a region!"
    with pytest.raises(B.InvalidRegionError) as theirs:
        boto3.client("acm-pca", region_name=bad, **CREDS)
    with pytest.raises(B.InvalidRegionError) as ours:
        acmpca.client("acm-pca", region_name=bad, **CREDS)
    assert ours.value.kwargs == theirs.value.kwargs == {"region_name": bad}
    ghost = "acmpca no such profile"
    with pytest.raises(B.ProfileNotFound) as theirs:
        boto3.Session(profile_name=ghost).client("acm-pca")
    for make in (lambda: acmpca.client("acm-pca", region_name=REGION, profile_name=ghost),
                 lambda: acmpca.Session(profile_name=ghost).client("acm-pca")):
        with pytest.raises(B.ProfileNotFound) as ours:
            make()
        assert ours.value.kwargs == theirs.value.kwargs == {"profile": ghost}
    with pytest.raises(B.NoRegionError) as theirs:
        boto3.client("acm-pca", **CREDS)
    with pytest.raises(B.NoRegionError) as ours:
        acmpca.client("acm-pca", **CREDS)
    assert ours.value.kwargs == theirs.value.kwargs == {}


def test_boto3_exceptions__errors_keep_their_acmpca_class_and_pickle(moto_endpoint):
    pca = make_acmpca(endpoint_url=moto_endpoint, region_name=REGION, **CREDS)
    with pytest.raises(B.ClientError) as info:
        pca.describe_certificate_authority(CertificateAuthorityArn=FAKE_CA_ARN % "gone")
    e = info.value
    assert type(e) is acmpca.ResourceNotFoundException
    assert isinstance(e, pca.exceptions.ResourceNotFoundException)
    again = pickle.loads(pickle.dumps(e))
    assert type(again) is acmpca.ResourceNotFoundException and isinstance(again, B.ClientError)
    assert again.response == e.response and str(again) == str(e)
    assert again.operation_name == "DescribeCertificateAuthority"
    with pytest.raises(B.ParamValidationError) as info:
        pca.describe_certificate_authority()
    again = pickle.loads(pickle.dumps(info.value))
    assert type(again) is acmpca.ParamValidationError
    assert again.kwargs == info.value.kwargs and str(again) == str(info.value)


@pytest.mark.parametrize("name,kwargs", [
    ("NoRegionError", {}),
    ("NoCredentialsError", {}),
    ("InvalidRegionError", {"region_name": "us east 1"}),
    ("ProfileNotFound", {"profile": "p"}),
    ("EndpointConnectionError", {"endpoint_url": "https://x.example"}),
    ("ConnectTimeoutError", {"endpoint_url": "https://x.example"}),
    ("ReadTimeoutError", {"endpoint_url": "https://x.example"}),
    ("ConnectionClosedError", {"endpoint_url": "https://x.example"}),
    ("SSLError", {"endpoint_url": "https://x.example", "error": "bad cert"}),
    ("ParamValidationError", {"report": "Missing required parameter"}),
    ("CredentialRetrievalError", {"provider": "sso", "error_msg": "expired"}),
    ("OperationNotPageableError", {"operation_name": "get_certificate"}),
    ("InvalidConfigError", {"error_msg": "bad"}),
])
def test_boto3_exceptions__keyword_constructors_as_botocore(name, kwargs):
    ours, theirs = getattr(acmpca, name)(**kwargs), getattr(B, name)(**kwargs)
    assert str(ours) == str(theirs) and ours.kwargs == theirs.kwargs == kwargs
    # acmpca's InvalidConfigError is a BotoCoreError only: botocore's NoRegionError and
    # ProfileNotFound (its subclasses here) are not botocore InvalidConfigErrors.
    assert isinstance(ours, B.BotoCoreError if name == "InvalidConfigError" else getattr(B, name))


def test_boto3_exceptions__waiter_error_constructor_as_botocore():
    last = {"Error": {"Code": "X", "Message": "m"}}
    ours = acmpca.WaiterError(name="W", reason="Max attempts exceeded", last_response=last)
    theirs = B.WaiterError(name="W", reason="Max attempts exceeded", last_response=last)
    assert str(ours) == str(theirs) == "Waiter W failed: Max attempts exceeded"
    assert ours.kwargs == theirs.kwargs and ours.last_response is last
    assert acmpca.WaiterError("W", "r", None).reason == "r"


def run_child(code):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(acmpca.__file__))] + sys.path)
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_boto3_exceptions__default_path_never_imports_botocore(closed_endpoint):
    """`import acmpca` and raising its errors (service-side shapes and client-side
    ones) leave botocore unimported, so the default path never pays for it."""
    out = run_child("""
        import sys
        import acmpca
        c = acmpca.client("acm-pca", region_name="us-east-1", endpoint_url=%r,
                          aws_access_key_id="a", aws_secret_access_key="b",
                          config=acmpca.Config(retries={"total_max_attempts": 1}))
        for call in (lambda: c.describe_certificate_authority(),
                     lambda: c.list_certificate_authorities(),
                     lambda: c.get_paginator("get_certificate"),
                     lambda: acmpca.ClientError({"Error": {"Code": "X"}}, "Op")):
            try:
                call()
            except acmpca.Error:
                pass
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("botocore", "boto3")))
        print(acmpca.ClientError.__mro__[2].__module__)
    """ % closed_endpoint)
    assert out.split("\n")[:2] == ["[]", "builtins"]


def test_boto3_exceptions__import_acmpca_boto3_turns_it_on_before_any_error():
    out = run_child("""
        import acmpca, acmpca.boto3, botocore.exceptions as B
        print(issubclass(acmpca.ResourceNotFoundException, B.ClientError),
              issubclass(acmpca.ConnectTimeoutError, B.ConnectTimeoutError),
              issubclass(acmpca.GeneralError, B.BotoCoreError),
              issubclass(acmpca.ClientError, B.BotoCoreError))
    """)
    assert out.split() == ["True", "True", "True", "False"]
