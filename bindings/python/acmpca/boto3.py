"""acmpca.boto3 - the explicit switch to botocore-compatible exceptions.

    import acmpca.boto3   # one line, anywhere before the errors are raised

From then on every error acmpca raises also inherits botocore's class of the
same meaning, so a code base's existing clauses catch it:

    except botocore.exceptions.ClientError as e:        # any service error
        e.response["Error"]["Code"], e.operation_name
    except botocore.exceptions.WaiterError as e:        # e.last_response, e.kwargs["reason"]
    except botocore.exceptions.ParamValidationError as e:
    except botocore.exceptions.BotoCoreError:           # any client-side error

acmpca does the same by itself on the first error raised once
botocore.exceptions is loaded (see acmpca._compat), so code that already
imports botocore needs no switch at all; this import makes it happen at once,
before any error. Without botocore, it fails with an ImportError naming it.
The plain `import acmpca` never imports botocore.
"""
try:
    import botocore.exceptions as exceptions  # noqa: F401  (the switch itself)
except ImportError as e:
    raise ImportError("acmpca.boto3 makes acmpca's errors inherit botocore's classes, and "
                      "needs the botocore package (pip install botocore)",
                      name="botocore") from e

from ._compat import enable  # noqa: E402

enable()

__all__ = ["exceptions"]
