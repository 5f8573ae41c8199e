"""client.meta.events: botocore's event system for the names instrumentation uses.

Loaded only when client.meta.events is first touched. While no handler is
registered, calls take the C path unchanged (the emitter clears the client's
hooked flag); with one, a call runs through _api_call() below, which emits
botocore's events around the C call machine:

    provide-client-params.acm-pca.<Op>   params, model, context
    before-parameter-build.acm-pca.<Op>  params, model, context
    before-call.acm-pca.<Op>             model, params (the request dict), request_signer,
                                         context; a non-None return (http_response, parsed)
                                         is the answer, nothing is sent (Stubber relies on it)
    request-created.acm-pca.<Op>,
    before-sign.acm-pca.<Op>             request (unsigned; headers added are signed),
                                         operation_name, signing_name, region_name, ...
    before-send.acm-pca.<Op>             request (signed); a non-None return (an object with
                                         status_code, headers, content) is the answer
    needs-retry.acm-pca.<Op>             observed: attempts, caught_exception or response;
                                         the return value is ignored (the core retries as
                                         Config(retries=...) says)
    after-call.acm-pca.<Op>              http_response, parsed, model, context
    after-call-error.acm-pca.<Op>        exception, context (no HTTP answer)

Names match hierarchically as botocore's HierarchicalEmitter does: a handler for
"before-call" sees every operation's, "before-call.acm-pca.*" too, and "*" stands
for one dotted part.
"""
import weakref

SERVICE_ID = "acm-pca"
_SIGNATURE_HEADERS = frozenset(("authorization", "x-amz-date", "x-amz-security-token",
                                "x-amz-content-sha256"))


class _NodeList:
    __slots__ = ("first", "middle", "last")

    def __init__(self):
        self.first, self.middle, self.last = [], [], []

    def __iter__(self):
        return iter(self.first + self.middle + self.last)


class _PrefixTrie:
    """botocore.hooks._PrefixTrie: handlers by dotted prefix, '*' for one part."""

    def __init__(self):
        self._root = {"chunk": None, "children": {}, "values": None}

    def append_item(self, key, value, section="middle"):
        current = self._root
        for part in key.split("."):
            current = current["children"].setdefault(
                part, {"chunk": part, "values": None, "children": {}})
        if current["values"] is None:
            current["values"] = _NodeList()
        getattr(current["values"], section).append(value)

    def prefix_search(self, key):
        # Most specific first, as botocore: deeper nodes' handlers come before the root's.
        collected = []
        parts = key.split(".")
        stack = [(self._root, 0)]
        while stack:
            node, index = stack.pop()
            if node["values"]:
                collected[:0] = list(node["values"])
            if index != len(parts):
                children = node["children"]
                direct, wildcard = children.get(parts[index]), children.get("*")
                if wildcard is not None:
                    stack.append((wildcard, index + 1))
                if direct is not None:
                    stack.append((direct, index + 1))
        return collected

    def remove_item(self, key, value):
        node = self._root
        for part in key.split("."):
            node = node["children"].get(part)
            if node is None:
                return
        if node["values"] is not None:
            for section in (node["values"].first, node["values"].middle, node["values"].last):
                if value in section:
                    section.remove(value)
                    return


def _check_accepts_kwargs(handler):
    # botocore refuses, at register time, a handler that cannot take **kwargs: later
    # botocore versions add keyword arguments to every event.
    import inspect

    if not callable(handler):
        raise ValueError("Event handler %r must be callable." % (handler,))
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return
    if not any(p.kind == p.VAR_KEYWORD for p in params):
        raise ValueError("Event handler %r must accept keyword arguments (**kwargs)"
                         % (handler,))


