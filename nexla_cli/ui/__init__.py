"""What is shown: results to stdout, messages to stderr."""
