"""Foundations: errors, settings, names, paths, times, text, the stored-session model."""