class HierarchicalEmitter:
    """botocore.hooks.HierarchicalEmitter for one acmpca client: register,
    register_first, register_last, unregister, emit, emit_until_response."""

    def __init__(self, client=None):
        self._handlers = _PrefixTrie()
        self._unique_id_handlers = {}
        self._count = 0
        self._client = weakref.ref(client) if client is not None else None

    def _changed(self, delta):
        self._count += delta
        client = self._client() if self._client is not None else None
        if client is not None:
            client._set_hooked(self._count > 0)

    def register(self, event_name, handler, unique_id=None, unique_id_uses_count=False):
        self._register(event_name, handler, unique_id, unique_id_uses_count, "middle")

    def register_first(self, event_name, handler, unique_id=None, unique_id_uses_count=False):
        self._register(event_name, handler, unique_id, unique_id_uses_count, "first")

    def register_last(self, event_name, handler, unique_id=None, unique_id_uses_count=False):
        self._register(event_name, handler, unique_id, unique_id_uses_count, "last")

    def _register(self, event_name, handler, unique_id, unique_id_uses_count, section):
        _check_accepts_kwargs(handler)
        if unique_id is not None:
            if unique_id in self._unique_id_handlers:
                entry = self._unique_id_handlers[unique_id]
                if entry.get("count") is None and unique_id_uses_count:
                    raise ValueError("Initial registration of unique id %s was specified to "
                                     "not use a counter. Subsequent registrations cannot use "
                                     "a counter." % unique_id)
                if entry.get("count") is not None and not unique_id_uses_count:
                    raise ValueError("Initial registration of unique id %s was specified to "
                                     "use a counter. Subsequent registrations must use a "
                                     "counter." % unique_id)
                if unique_id_uses_count:
                    entry["count"] += 1
                return
            self._unique_id_handlers[unique_id] = {
                "handler": handler, "count": 1 if unique_id_uses_count else None}
        self._handlers.append_item(event_name, handler, section)
        self._changed(+1)

    def unregister(self, event_name, handler=None, unique_id=None, unique_id_uses_count=False):
        if unique_id is not None:
            entry = self._unique_id_handlers.get(unique_id)
            if entry is None:
                return
            if unique_id_uses_count:
                if entry["count"] is None:
                    raise ValueError("Initial registration of unique id %s was specified to "
                                     "not use a counter." % unique_id)
                entry["count"] -= 1
                if entry["count"] > 0:
                    return
            handler = self._unique_id_handlers.pop(unique_id)["handler"]
        before = len(self._handlers.prefix_search(event_name))
        self._handlers.remove_item(event_name, handler)
        if len(self._handlers.prefix_search(event_name)) < before:
            self._changed(-1)

    def has_handlers(self, event_name):
        return bool(self._handlers.prefix_search(event_name))

    def _emit(self, event_name, kwargs, stop_on_response=False):
        responses = []
        kwargs["event_name"] = event_name
        for handler in self._handlers.prefix_search(event_name):
            response = handler(**kwargs)
            responses.append((handler, response))
            if stop_on_response and response is not None:
                return responses
        return responses

    def emit(self, event_name, **kwargs):
        return self._emit(event_name, kwargs)

    def emit_until_response(self, event_name, **kwargs):
        responses = self._emit(event_name, kwargs, stop_on_response=True)
        return responses[-1] if responses else (None, None)


class HTTPHeaders(dict):
    """Headers with case-insensitive lookups (botocore's HTTPHeaders is a
    case-insensitive mapping too)."""

    def _find(self, name):
        lower = name.lower()
        for key in dict.keys(self):
            if key.lower() == lower:
                return key
        return None

    def __getitem__(self, name):
        key = self._find(name)
        if key is None:
            raise KeyError(name)
        return dict.__getitem__(self, key)

    def __setitem__(self, name, value):
        key = self._find(name)
        if key is not None:
            dict.__delitem__(self, key)
        dict.__setitem__(self, name, value)

    def __delitem__(self, name):
        key = self._find(name)
        if key is None:
            raise KeyError(name)
        dict.__delitem__(self, key)

    def __contains__(self, name):
        return self._find(name) is not None

    def get(self, name, default=None):
        key = self._find(name)
        return default if key is None else dict.__getitem__(self, key)

    def add_header(self, name, value):
        self[name] = value


class AWSRequest:
    """The request a before-sign / before-send handler sees: method, url,
    headers (add to them before signing), body, context, stream_output."""

    def __init__(self, method, url, headers, body, context=None):
        self.method = method
        self.url = url
        self.headers = HTTPHeaders(headers)
        self.body = body
        self.data = body
        self.context = context if context is not None else {}
        self.stream_output = False
        self.params = {}
        self.auth_path = None

    def prepare(self):
        return self

    def __repr__(self):
        return "<AWSRequest method=%s, url=%s>" % (self.method, self.url)


