"""nexla: sign in to Nexla environments and keep session tokens alive."""

__version__ = "0.1.0"
