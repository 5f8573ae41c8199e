"""client.meta as botocore's ClientMeta: region_name, endpoint_url, partition,
config (the effective settings), service_model, method_to_api_mapping, events.

Loaded the first time a client's .meta is read, never by `import acmpca`.
The service model is the core's own table (acmpca._acmpca._model()): the
same one that validates every call.
"""
import weakref

from . import _acmpca

API_VERSION = "2017-08-22"
_MODEL = None


def _model():
    global _MODEL
    if _MODEL is None:
        _MODEL = _acmpca._model()
    return _MODEL


def partition_of(region):
    """The AWS partition of a region name, as botocore's endpoint data names it."""
    region = region or ""
    for prefix, partition in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"),
                              ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso"),
                              ("eu-isoe-", "aws-iso-e"), ("us-isof-", "aws-iso-f")):
        if region.startswith(prefix):
            return partition
    return "aws"


class OperationNotFoundError(KeyError):
    """service_model.operation_model() of a name ACM PCA does not have (botocore's
    OperationNotFoundError)."""


class Shape:
    """botocore.model.Shape's common fields: name, type_name, members (structures),
    member (lists), key/value (maps), enum, required_members, documentation."""

    def __init__(self, name, spec):
        self.name = name
        self.type_name = spec["type"]
        self._spec = spec
        self.documentation = ""
        self.metadata = {k: spec[k] for k in ("min", "max", "pattern") if k in spec}
        self.enum = list(spec.get("enum", ()))

    @property
    def members(self):
        return {m["name"]: _shape(m["shape"]) for m in self._spec.get("members", ())}

    @property
    def required_members(self):
        return [m["name"] for m in self._spec.get("members", ()) if m["required"]]

    @property
    def member(self):
        return _shape(self._spec["element"]) if "element" in self._spec else None

    @property
    def key(self):
        return _shape(self._spec["key"]) if "key" in self._spec else None

    @property
    def value(self):
        return _shape(self._spec["value"]) if "value" in self._spec else None

    def __repr__(self):
        return "<%s(%s)>" % (type(self).__name__, self.name)


def _shape(name):
    return Shape(name, _model()["shapes"][name]) if name else None


class OperationModel:
    """botocore.model.OperationModel's fields for one operation."""

    def __init__(self, spec, service_model):
        self._spec = spec
        self.name = spec["name"]
        self.service_model = service_model
        self.http = {"method": "POST", "requestUri": "/"}
        self.metadata = service_model.metadata

    @property
    def input_shape(self):
        return _shape(self._spec["input"])

    @property
    def output_shape(self):
        return _shape(self._spec.get("output"))

    @property
    def error_shapes(self):
        return [Shape(code, {"type": "structure"}) for code in self._spec.get("errors", ())]

    @property
    def documentation(self):
        # The method's docstring, generated from the same model (AWS's HTML reference
        # is not shipped).
        return getattr(_acmpca.Client, self._spec["snake_name"]).__doc__

    @property
    def idempotent_members(self):
        shape = _model()["shapes"][self._spec["input"]]
        return [m["name"] for m in shape.get("members", ())
                if m["name"] == "IdempotencyToken"]

    def __repr__(self):
        return "OperationModel(name=%s)" % self.name


class ServiceModel:
    """botocore.model.ServiceModel's fields for ACM PCA."""

    service_name = "acm-pca"
    signing_name = "acm-pca"
    endpoint_prefix = "acm-pca"
    service_id = "ACM PCA"
    api_version = API_VERSION
    protocol = "json"
    metadata = {"apiVersion": API_VERSION, "endpointPrefix": "acm-pca", "jsonVersion": "1.1",
                "protocol": "json", "serviceAbbreviation": "ACM-PCA",
                "serviceFullName": "AWS Certificate Manager Private Certificate Authority",
                "serviceId": "ACM PCA", "signatureVersion": "v4", "signingName": "acm-pca",
                "targetPrefix": "ACMPrivateCA", "uid": "acm-pca-2017-08-22"}
    documentation = ("AWS Private CA (ACM PCA), on acmpca's C core: the model the client "
                     "validates every call against.")

    @property
    def operation_names(self):
        return sorted(op["name"] for op in _model()["operations"])

    @property
    def shape_names(self):
        return sorted(_model()["shapes"])

    @property
    def waiter_names(self):
        return sorted(w["name"] for w in _model()["waiters"])

    def operation_model(self, operation_name):
        for op in _model()["operations"]:
            if op["name"] == operation_name:
                return OperationModel(op, self)
        raise OperationNotFoundError(operation_name)

    def shape_for(self, shape_name):
        if shape_name not in _model()["shapes"]:
            raise KeyError(shape_name)
        return _shape(shape_name)

    def __repr__(self):
        return "ServiceModel(acm-pca)"


def _seconds(value):
    # 10, not 10.0, for whole seconds: botocore's defaults are ints.
    return int(value) if value is not None and float(value).is_integer() else value


def effective_config(args):
    """An acmpca.Config: the user's Config (acmpca's or botocore's) with the settings the
    client resolved from it, the keywords, the environment and the profile."""
    from . import Config

    given = args["config"]
    values = {}
    if given is not None:
        for name in Config._OPTIONS + Config._IGNORED:
            value = getattr(given, name, None)
            if value is not None:
                values[name] = value
    values.update(
        region_name=args["region_name"],
        connect_timeout=_seconds(args["connect_timeout"]),
        read_timeout=_seconds(args["read_timeout"]),
        retries={"mode": args["retry_mode"], "total_max_attempts": args["max_attempts"]},
        max_pool_connections=args["max_pool_connections"],
        max_response_bytes=args["max_response_bytes"],
        total_timeout=_seconds(args["total_timeout"]))
    return Config(**values)


class ClientMeta:
    """botocore.client.ClientMeta for an acmpca client."""

    service_name = "acm-pca"

    def __init__(self, client, args):
        self._args = args
        self._events = None
        # A weak reference: the client holds its meta, and the emitter sets its flag.
        self._client = weakref.ref(client)
        self.region_name = args["region_name"]
        self.endpoint_url = args["endpoint_url"]
        self.partition = partition_of(self.region_name)
        self.config = effective_config(args)
        # What the user passed, for acmpca.aio (which fills its own defaults).
        self._config_given = args["config"]

    @property
    def service_model(self):
        return ServiceModel()

    @property
    def method_to_api_mapping(self):
        return {op["snake_name"]: op["name"] for op in _model()["operations"]}

    @property
    def events(self):
        if self._events is None:
            from ._events import HierarchicalEmitter

            self._events = HierarchicalEmitter(self._client())
        return self._events

    def __repr__(self):
        return "<acmpca ClientMeta region_name=%r endpoint_url=%r>" % (self.region_name,
                                                                       self.endpoint_url)


def _client_meta(client, args):
    return ClientMeta(client, args)
