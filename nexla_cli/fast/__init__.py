"""Answers that must not import Typer, requests or rich."""
