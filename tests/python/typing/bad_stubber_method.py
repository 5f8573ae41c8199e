"""acmpca.stub: a response stubbed for a method the client does not have."""
import acmpca
from acmpca.stub import Stubber

stubber = Stubber(acmpca.client("acm-pca", region_name="eu-west-1"))
stubber.add_response("get_polcy", {"Policy": "{}"})  # E: not a ClientMethodName
