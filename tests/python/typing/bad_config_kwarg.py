"""A misspelt Config keyword: Config takes no **kwargs."""
import acmpca

config = acmpca.Config(conect_timeout=5)  # E: no such keyword
