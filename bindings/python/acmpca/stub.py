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
responses are validated by the core against the operation's output model when added
(a wrong key or type raises ParamValidationError naming its path, as for params).
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


def validate_response(operation_name, response):
    """Raise ParamValidationError naming what in `response` does not fit the output
    model of `operation_name` (None: an error's extra fields, which nothing models)."""
    if operation_name is not None:
        _acmpca._validate_output(operation_name, response)
    elif response:
        report = "Service response should only contain ResponseMetadata."
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
        validate_response(operation_name, response)
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