class AWSResponse:
    """botocore.awsrequest.AWSResponse's fields: url, status_code, headers, content (the
    body's bytes), raw."""

    def __init__(self, url, status_code, headers, content=b"", raw=None):
        self.url = url
        self.status_code = status_code
        self.headers = HTTPHeaders(headers or {})
        self.content = content
        self.raw = raw

    @property
    def text(self):
        return (self.content or b"").decode("utf-8", "replace")

    def __repr__(self):
        return "<AWSResponse status_code=%s>" % (self.status_code,)


def _wire_json(parsed):
    """A parsed result back in its wire form (for a paginator's hooked pages): epoch
    seconds for datetimes, base64 for bytes, no ResponseMetadata."""
    import base64
    import datetime
    import json

    def wire(v):
        if isinstance(v, datetime.datetime):
            return v.timestamp()
        if isinstance(v, (bytes, bytearray)):
            return base64.b64encode(v).decode()
        raise TypeError("%s is not a value of the model" % type(v).__name__)

    return json.dumps({k: v for k, v in parsed.items() if k != "ResponseMetadata"},
                      default=wire)


def _error_class(client, parsed):
    code = ((parsed or {}).get("Error") or {}).get("Code", "")
    return getattr(client.exceptions, code, None) or client.exceptions.ClientError


# ---- one call's events, written once for both clients -------------------------------------
#
# Each phase of a call is a generator that yields (event_name, kwargs, until_response) for
# every emit and is sent the handlers' [(handler, response), ...]. _drive() runs a phase with
# plain calls (the blocking client); _adrive() awaits the handlers' coroutines as aiobotocore
# does (acmpca.aio). The events, their arguments and their order are thus the same for both.

def _drive(emitter, phase):
    try:
        want = next(phase)
        while True:
            name, kwargs, until = want
            want = phase.send(emitter._emit(name, kwargs, until))
    except StopIteration as e:
        return e.value


async def _adrive(emitter, phase):
    import inspect

    try:
        want = next(phase)
        while True:
            name, kwargs, until = want
            kwargs["event_name"] = name
            responses = []
            for handler in emitter._handlers.prefix_search(name):
                response = handler(**kwargs)
                if inspect.isawaitable(response):
                    response = await response
                responses.append((handler, response))
                if until and response is not None:
                    break
            want = phase.send(responses)
    except StopIteration as e:
        return e.value


def _answer(responses):
    return responses[-1][1] if responses else None


