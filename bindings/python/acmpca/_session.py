"""acmpca.Session: boto3.session.Session's constructor and .client() for acm-pca.

A session only remembers defaults (keys, region, profile) and hands them to
each client it makes; resolution (environment, profile files, credential
chain) happens in the core when a client is made, as for acmpca.client().
Loaded on first use of acmpca.Session.
"""
import os

from . import Client, _acmpca

SERVICE = "acm-pca"


class Session:
    """Session(aws_access_key_id=None, aws_secret_access_key=None,
    aws_session_token=None, region_name=None, botocore_session=None,
    profile_name=None, aws_account_id=None)

    boto3.session.Session for the acm-pca service: .client("acm-pca", ...) makes an
    acmpca.Client with the session's keys, region and profile unless the call gives its
    own. botocore_session is refused (there is no botocore underneath)."""

    def __init__(self, aws_access_key_id=None, aws_secret_access_key=None,
                 aws_session_token=None, region_name=None, botocore_session=None,
                 profile_name=None, aws_account_id=None):
        if botocore_session is not None:
            raise _acmpca.InvalidConfigError(
                "botocore_session: not supported; acmpca resolves credentials and "
                "configuration in its C core (pass keys, region_name or profile_name)")
        self._keys = {"aws_access_key_id": aws_access_key_id,
                      "aws_secret_access_key": aws_secret_access_key,
                      "aws_session_token": aws_session_token}
        self._region = region_name
        self._profile = profile_name
        self._account_id = aws_account_id

    @property
    def profile_name(self):
        """The profile the session's clients use: the one given, else AWS_PROFILE /
        AWS_DEFAULT_PROFILE, else "default" (as boto3)."""
        return (self._profile or os.environ.get("AWS_PROFILE")
                or os.environ.get("AWS_DEFAULT_PROFILE") or "default")

    @property
    def region_name(self):
        """The region the session's clients use: the one given, else what the environment
        and the profile say (as boto3), else None."""
        if self._region:
            return self._region
        try:
            # The core resolves the region without any I/O beyond the profile files.
            probe = Client(endpoint_url="http://127.0.0.1:9", profile_name=self._profile,
                           aws_access_key_id="probe", aws_secret_access_key="probe")
        except _acmpca.Error:
            return None
        try:
            return probe.meta.region_name
        finally:
            probe.close()

    @property
    def available_profiles(self):
        """Profile names in the shared config and credentials files."""
        import configparser

        names = set()
        for var, default, prefixed in (("AWS_CONFIG_FILE", "~/.aws/config", True),
                                       ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials",
                                        False)):
            parser = configparser.RawConfigParser()
            try:
                parser.read(os.path.expanduser(os.environ.get(var, default)))
            except configparser.Error:
                continue
            for section in parser.sections():
                if prefixed and section.startswith("profile "):
                    names.add(section[len("profile "):].strip())
                elif prefixed and section != "default":
                    continue
                else:
                    names.add(section.strip())
        return sorted(names)

    def get_available_services(self):
        """The services this session's clients speak: ["acm-pca"]."""
        return [SERVICE]

    def get_available_partitions(self):
        """The AWS partitions the core's endpoint rules know, as botocore lists them."""
        return list(_acmpca._endpoints()[0])

    def get_available_regions(self, service_name, partition_name="aws",
                              allow_non_regional=False):
        """The regions where `service_name` is offered in `partition_name` (the endpoint
        data the core carries, from the SDKs' endpoints.json), as botocore's: [] for a
        partition or a service it does not know; allow_non_regional adds the endpoint
        names that are not regions (fips-*)."""
        if service_name != SERVICE:
            return []
        return [region for partition, region, non_regional in _acmpca._endpoints()[1]
                if partition == partition_name and (allow_non_regional or not non_regional)]

    def client(self, service_name, region_name=None, api_version=None, use_ssl=True,
               verify=None, endpoint_url=None, aws_access_key_id=None,
               aws_secret_access_key=None, aws_session_token=None, config=None,
               aws_account_id=None, **acmpca_options):
        """An acmpca.Client, as boto3.session.Session.client(): arguments given here win
        over the session's."""
        keys = {"aws_access_key_id": aws_access_key_id,
                "aws_secret_access_key": aws_secret_access_key,
                "aws_session_token": aws_session_token}
        if not any(keys.values()):
            keys = self._keys
        if self._profile is not None:
            acmpca_options.setdefault("profile_name", self._profile)
        return Client(service_name, region_name or self._region, api_version, use_ssl, verify,
                      endpoint_url, keys["aws_access_key_id"], keys["aws_secret_access_key"],
                      keys["aws_session_token"], config, **acmpca_options)

    def resource(self, service_name, *args, **kwargs):
        raise _acmpca.InvalidConfigError(
            "resource(%r): ACM PCA has no boto3 resource interface; use client()"
            % (service_name,))

    def __repr__(self):
        return "Session(region_name=%r)" % (self._region,)
