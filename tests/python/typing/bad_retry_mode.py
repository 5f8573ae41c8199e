"""A typo in Config(retries={"mode": ...})."""
import acmpca

config = acmpca.Config(retries={"mode": "adaptative", "max_attempts": 3})  # E: not a RetryModeType
