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
    """botocore.awsrequest.AWSResponse's fields: url, status_code, headers, content, raw.
    content is b"" for answers the C path parsed (it keeps no copy of the body)."""

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


def _api_call(client, operation_name, params):
    """One call with events, as botocore.client.BaseClient._make_api_call emits them."""
    meta = client.meta
    emitter = meta.events
    model = meta.service_model.operation_model(operation_name)
    suffix = "%s.%s" % (SERVICE_ID, operation_name)
    context = {"client_region": meta.region_name, "client_config": meta.config,
               "has_streaming_input": False, "auth_type": None}
    for _, response in emitter.emit("provide-client-params." + suffix, params=params,
                                    model=model, context=context):
        if response is not None:
            params = response
            break
    emitter.emit("before-parameter-build." + suffix, params=params, model=model,
                 context=context)
    # Validated and serialized before before-call, as botocore does: a stubbed call with
    # bad params fails as a real one would.
    method, url, headers, body = client._send_hooked(operation_name, params, None, None, None,
                                                     True)
    request_dict = {"url_path": "/", "query_string": "", "method": method,
                    "headers": dict(headers), "body": body, "url": url, "context": context}
    _, response = emitter.emit_until_response(
        "before-call." + suffix, model=model, params=request_dict, request_signer=None,
        context=context)
    if response is not None:
        http, parsed = response
        emitter.emit("after-call." + suffix, http_response=http, parsed=parsed, model=model,
                     context=context)
        if getattr(http, "status_code", 200) >= 300:
            raise _error_class(client, parsed)(parsed, operation_name)
        return parsed

    def sign(attempt, request):
        method, url, headers, body = request
        shown = [(k, v) for k, v in headers if k.lower() not in _SIGNATURE_HEADERS]
        req = AWSRequest(method, url, shown, body, context)
        emitter.emit("request-created." + suffix, request=req, operation_name=operation_name)
        emitter.emit("before-sign." + suffix, request=req, signing_name=SERVICE_ID,
                     region_name=meta.region_name, signature_version="v4",
                     request_signer=None, operation_name=operation_name)
        before = dict((k.lower(), v) for k, v in shown)
        added = {k: v for k, v in dict.items(req.headers) if before.get(k.lower()) != v}
        return added or None

    def send(attempt, request):
        # As botocore's prepared request: header values are bytes.
        method, url, headers, body = request
        req = AWSRequest(method, url, [(k, v.encode()) for k, v in headers], body, context)
        _, answer = emitter.emit_until_response("before-send." + suffix, request=req)
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

    def retry(attempt, exc):
        # An attempt that failed and will be retried: a service error as botocore passes
        # it, (http_response, parsed); no answer at all as caught_exception.
        answer = getattr(exc, "response", None)
        status = ((answer or {}).get("ResponseMetadata") or {}).get("HTTPStatusCode")
        response = None
        if answer and status:
            response = (AWSResponse(url, status, (answer.get("ResponseMetadata") or {})
                                    .get("HTTPHeaders", {})), answer)
        emitter.emit("needs-retry." + suffix, response=response, endpoint=None,
                     operation=model, attempts=attempt,
                     caught_exception=None if response else exc, request_dict=request_dict)

    has = emitter.has_handlers
    status, headers, parsed, exc = client._send_hooked(
        operation_name, params,
        sign if has("before-sign." + suffix) or has("request-created." + suffix) else None,
        send if has("before-send." + suffix) else None,
        retry if has("needs-retry." + suffix) else None)
    # The last attempt's needs-retry (the C loop emitted the earlier, failed ones).
    http = AWSResponse(url, status, headers) if status is not None else None
    if has("needs-retry." + suffix):
        attempts = 1 + ((parsed or {}).get("ResponseMetadata") or {}).get("RetryAttempts", 0)
        answered = http is not None and isinstance(parsed, dict)
        emitter.emit("needs-retry." + suffix, response=(http, parsed) if answered else None,
                     endpoint=None, operation=model, attempts=attempts,
                     caught_exception=None if answered else exc, request_dict=request_dict)
    if http is None:
        emitter.emit("after-call-error." + suffix, exception=exc, context=context)
        raise exc
    emitter.emit("after-call." + suffix, http_response=http, parsed=parsed, model=model,
                 context=context)
    if exc is not None:
        raise exc
    return parsed
