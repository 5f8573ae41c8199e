"""acmpca._compat - what makes acmpca behave as botocore where botocore's
behaviour is the contract: exception classes that botocore's `except`
clauses catch, botocore's waiter loop and reasons, and PageIterator.search()
/ result_keys. Imported lazily (by the C extension: on the first wait(),
search() or result_keys, or on an error raised while botocore is loaded),
never by `import acmpca`.

Exceptions. `except` matches by inheritance, so catching acmpca's errors with
`except botocore.exceptions.ClientError` needs acmpca's classes to inherit
botocore's. Inheriting them from the start would import botocore (~25-30 ms,
more than acmpca's whole cold start) in every process. Instead, the extension
asks at each raise whether botocore.exceptions is already in sys.modules (code
that names botocore.exceptions.X in an `except` clause has imported it, and so
has `import acmpca.boto3`), and only then calls enable(), which adds
botocore's class of the same meaning to the bases of each of acmpca's classes,
once, in place. In place rather than through subclasses raised instead: the
error keeps its class (`type(e) is acmpca.ResourceNotFoundException`, `except
acmpca.X`, `except client.exceptions.X`, pickling are all unchanged), and an
error raised anywhere (by the extension or from Python) is covered once
enabled. acmpca's own methods (__init__, __reduce__, the attributes) come first
in every class's MRO, botocore's after them. The default path pays one
dictionary lookup per raise.
"""
import sys
import time

from . import _acmpca

# acmpca's class -> botocore.exceptions' class of the same meaning, parents
# before their subclasses (the service errors inherit ClientError's).
_BOTOCORE_NAMES = (
    ("ClientError", "ClientError"),
    ("ParamValidationError", "ParamValidationError"),
    ("NoCredentialsError", "NoCredentialsError"),
    ("CredentialRetrievalError", "CredentialRetrievalError"),
    # BotoCoreError, not botocore's InvalidConfigError: botocore's NoRegionError and
    # ProfileNotFound are not InvalidConfigErrors, and ours are subclasses.
    ("InvalidConfigError", "BotoCoreError"),
    ("NoRegionError", "NoRegionError"),
    ("InvalidRegionError", "InvalidRegionError"),
    ("ProfileNotFound", "ProfileNotFound"),
    ("EndpointConnectionError", "EndpointConnectionError"),
    ("ConnectTimeoutError", "ConnectTimeoutError"),
    ("SSLError", "SSLError"),
    ("ConnectionClosedError", "ConnectionClosedError"),
    ("ReadTimeoutError", "ReadTimeoutError"),
    ("WaiterError", "WaiterError"),
    ("OperationNotPageableError", "OperationNotPageableError"),
    # No botocore class of that meaning: every client-side botocore error is one.
    ("ResponseParserError", "BotoCoreError"),
    ("CryptoError", "BotoCoreError"),
    ("GeneralError", "BotoCoreError"),
)

_enabled = False


def enable():
    """Make acmpca's exception classes inherit botocore's (imports
    botocore.exceptions; done once, then a no-op). True when done."""
    global _enabled
    if _enabled:
        return True
    import botocore.exceptions

    for name, botocore_name in _BOTOCORE_NAMES:
        cls = getattr(_acmpca, name)
        base = getattr(botocore.exceptions, botocore_name)
        if issubclass(cls, base):
            continue
        bases = cls.__bases__
        # Right after acmpca's own base, so acmpca's methods keep coming first;
        # at the end when the MRO (or a builtin base's layout) wants it there.
        for candidate in ((bases[0], base) + bases[1:], bases + (base,)):
            try:
                cls.__bases__ = candidate
                break
            except TypeError:
                continue
        else:
            raise TypeError("acmpca.%s cannot inherit botocore.exceptions.%s"
                            % (name, botocore_name))
    _enabled = True
    return True


def error_class(cls):
    """`cls`, after enable() when botocore.exceptions is loaded: for the errors
    acmpca raises from Python."""
    if not _enabled and "botocore.exceptions" in sys.modules:
        enable()
    return cls


# ---- waiters: botocore.waiter.Waiter.wait, over acmpca's client methods ------------

def _explanation(acceptor):
    """botocore's AcceptorConfig.explanation."""
    if acceptor.matcher == "path":
        return 'For expression "%s" we matched expected path: "%s"' % (acceptor.argument,
                                                                        acceptor.expected)
    if acceptor.matcher == "error":
        return "Matched expected service error code: %s" % (acceptor.expected,)
    return 'No explanation for unknown waiter type: "%s"' % acceptor.matcher


