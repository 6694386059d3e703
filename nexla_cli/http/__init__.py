"""The one place HTTP happens."""
