"""The constructor, Config, Session and timestamps side by side with boto3: the
same arguments, in boto3's positional order, make the same client; what acmpca
cannot honour is refused with an error naming it."""
import datetime
import json
import os

import pytest

import acmpca
from conftest import CREDS, FAKE_CA_ARN, REGION

boto3 = pytest.importorskip("boto3")
botocore_config = pytest.importorskip("botocore.config")

CA = FAKE_CA_ARN % "11111111-2222-3333-4444-555555555555"
KEYS = ("testing", "testing")


def test_client__positional_order_is_boto3s(scripted):
    # service_name, region_name, api_version, use_ssl, verify, endpoint_url, keys, token, config
    args = ("acm-pca", "eu-west-1", "2017-08-22", True, None, scripted.endpoint) + KEYS
    ours, theirs = acmpca.client(*args), boto3.client(*args)
    assert (ours.meta.region_name, ours.meta.endpoint_url) == \
        (theirs.meta.region_name, theirs.meta.endpoint_url) == ("eu-west-1", scripted.endpoint)
    assert ours.list_tags(CertificateAuthorityArn=CA)["ResponseMetadata"]["HTTPStatusCode"] == 200
    cfg = acmpca.Config(read_timeout=3)
    c = acmpca.Client("acm-pca", "eu-west-1", None, None, None, scripted.endpoint, *KEYS, None,
                      cfg)
    assert c.meta.config.read_timeout == 3


def test_client__api_version_other_than_2017_08_22_is_refused():
    with pytest.raises(acmpca.InvalidConfigError, match="api_version.*2017-08-22.*'2017-08-23'"):
        acmpca.client("acm-pca", "us-east-1", "2017-08-23", **dict(zip(
            ("aws_access_key_id", "aws_secret_access_key"), KEYS)))
    # The old mistake: an API version taken as an endpoint.
    c = acmpca.client("acm-pca", "us-east-1", "2017-08-22", aws_access_key_id="a",
                      aws_secret_access_key="b")
    assert c.meta.endpoint_url == "https://acm-pca.us-east-1.amazonaws.com"


def test_client__use_ssl_false_means_http_for_the_resolved_endpoint_as_botocore():
    for region in ("us-east-1", "cn-north-1"):
        ours = acmpca.client("acm-pca", region, None, False, aws_access_key_id="a",
                             aws_secret_access_key="b")
        theirs = boto3.client("acm-pca", region, None, False, aws_access_key_id="a",
                              aws_secret_access_key="b")
        assert ours.meta.endpoint_url == theirs.meta.endpoint_url
        assert ours.meta.endpoint_url.startswith("http://")


def test_client__use_ssl_false_keeps_an_explicit_endpoint(scripted):
    https = "https://127.0.0.1:1"
    assert acmpca.client("acm-pca", REGION, use_ssl=False, endpoint_url=https,
                         **CREDS).meta.endpoint_url == https
    with pytest.raises(acmpca.InvalidConfigError, match="use_ssl: expected a bool"):
        acmpca.client("acm-pca", REGION, use_ssl="no", **CREDS)


def test_client__refuses_another_service_and_bad_argument_lists():
    with pytest.raises(ValueError, match="service_name.*'s3'"):
        acmpca.client("s3", "us-east-1")
    with pytest.raises(ValueError, match="positional arguments follow boto3"):
        acmpca.Client("eu-west-1")
    with pytest.raises(TypeError, match="at most 10 positional"):
        acmpca.client(*([None] * 11))
    with pytest.raises(TypeError, match="unexpected keyword argument 'region'"):
        acmpca.client(region="eu-west-1")
    with pytest.raises(TypeError, match="multiple values for argument 'region_name'"):
        acmpca.client("acm-pca", "eu-west-1", region_name="eu-west-2")


def test_client__keyword_only_options_still_work(scripted):
    c = acmpca.client(region_name=REGION, endpoint_url=scripted.endpoint, read_timeout=4,
                      max_pool_connections=3, profile_name=None, **CREDS)
    assert (c.meta.config.read_timeout, c.meta.config.max_pool_connections) == (4, 3)


def test_config__accepted_botocore_options(scripted):
    cfg = acmpca.Config(tcp_keepalive=True, parameter_validation=False, user_agent_extra="a/1",
                        connect_timeout=2, read_timeout=3, max_pool_connections=5,
                        retries={"mode": "standard", "max_attempts": 1})
    c = acmpca.client("acm-pca", REGION, endpoint_url=scripted.endpoint, config=cfg, **CREDS)
    scripted.clear()
    c.list_tags(CertificateAuthorityArn=CA)
    assert scripted.requests[-1]["headers"]["user-agent"].endswith("a/1")
    assert c.meta.config.retries == {"mode": "standard", "total_max_attempts": 2}
    # parameter_validation=False does not switch the core's validation off.
    with pytest.raises(acmpca.ParamValidationError):
        c.list_tags(CertificateAuthorityArn=CA, MaxResults="x")


def test_config__merge_matches_botocore():
    a = dict(connect_timeout=1, read_timeout=2, retries={"mode": "standard"})
    b = dict(read_timeout=9, user_agent_extra="x")
    ours = acmpca.Config(**a).merge(acmpca.Config(**b))
    theirs = botocore_config.Config(**a).merge(botocore_config.Config(**b))
    for name in ("connect_timeout", "read_timeout", "retries", "user_agent_extra"):
        assert getattr(ours, name) == getattr(theirs, name), name


