"""acmpca.stub: botocore.stub.Stubber for acmpca clients.

    from acmpca.stub import Stubber, ANY
    pca = acmpca.client("acm-pca", "us-east-1")
    with Stubber(pca) as stubber:
        stubber.add_response("get_certificate", {"Certificate": "...", "CertificateChain": "..."},
                             {"CertificateAuthorityArn": ANY, "CertificateArn": arn})
        pca.get_certificate(CertificateAuthorityArn=ca, CertificateArn=arn)
        stubber.assert_no_pending_responses()

It works as botocore's does, through client.meta.events: a before-parameter-build
handler checks the expected params, a before-call handler returns the queued answer,
so nothing is sent. Params are still validated against the model first; stubbed
responses are validated against the operation's output model when added (a wrong key
or type raises ParamValidationError naming it).
"""
import copy
from collections import deque
from pprint import pformat

from . import _acmpca
from ._events import AWSResponse


class StubResponseError(_acmpca.Error):
    """botocore.exceptions.StubResponseError: the stub queue cannot answer this call."""

    fmt = "Error getting response stub for operation {operation_name}: {reason}"

    def __init__(self, operation_name="", reason=""):
        self.operation_name = operation_name
        self.reason = reason
        self.kwargs = {"operation_name": operation_name, "reason": reason}
        self.message = self.fmt.format(operation_name=operation_name, reason=reason)
        Exception.__init__(self, self.message)

    def __str__(self):
        return self.message


class StubAssertionError(StubResponseError, AssertionError):
    """botocore.exceptions.StubAssertionError: the call's params differ from the expected."""


class UnStubbedResponseError(StubAssertionError):
    """botocore.exceptions.UnStubbedResponseError: a call with no response queued."""


