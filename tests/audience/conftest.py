"""The sending tests' SMTP server and workspace, for the tests of the subscribers' side."""

from tests.export.conftest import mail_server, sending_workspace

__all__ = ["mail_server", "sending_workspace"]