def _is_error(response):
    error = response.get("Error")
    return isinstance(error, dict) and "Code" in error


class _Waiting:
    """One wait() run: told each poll's answer, it says whether the wait is over
    (True), goes on (False), or raises WaiterError, with botocore's reasons."""

    def __init__(self, waiter, max_attempts):
        self.waiter = waiter
        self.name = waiter.name
        self.acceptors = waiter.config.acceptors
        self.max_attempts = max_attempts
        self.attempts = 0
        self.state = "waiting"
        self.last_matched = None

    def _fail(self, reason, response, error, state=None):
        exc = error_class(_acmpca.WaiterError)(self.name, reason, response)
        # acmpca's attributes, from the service's error when one ended the wait.
        exc.state = state
        if error is not None:
            for name in ("code", "operation_name", "http_status", "request_id"):
                setattr(exc, name, getattr(error, name, None))
        raise exc from error

    def done(self, response, error):
        self.attempts += 1
        # The core matches (the acceptors are its table); botocore's loop explains an
        # unmatched poll with the last acceptor, so that one stands in then.
        index = self.waiter._match(response)
        acceptor = self.acceptors[index] if index >= 0 else (
            self.acceptors[-1] if self.acceptors else None)
        if index >= 0:
            self.last_matched = acceptor
            self.state = acceptor.state
        else:
            if _is_error(response):
                self._fail("An error occurred (%s): %s" % (
                    response["Error"].get("Code", "Unknown"),
                    response["Error"].get("Message", "Unknown")), response, error)
        if self.state == "success":
            return True
        if self.state == "failure":
            self._fail("Waiter encountered a terminal failure state: %s"
                       % _explanation(acceptor), response, error,
                       "%s=%s" % (acceptor.argument, acceptor.expected)
                       if acceptor.matcher == "path" else acceptor.expected)
        if self.attempts >= self.max_attempts:
            # botocore explains the acceptor its loop ended on, as here.
            if self.last_matched is None:
                reason = "Max attempts exceeded"
            else:
                reason = ("Max attempts exceeded. Previously accepted state: %s"
                          % _explanation(acceptor))
            self._fail(reason, response, error, "max_attempts")
        return False

    def log_pause(self, delay):
        if "logging" in sys.modules:
            logger = sys.modules["logging"].getLogger("acmpca")
            if logger.isEnabledFor(10):
                logger.debug("waiter %s: attempt %d did not succeed, next in %.3g s",
                             self.name, self.attempts, delay)


def _sleep(seconds):
    # In slices, so that a signal landing on another thread is still seen soon.
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return
        time.sleep(min(left, 0.05))


def wait(waiter, method, prepared):
    """Waiter.wait(): poll `method` (the client's operation) as botocore does."""
    wait_for(waiter, method, prepared)


def wait_for(waiter, method, prepared):
    """wait(), returning the last poll's answer."""
    kwargs, delay, max_attempts = prepared
    waiting = _Waiting(waiter, max_attempts)
    while True:
        try:
            response, error = method(**kwargs), None
        except _acmpca.ClientError as e:
            response, error = e.response, e
        if waiting.done(response, error):
            return response
        waiting.log_pause(delay)
        _sleep(delay)


def _parser_error(message, operation):
    e = error_class(_acmpca.ResponseParserError)(message)
    e.message = message
    e.operation_name = operation
    return e