def test_config__botocore_config_is_read_too(scripted):
    cfg = botocore_config.Config(region_name="eu-west-3", read_timeout=4, connect_timeout=2,
                                 retries={"total_max_attempts": 1}, max_pool_connections=6)
    c = acmpca.client("acm-pca", endpoint_url=scripted.endpoint, config=cfg, **CREDS)
    eff = c.meta.config
    assert (eff.region_name, eff.read_timeout, eff.connect_timeout, eff.max_pool_connections) \
        == ("eu-west-3", 4, 2, 6)
    assert eff.retries["total_max_attempts"] == 1


# ---- Session ------------------------------------------------------------------------------

def test_session__client_takes_the_session_defaults(scripted):
    ours = acmpca.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                          region_name="eu-west-2")
    theirs = boto3.session.Session(aws_access_key_id="testing",
                                   aws_secret_access_key="testing", region_name="eu-west-2")
    assert ours.region_name == theirs.region_name == "eu-west-2"
    assert ours.profile_name == theirs.profile_name == "default"
    a = ours.client("acm-pca", endpoint_url=scripted.endpoint)
    b = theirs.client("acm-pca", endpoint_url=scripted.endpoint)
    assert a.meta.region_name == b.meta.region_name == "eu-west-2"
    assert a.list_tags(CertificateAuthorityArn=CA)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert ours.client("acm-pca", "us-west-2").meta.region_name == "us-west-2"
    assert ours.get_available_services() == ["acm-pca"]


def _vendored_endpoints():
    path = os.path.join(os.path.dirname(__file__), "..", "..", "core", "model",
                        "endpoints-acm-pca.json")
    with open(path) as f:
        return json.load(f)


def test_session__available_regions_and_partitions_match_boto3():
    """From the endpoint data the core carries: botocore's lists (the same ones with the
    botocore release the data came from; an older botocore knows fewer regions)."""
    import botocore
    ours, theirs = acmpca.Session(), boto3.session.Session()
    same = "botocore %s's" % botocore.__version__ in _vendored_endpoints()["about"]
    assert set(theirs.get_available_partitions()) <= set(ours.get_available_partitions())
    if same:
        assert ours.get_available_partitions() == theirs.get_available_partitions()
    for partition in ours.get_available_partitions() + ["no-such-partition"]:
        for non_regional in (False, True):
            mine = ours.get_available_regions("acm-pca", partition, non_regional)
            boto = theirs.get_available_regions("acm-pca", partition, non_regional)
            assert set(boto) <= set(mine), partition
            if same:
                assert mine == boto, partition
    assert "eu-west-1" in ours.get_available_regions("acm-pca")
    assert "fips-us-east-1" in ours.get_available_regions("acm-pca", allow_non_regional=True)
    assert "fips-us-east-1" not in ours.get_available_regions("acm-pca")
    assert ours.get_available_regions("acm-pca", partition_name="aws-cn") == [
        "cn-north-1", "cn-northwest-1"]


def test_session__profile_region_and_keys(tmp_path, monkeypatch, scripted):
    (tmp_path / "config").write_text("[profile dev]\nregion = ap-south-1\n")
    (tmp_path / "credentials").write_text("[dev]\naws_access_key_id = testing\n"
                                          "aws_secret_access_key = testing\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    ours, theirs = acmpca.Session(profile_name="dev"), boto3.session.Session(profile_name="dev")
    assert ours.profile_name == theirs.profile_name == "dev"
    assert ours.region_name == theirs.region_name == "ap-south-1"
    assert sorted(ours.available_profiles) == sorted(theirs.available_profiles)
    c = ours.client("acm-pca", endpoint_url=scripted.endpoint)
    assert c.meta.region_name == "ap-south-1"
    assert c.credentials_source() == "shared-credentials-file"
    c.list_tags(CertificateAuthorityArn=CA)  # signed with the profile's keys


def test_session__refuses_what_it_cannot_be():
    with pytest.raises(acmpca.InvalidConfigError, match="botocore_session"):
        acmpca.Session(botocore_session=object())
    with pytest.raises(ValueError, match="'s3'"):
        acmpca.Session(region_name="us-east-1").client("s3")
    with pytest.raises(acmpca.InvalidConfigError, match="resource"):
        acmpca.Session().resource("acm-pca")


# ---- timestamps ---------------------------------------------------------------------------

def test_timestamps__same_instant_as_boto3_in_utc_not_tzlocal(moto_endpoint):
    """botocore parses epoch timestamps with dateutil's tzlocal(); acmpca returns the same
    instant as an aware datetime in UTC (no dateutil import). Both compare equal, sort
    together and give the same .astimezone() and .timestamp()."""
    args = dict(CREDS, region_name=REGION, endpoint_url=moto_endpoint)
    ours, theirs = acmpca.client("acm-pca", **args), boto3.client("acm-pca", **args)
    arn = ours.create_certificate_authority(
        CertificateAuthorityConfiguration={"KeyAlgorithm": "EC_prime256v1",
                                           "SigningAlgorithm": "SHA256WITHECDSA",
                                           "Subject": {"CommonName": "time"}},
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    a = ours.describe_certificate_authority(CertificateAuthorityArn=arn)["CertificateAuthority"]
    b = theirs.describe_certificate_authority(
        CertificateAuthorityArn=arn)["CertificateAuthority"]
    for key in ("CreatedAt", "LastStateChangeAt"):
        if key not in b:
            continue
        x, y = a[key], b[key]
        assert x == y and x.timestamp() == y.timestamp()
        assert x.astimezone() == y.astimezone()
        assert x.tzinfo is datetime.timezone.utc
        assert type(y.tzinfo).__name__ == "tzlocal"
