"""Paginators as botocore's (issue 14, gap 7): the same paginations run
through boto3, acmpca and acmpca.aio against the fixture server (7
permissions, pages of 2) must give the same pages, search() results,
result_keys, resume tokens and build_full_result(); and search() without
jmespath says which package is missing."""
import asyncio
import os
import subprocess
import sys
import textwrap
import uuid

import pytest

import acmpca
import acmpca.aio
from conftest import CREDS, FAKE_CA_ARN, REGION

boto3 = pytest.importorskip("boto3")

CONFIGS = [{"PageSize": 2}, {"PageSize": 2, "MaxItems": 3}, {"PageSize": 2, "MaxItems": 4},
           {"PageSize": 3, "MaxItems": 100}]
EXPRESSIONS = ["Permissions[].Principal", "NextToken", "Permissions[?Principal=='p3.x'].Actions"]


@pytest.fixture(scope="module")
def permissions_ca(fixture_endpoint):
    ca = FAKE_CA_ARN % ("pages-%s" % uuid.uuid4().hex[:8])
    with acmpca.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION,
                       **CREDS) as c:
        for i in range(7):
            c.create_permission(CertificateAuthorityArn=ca, Principal="p%d.x" % i,
                                Actions=["GetCertificate"])
    return ca


def plain(pages):
    return [{k: v for k, v in page.items() if k != "ResponseMetadata"} for page in pages]


def paginate(pca, ca):
    """Everything a boto3 user reads from a paginator, per PaginationConfig."""
    pager = pca.get_paginator("list_permissions")
    out = {"result_keys": [k.expression for k in pager.result_keys]}
    for cfg in CONFIGS:
        # A fresh PageIterator for each use: botocore's can be iterated once only.
        def pages():
            return pager.paginate(CertificateAuthorityArn=ca, PaginationConfig=cfg)
        it = pages()
        seen = {"pages": plain(it), "resume_token": it.resume_token,
                "result_keys": [k.expression for k in it.result_keys],
                "full": pages().build_full_result()}
        for expression in EXPRESSIONS:
            seen[expression] = list(pages().search(expression))
        out[repr(cfg)] = seen
    return out


async def paginate_aio(endpoint, ca):
    async with acmpca.aio.client("acm-pca", endpoint_url=endpoint, region_name=REGION,
                                 **CREDS) as pca:
        pager = pca.get_paginator("list_permissions")
        out = {"result_keys": [k.expression for k in pager.result_keys]}
        for cfg in CONFIGS:
            it = pager.paginate(CertificateAuthorityArn=ca, PaginationConfig=cfg)
            seen = {"pages": plain([p async for p in it]),
                    "resume_token": it.resume_token,
                    "result_keys": [k.expression for k in it.result_keys],
                    "full": await it.build_full_result()}
            for expression in EXPRESSIONS:
                seen[expression] = [x async for x in it.search(expression)]
            out[repr(cfg)] = seen
        return out


def test_boto3_paginators__same_pages_search_tokens_and_full_result(fixture_endpoint,
                                                                     permissions_ca):
    b = boto3.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION, **CREDS)
    theirs = paginate(b, permissions_ca)
    with acmpca.client("acm-pca", endpoint_url=fixture_endpoint, region_name=REGION,
                       **CREDS) as a:
        ours = paginate(a, permissions_ca)
    ours_aio = asyncio.run(paginate_aio(fixture_endpoint, permissions_ca))
    assert ours == theirs
    assert ours_aio == theirs
    # What the comparison covers: a search flattening lists, one yielding non-lists
    # (None on the last page), and a MaxItems stop mid-page leaving NextToken.
    first = theirs[repr(CONFIGS[0])]
    assert first["Permissions[].Principal"] == ["p%d.x" % i for i in range(7)]
    assert first["NextToken"] == ["2", "4", "6", None]
    assert theirs[repr(CONFIGS[1])]["full"]["NextToken"] == theirs[repr(CONFIGS[1])][
        "resume_token"]
    assert theirs["result_keys"] == ["Permissions"]


def test_boto3_paginators__result_keys_search_like_botocores(fixture_client):
    b = boto3.client("acm-pca", region_name=REGION, **CREDS)
    for name in ("list_permissions", "list_tags", "list_certificate_authorities"):
        ours, theirs = (c.get_paginator(name).result_keys for c in (fixture_client, b))
        page = {theirs[0].expression: [1, 2], "Other": 3}
        assert [k.search(page) for k in ours] == [k.search(page) for k in theirs] == [[1, 2]]


def test_boto3_paginators__not_pageable_raises_botocores_error(fixture_client):
    b = boto3.client("acm-pca", region_name=REGION, **CREDS)
    import botocore.exceptions as B

    with pytest.raises(B.OperationNotPageableError) as theirs:
        b.get_paginator("get_certificate")
    with pytest.raises(B.OperationNotPageableError) as ours:
        fixture_client.get_paginator("get_certificate")
    assert str(ours.value) == str(theirs.value) and ours.value.kwargs == theirs.value.kwargs
    assert isinstance(ours.value, ValueError)  # what acmpca raised before


def test_boto3_paginators__can_paginate_as_botocores(fixture_client):
    b = boto3.client("acm-pca", region_name=REGION, **CREDS)
    for c in (b, fixture_client):
        assert c.can_paginate("list_tags") is True
        assert c.can_paginate("get_certificate") is False
        with pytest.raises(KeyError):
            c.can_paginate("no_such_operation")


def test_boto3_paginators__search_without_jmespath_names_the_package(fixture_endpoint,
                                                                     permissions_ca):
    code = textwrap.dedent("""
        import sys
        sys.modules["jmespath"] = None  # as if it were not installed
        import acmpca
        c = acmpca.client("acm-pca", endpoint_url=%r, region_name="us-east-1",
                          aws_access_key_id="a", aws_secret_access_key="b")
        it = c.get_paginator("list_permissions").paginate(CertificateAuthorityArn=%r)
        print([k.expression for k in it.result_keys], [k.search({"Permissions": [1]})
                                                        for k in it.result_keys])
        try:
            it.search("Permissions[].Principal")
        except ImportError as e:
            print(e.name, "|", e)
    """ % (fixture_endpoint, permissions_ca))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(acmpca.__file__))] + sys.path)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "['Permissions'] [[1]]"
    assert lines[1].startswith("jmespath | ") and "pip install jmespath" in lines[1]
