"""How long the objects that reach the C core live: a Client is initialised once,
waiters, paginators and page iterators keep their Client alive and refuse to work on a
closed one, and every such object is a GC type, so reference cycles through them are
collected (security review: a re-initialised client left a page iterator on freed
memory; a config referring back to its client kept it forever)."""
import gc
import weakref

import pytest

import acmpca
from conftest import CREDS, FAKE_CA_ARN, REGION, make_client

CA = FAKE_CA_ARN % "lifetime"


def collected(ref):
    for _ in range(3):
        gc.collect()
    return ref() is None


@pytest.mark.smoke
def test_client__reinit_is_refused_and_iterators_stay_valid(fault):
    fault.script([{"action": "ok", "body": {"Tags": [{"Key": "a"}], "NextToken": "t2"}},
                  {"action": "ok", "body": {"Tags": [{"Key": "b"}]}}])
    c = make_client(fault.endpoint)
    pages = iter(c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA))
    waiter = c.get_waiter("certificate_issued")
    first = next(pages)  # a core paginator now exists, pointing at the core client
    try:
        c.__init__(region_name=REGION, endpoint_url=fault.endpoint, **CREDS)
        refused = None
    except acmpca.GeneralError as e:
        refused = e
    # Fetch the second page either way: had the core client been replaced, this would
    # run on freed memory (valgrind_smoke.sh runs this test under memcheck).
    second = next(pages)
    assert [t["Key"] for t in first["Tags"] + second["Tags"]] == ["a", "b"]
    assert fault.received()[1]["body"]["NextToken"] == "t2"
    assert refused is not None and "already initialised" in str(refused)
    assert c.meta.endpoint_url == fault.endpoint and not c.closed
    c.close()
    with pytest.raises(acmpca.GeneralError, match="already initialised"):
        c.__init__(region_name=REGION, endpoint_url=fault.endpoint, **CREDS)
    with pytest.raises(acmpca.GeneralError, match="closed"):
        next(iter(c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA)))
    with pytest.raises(acmpca.GeneralError, match="closed"):
        waiter.wait(CertificateAuthorityArn=CA, CertificateArn=CA)


def test_client__failed_init_can_be_retried(scripted):
    c = acmpca.Client.__new__(acmpca.Client)
    with pytest.raises(acmpca.InvalidConfigError):
        c.__init__(region_name=REGION, endpoint_url=scripted.endpoint, read_timeout=-1, **CREDS)
    c.__init__(region_name=REGION, endpoint_url=scripted.endpoint, **CREDS)
    assert c.list_tags(CertificateAuthorityArn=CA)["ResponseMetadata"]["HTTPStatusCode"] == 200
    c.close()


def test_client__uninitialised_refuses_calls():
    c = acmpca.Client.__new__(acmpca.Client)
    with pytest.raises(acmpca.GeneralError, match="not initialised"):
        c.list_tags(CertificateAuthorityArn=CA)
    with pytest.raises(acmpca.GeneralError, match="not initialised"):
        next(iter(c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA)))


@pytest.mark.smoke
def test_pages__after_close_raise_closed_error(scripted):
    c = make_client(scripted.endpoint)
    pages = c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA)
    it = iter(pages)
    next(it)  # a core paginator now exists and points at the core client
    c.close()
    for _ in range(2):
        with pytest.raises(acmpca.GeneralError, match="closed"):
            next(it)
    with pytest.raises(acmpca.GeneralError, match="closed"):
        pages.build_full_result()
    with pytest.raises(acmpca.GeneralError, match="closed"):
        c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA).build_full_result()


@pytest.mark.smoke
def test_pages__keep_their_client_alive(scripted):
    c = make_client(scripted.endpoint)
    ref = weakref.ref(c)
    pages = c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA)
    waiter = c.get_waiter("certificate_issued")
    paginator = c.get_paginator("list_permissions")
    del c
    assert not collected(ref)
    assert [p["ResponseMetadata"]["HTTPStatusCode"] for p in pages] == [200]
    del pages
    assert not collected(ref)  # the waiter and the paginator still hold it
    del waiter
    assert not collected(ref)
    assert list(paginator.paginate(CertificateAuthorityArn=CA))
    del paginator
    assert collected(ref)


class Holder(acmpca.Client):
    """A subclass, so instances have a __dict__ to close a cycle through."""


@pytest.mark.smoke
@pytest.mark.parametrize("how", ["config", "config_pages", "subclass_waiter",
                                 "subclass_paginator", "subclass_pages"])
def test_gc__client_in_a_reference_cycle_is_collected(scripted, how):
    cfg = acmpca.Config(read_timeout=5)
    cls = Holder if how.startswith("subclass") else acmpca.Client
    c = cls(region_name=REGION, endpoint_url=scripted.endpoint, config=cfg, **CREDS)
    ref = weakref.ref(c)
    if how == "config":
        cfg.owner = c                                   # client -> meta -> config -> client
    elif how == "config_pages":
        cfg.pages = c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA)
        next(iter(cfg.pages))                           # ... -> page iterator -> client
    elif how == "subclass_waiter":
        c.waiter = c.get_waiter("certificate_issued")   # client -> __dict__ -> waiter -> client
    elif how == "subclass_paginator":
        c.paginator = c.get_paginator("list_tags")
    else:
        c.pages = c.get_paginator("list_tags").paginate(CertificateAuthorityArn=CA)
        next(iter(c.pages))
    del c, cfg
    assert collected(ref)


def hook(client):
    return lambda: client.list_tags(CertificateAuthorityArn=CA)


def test_gc__callback_closing_over_the_client_is_collected(scripted):
    # A user's hook kept on the config (botocore keeps event handlers the same way).
    cfg = acmpca.Config()
    c = make_client(scripted.endpoint, config=cfg)
    ref = weakref.ref(c)
    cfg.on_call = hook(c)
    cfg.on_call()
    del c, cfg
    assert collected(ref)
