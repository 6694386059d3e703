"""The version of nexla-auth-cli: here, below every layer, so that the HTTP client's
User-Agent and `nexla --version` read it without importing the package root (which hands out
the Python API, docs/python.md)."""

__version__ = "0.1.0"
