"""The sending tests' SMTP server and workspace, for the review's tests."""

from tests.export.conftest import mail_server, sending_workspace

__all__ = ["mail_server", "sending_workspace"]