class _Call:
    """The events of one call of `client` (the blocking client; acmpca.aio's wraps one),
    as botocore.client.BaseClient._make_api_call emits them."""

    def __init__(self, client, operation_name):
        meta = client.meta
        self.client = client
        self.operation_name = operation_name
        self.emitter = meta.events
        self.region_name = meta.region_name
        self.model = meta.service_model.operation_model(operation_name)
        self.suffix = "%s.%s" % (SERVICE_ID, operation_name)
        self.context = {"client_region": meta.region_name, "client_config": meta.config,
                        "has_streaming_input": False, "auth_type": None}
        self.params = self.request_dict = self.url = None

    def wants(self, *events):
        return any(self.emitter.has_handlers("%s.%s" % (e, self.suffix)) for e in events)

    def begin(self, params):
        """Phase 1: params, validation, before-call. Returns (True, parsed) when a
        before-call handler answered, else (False, None) and the call goes on."""
        suffix, model, context = self.suffix, self.model, self.context
        for _, response in (yield ("provide-client-params." + suffix,
                                   dict(params=params, model=model, context=context), False)):
            if response is not None:
                params = response
                break
        yield ("before-parameter-build." + suffix,
               dict(params=params, model=model, context=context), False)
        self.params = params
        # Validated and serialized before before-call, as botocore does: a stubbed call with
        # bad params fails as a real one would.
        method, url, headers, body = self.client._send_hooked(self.operation_name, params,
                                                              None, None, None, True)
        self.url = url
        self.request_dict = {"url_path": "/", "query_string": "", "method": method,
                             "headers": dict(headers), "body": body, "url": url,
                             "context": context}
        response = _answer((yield ("before-call." + suffix,
                                   dict(model=model, params=self.request_dict,
                                        request_signer=None, context=context), True)))
        if response is None:
            return False, None
        http, parsed = response
        yield ("after-call." + suffix,
               dict(http_response=http, parsed=parsed, model=model, context=context), False)
        if getattr(http, "status_code", 200) >= 300:
            raise _error_class(self.client, parsed)(parsed, self.operation_name)
        return True, parsed

    def sign(self, attempt, request):
        """Before each signature: request-created, before-sign. Returns the headers the
        handlers added ({name: value}) or None."""
        method, url, headers, body = request
        shown = [(k, v) for k, v in headers if k.lower() not in _SIGNATURE_HEADERS]
        req = AWSRequest(method, url, shown, body, self.context)
        yield ("request-created." + self.suffix,
               dict(request=req, operation_name=self.operation_name), False)
        yield ("before-sign." + self.suffix,
               dict(request=req, signing_name=SERVICE_ID, region_name=self.region_name,
                    signature_version="v4", request_signer=None,
                    operation_name=self.operation_name), False)
        before = dict((k.lower(), v) for k, v in shown)
        added = {k: v for k, v in dict.items(req.headers) if before.get(k.lower()) != v}
        return added or None

    def send(self, attempt, request):
        """before-send. Returns (answer, headers): answer (status, {name: value}, body) when
        a handler answered, else None and the headers added (unsigned) or None."""
        # As botocore's prepared request: header values are bytes.
        method, url, headers, body = request
        req = AWSRequest(method, url, [(k, v.encode()) for k, v in headers], body,
                         self.context)
        answer = _answer((yield ("before-send." + self.suffix, dict(request=req), True)))
        if answer is None:
            before = dict((k.lower(), v) for k, v in headers)
            added = {}
            for k, v in dict.items(req.headers):
                v = v.decode() if isinstance(v, bytes) else str(v)
                if before.get(k.lower()) != v:
                    added[k] = v
            return None, added or None
        content = answer.content if answer.content is not None else b""
        return ((answer.status_code,
                 {k: v.decode() if isinstance(v, bytes) else str(v)
                  for k, v in dict(answer.headers).items()},
                 content if isinstance(content, bytes) else str(content).encode()), None)

    def retry(self, attempt, exc):
        """needs-retry for an attempt that failed and will be retried: a service error as
        botocore passes it, (http_response, parsed); no answer at all as caught_exception."""
        answer = getattr(exc, "response", None)
        status = ((answer or {}).get("ResponseMetadata") or {}).get("HTTPStatusCode")
        response = None
        if answer and status:
            response = (AWSResponse(self.url, status, (answer.get("ResponseMetadata") or {})
                                    .get("HTTPHeaders", {})), answer)
        yield ("needs-retry." + self.suffix,
               dict(response=response, endpoint=None, operation=self.model, attempts=attempt,
                    caught_exception=None if response else exc,
                    request_dict=self.request_dict), False)

    def end(self, status, headers, body, parsed, exc):
        """The last attempt's needs-retry, then after-call (an answer came) or
        after-call-error (none did). Returns parsed, or raises exc."""
        http = AWSResponse(self.url, status, headers, body or b"") if status is not None \
            else None
        if self.wants("needs-retry"):
            attempts = 1 + ((parsed or {}).get("ResponseMetadata") or {}).get("RetryAttempts", 0)
            answered = http is not None and isinstance(parsed, dict)
            yield ("needs-retry." + self.suffix,
                   dict(response=(http, parsed) if answered else None, endpoint=None,
                        operation=self.model, attempts=attempts,
                        caught_exception=None if answered else exc,
                        request_dict=self.request_dict), False)
        if http is None:
            yield ("after-call-error." + self.suffix, dict(exception=exc, context=self.context),
                   False)
            raise exc
        yield ("after-call." + self.suffix,
               dict(http_response=http, parsed=parsed, model=self.model, context=self.context),
               False)
        if exc is not None:
            raise exc
        return parsed


def _api_call(client, operation_name, params):
    """One call of the blocking client with events: the C call machine runs the attempts
    (client._send_hooked), calling the phases' hooks between its steps."""
    call = _Call(client, operation_name)
    emitter = call.emitter
    answered, parsed = _drive(emitter, call.begin(params))
    if answered:
        return parsed
    status, headers, parsed, exc, body = client._send_hooked(
        operation_name, call.params,
        (lambda attempt, request: _drive(emitter, call.sign(attempt, request)))
        if call.wants("before-sign", "request-created") else None,
        (lambda attempt, request: _drive(emitter, call.send(attempt, request)))
        if call.wants("before-send") else None,
        (lambda attempt, exc: _drive(emitter, call.retry(attempt, exc)))
        if call.wants("needs-retry") else None)
    return _drive(emitter, call.end(status, headers, body, parsed, exc))
