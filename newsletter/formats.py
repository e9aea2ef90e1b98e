"""The formats sources come in, each read by its reader in newsletter/ingest/ (a module of its
own, so that the CLI's option lists cost no import of the records in model.py)."""

FORMATS = ("listing", "feed", "html", "csv", "json")
