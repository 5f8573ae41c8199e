"""Config(proxies=...): the client refuses it (its proxy comes from HTTPS_PROXY)."""
import acmpca

config = acmpca.Config(proxies={"https": "http://proxy.example:3128"})  # E: refused at run time