class _ANY:
    """Matches any value in expected_params (botocore.stub.ANY)."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __repr__(self):
        return "<ANY>"


ANY = _ANY()


def _model():
    from ._meta import _model as model

    return model()


_PY_TYPES = {  # what botocore's ParamValidator accepts and names
    "structure": ((dict,), "<class 'dict'>"),
    "map": ((dict,), "<class 'dict'>"),
    "list": ((list, tuple), "<class 'list'>, <class 'tuple'>"),
    "string": ((str,), "<class 'str'>"),
    "blob": ((bytes, bytearray, str), "<class 'bytes'>, <class 'bytearray'>, file-like object"),
    "boolean": ((bool,), "<class 'bool'>"),
    "integer": ((int,), "<class 'int'>"),
    "long": ((int,), "<class 'int'>"),
    "float": ((int, float), "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>"),
    "double": ((int, float), "<class 'float'>, <class 'decimal.Decimal'>, <class 'int'>"),
}


def _join(path, name):
    return "%s.%s" % (path, name) if path else name


def _check(shape_name, value, path, errors):
    # The messages and paths of botocore's ParamValidator ("input" for the top level).
    import datetime

    shown_path = path or "input"
    spec = _model()["shapes"][shape_name]
    kind = spec["type"]
    if kind == "timestamp":
        if not isinstance(value, (datetime.datetime, datetime.date, str, int, float)) \
                or isinstance(value, bool):
            errors.append("Invalid type for parameter %s, value: %r, type: %s, valid types: "
                          "<class 'datetime.datetime'>, timestamp-string"
                          % (shown_path, value, type(value)))
        return
    types, shown = _PY_TYPES.get(kind, ((object,), "object"))
    if not isinstance(value, types) or (kind in ("integer", "long", "float", "double")
                                        and isinstance(value, bool)):
        errors.append("Invalid type for parameter %s, value: %r, type: %s, valid types: %s"
                      % (shown_path, value, type(value), shown))
        return
    # botocore checks the minimum only (lengths of strings and lists, integer values).
    if "min" in spec:
        if kind in ("string", "list") and len(value) < spec["min"]:
            errors.append("Invalid length for parameter %s, value: %d, valid min length: %d"
                          % (shown_path, len(value), spec["min"]))
        elif kind in ("integer", "long") and value < spec["min"]:
            errors.append("Invalid value for parameter %s, value: %d, valid min value: %d"
                          % (shown_path, value, spec["min"]))
    if kind == "structure":
        members = {m["name"]: m for m in spec.get("members", ())}
        for m in members.values():
            if m["required"] and m["name"] not in value:
                errors.append('Missing required parameter in %s: "%s"' % (shown_path, m["name"]))
        for key, item in value.items():
            if key not in members:
                errors.append('Unknown parameter in %s: "%s", must be one of: %s'
                              % (shown_path, key, ", ".join(members)))
            else:
                _check(members[key]["shape"], item, _join(path, key), errors)
    elif kind == "list":
        for i, item in enumerate(value):
            _check(spec["element"], item, "%s[%d]" % (shown_path, i), errors)
    elif kind == "map":
        for key, item in value.items():
            if "key" in spec:
                _check(spec["key"], key, "%s (key)" % shown_path, errors)
            if "value" in spec:
                _check(spec["value"], item, _join(path, key), errors)


def validate_response(shape_name, response):
    """Raise ParamValidationError listing what in `response` does not fit the shape."""
    errors = []
    if shape_name is None:
        if response:
            errors.append("Service response should only contain ResponseMetadata.")
    else:
        _check(shape_name, response, "", errors)
    if errors:
        report = "\n".join(errors)
        error = _acmpca.ParamValidationError("Parameter validation failed:\n" + report)
        try:
            error.kwargs = {"report": report}
        except AttributeError:
            pass
        raise error


class Stubber:
    """Stubber(client): queue responses and errors for an acmpca client's calls, with
    botocore.stub.Stubber's API (add_response, add_client_error, activate,
    deactivate, assert_no_pending_responses, context manager)."""

    def __init__(self, client):
        self.client = client
        self._event_id = "boto_stubber"
        self._expected_params_event_id = "boto_stubber_expected_params"
        self._queue = deque()

    def __enter__(self):
        self.activate()
        return self

    def __exit__(self, exception_type, exception_value, traceback):
        self.deactivate()

    def activate(self):
        """Answer the client's calls from the queue."""
        events = self.client.meta.events
        events.register_first("before-parameter-build.*.*", self._assert_expected_params,
                              unique_id=self._expected_params_event_id)
        events.register("before-call.*.*", self._get_response_handler,
                        unique_id=self._event_id)

    def deactivate(self):
        """Send the client's calls to the service again."""
        events = self.client.meta.events
        events.unregister("before-parameter-build.*.*", self._assert_expected_params,
                          unique_id=self._expected_params_event_id)
        events.unregister("before-call.*.*", self._get_response_handler,
                          unique_id=self._event_id)

    def _operation_name(self, method):
        if not hasattr(self.client, method) or \
                method not in self.client.meta.method_to_api_mapping:
            raise ValueError("Client %s does not have method: %s"
                             % (self.client.meta.service_model.service_name, method))
        return self.client.meta.method_to_api_mapping[method]

    def add_response(self, method, service_response, expected_params=None):
        """Queue `service_response` as the answer to the next call, which must be
        `method` (with `expected_params`, when given; ANY matches any value)."""
        operation_name = self._operation_name(method)
        response = service_response
        if "ResponseMetadata" in response:
            response = copy.copy(service_response)
            del response["ResponseMetadata"]
        op = self.client.meta.service_model.operation_model(operation_name)
        validate_response(op._spec.get("output"), response)
        http_response = AWSResponse(None, 200, {}, None)
        self._queue.append({"operation_name": operation_name,
                            "response": (http_response, service_response),
                            "expected_params": expected_params})

    def add_client_error(self, method, service_error_code="", service_message="",
                         http_status_code=400, service_error_meta=None, expected_params=None,
                         response_meta=None, modeled_fields=None):
        """Queue a service error as the answer to the next call, which must be `method`:
        it raises the ClientError subclass for `service_error_code`, as botocore's."""
        operation_name = self._operation_name(method)
        http_response = AWSResponse(None, http_status_code, {}, None)
        parsed = {"ResponseMetadata": {"HTTPStatusCode": http_status_code},
                  "Error": {"Message": service_message, "Code": service_error_code}}
        if service_error_meta is not None:
            parsed["Error"].update(service_error_meta)
        if response_meta is not None:
            parsed["ResponseMetadata"].update(response_meta)
        if modeled_fields is not None:
            # ACM PCA's errors model only Message: nothing else may be given.
            extra = sorted(set(modeled_fields) - {"Message"})
            if extra:
                validate_response(None, {k: modeled_fields[k] for k in extra})
            parsed.update(modeled_fields)
        self._queue.append({"operation_name": operation_name,
                            "response": (http_response, parsed),
                            "expected_params": expected_params})

    def assert_no_pending_responses(self):
        """AssertionError when queued responses were not used."""
        remaining = len(self._queue)
        if remaining != 0:
            raise AssertionError("%d responses remaining in queue." % remaining)

    def _assert_expected_call_order(self, model, params):
        if not self._queue:
            raise UnStubbedResponseError(
                operation_name=model.name,
                reason="Unexpected API Call: A call was made but no additional calls expected. "
                       "Either the API Call was not stubbed or it was called multiple times.")
        name = self._queue[0]["operation_name"]
        if name != model.name:
            raise StubResponseError(operation_name=model.name,
                                    reason="Operation mismatch: found response for %s." % name)

    def _get_response_handler(self, model, params, context, **kwargs):
        self._assert_expected_call_order(model, params)
        return self._queue.popleft()["response"]

    def _assert_expected_params(self, model, params, context, **kwargs):
        if context and context.get("is_presign_request"):
            return
        self._assert_expected_call_order(model, params)
        expected = self._queue[0]["expected_params"]
        if expected is None:
            return
        for param, value in expected.items():
            if param not in params or expected[param] != params[param]:
                raise StubAssertionError(
                    operation_name=model.name,
                    reason="Expected parameters:\n%s,\nbut received:\n%s"
                           % (pformat(expected), pformat(params)))
        if sorted(expected.keys()) != sorted(params.keys()):
            raise StubAssertionError(
                operation_name=model.name,
                reason="Expected parameters:\n%s,\nbut received:\n%s"
                       % (pformat(expected), pformat(params)))
