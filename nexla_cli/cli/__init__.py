"""The Typer app, its commands and shell completion."""