def _request_flow(client, plan):  # client: the blocking one (its waiter)
    """request_certificate()'s calls while an event handler is registered, for the
    blocking and the asyncio client alike: yields (method name, kwargs) for each call,
    ("wait", (waiter, prepared)) for the certificate_issued polls, and is sent each
    answer; returns the result. The same steps as the core's request_certificate
    machine, which the clients drive when no handler is registered: a machine's
    sub-calls cannot be seen, changed or answered by handlers (before-call may answer
    a call, as the Stubber does; a handler may change its parameters), so here each
    is a call of the client's method."""
    ca = plan["CertificateAuthorityArn"]
    algorithm = plan["SigningAlgorithm"]
    if algorithm is None:
        described = yield "describe_certificate_authority", {"CertificateAuthorityArn": ca}
        algorithm = (described.get("CertificateAuthority", {})
                     .get("CertificateAuthorityConfiguration", {}).get("SigningAlgorithm"))
        if not algorithm:
            raise _parser_error("DescribeCertificateAuthority returned no SigningAlgorithm",
                                "DescribeCertificateAuthority")
    issue = {"CertificateAuthorityArn": ca, "Csr": plan["Csr"], "SigningAlgorithm": algorithm,
             "Validity": {"Value": plan["ValidityDays"], "Type": "DAYS"}}
    if plan["TemplateArn"] is not None:
        issue["TemplateArn"] = plan["TemplateArn"]
    arn = (yield "issue_certificate", issue).get("CertificateArn")
    if not arn:
        raise _parser_error("IssueCertificate returned no ARN", "IssueCertificate")
    config = {}
    if plan["WaitDelay"] is not None:
        config["Delay"] = plan["WaitDelay"]
    if plan["WaitMaxAttempts"] is not None:
        config["MaxAttempts"] = plan["WaitMaxAttempts"]
    waiter = client.get_waiter("certificate_issued")
    last = yield "wait", (waiter, waiter._prepare(CertificateAuthorityArn=ca, CertificateArn=arn,
                                                  WaiterConfig=config))
    if last.get("Certificate") is None:
        raise _parser_error("GetCertificate returned no Certificate", "GetCertificate")
    return {"CertificateArn": arn, "Certificate": last["Certificate"],
            "CertificateChain": last.get("CertificateChain") or "",
            "PrivateKey": plan["PrivateKey"], "Csr": plan["Csr"]}


def request_certificate(client, *args, **kwargs):
    """client.request_certificate() while an event handler is registered (see
    _request_flow): each call made through the client's methods so that the handlers
    see it, the certificate_issued polls included."""
    flow = _request_flow(client, _acmpca._request_plan(*args, **kwargs))
    answer = None
    while True:
        try:
            name, call = flow.send(answer)
        except StopIteration as done:
            return done.value
        if name == "wait":
            answer = wait_for(call[0], client.get_certificate, call[1])
        else:
            answer = getattr(client, name)(**call)


async def request_certificate_async(client, *args, **kwargs):
    """request_certificate() for acmpca.aio while an event handler is registered."""
    flow = _request_flow(client._sync, _acmpca._request_plan(*args, **kwargs))
    answer = None
    while True:
        try:
            name, call = flow.send(answer)
        except StopIteration as done:
            return done.value
        if name == "wait":
            answer = await wait_async(call[0], client.get_certificate, call[1])
        else:
            answer = await getattr(client, name)(**call)


async def wait_async(waiter, method, prepared):
    """wait() for acmpca.aio: `method` is the asyncio client's operation. Returns the
    last poll's answer (request_certificate() wants the certificate)."""
    import asyncio

    kwargs, delay, max_attempts = prepared
    waiting = _Waiting(waiter, max_attempts)
    while True:
        try:
            response, error = await method(**kwargs), None
        except _acmpca.ClientError as e:
            response, error = e.response, e
        if waiting.done(response, error):
            return response
        waiting.log_pause(delay)
        await asyncio.sleep(delay)


# ---- paginators: botocore's PageIterator.search and result_keys ---------------------

def _jmespath():
    try:
        import jmespath
    except ImportError:
        raise ImportError("PageIterator.search() needs the jmespath package "
                          "(pip install jmespath)", name="jmespath") from None
    return jmespath


class _Key:
    """A top-level member as botocore's result_keys hold it (a jmespath
    ParsedResult), for when jmespath is not installed."""

    def __init__(self, expression):
        self.expression = expression

    def search(self, value):
        return value.get(self.expression) if isinstance(value, dict) else None

    def __eq__(self, other):
        return getattr(other, "expression", None) == self.expression

    __hash__ = None

    def __repr__(self):
        return "ParsedResult(expression=%r)" % self.expression


def result_keys(key):
    try:
        import jmespath
    except ImportError:
        return [_Key(key)]
    return [jmespath.compile(key)]


def search(pages, expression):
    """PageIterator.search(): each page searched with the expression; list
    results are yielded item by item, anything else as it is (botocore's)."""
    compile_ = _jmespath().compile

    def run():
        compiled = compile_(expression)
        for page in pages:
            results = compiled.search(page)
            if isinstance(results, list):
                yield from results
            else:
                yield results

    return run()


def search_async(pages, expression):
    """search() over acmpca.aio's PageIterator: an async generator."""
    compile_ = _jmespath().compile

    async def run():
        compiled = compile_(expression)
        async for page in pages:
            results = compiled.search(page)
            if isinstance(results, list):
                for item in results:
                    yield item
            else:
                yield results

    return run()
