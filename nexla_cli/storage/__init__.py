"""The credentials file and the OS keyring."""
