"""newsletter: build an organisation's email newsletter from the items it publishes."""

__version__ = "0.1.0"
