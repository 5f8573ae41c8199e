"""Config(proxies=...): keyed by the endpoint's scheme, "https" or "http" only."""
import acmpca

config = acmpca.Config(proxies={"ftp": "http://proxy.example:3128"})  # E: not a scheme
