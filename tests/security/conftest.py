"""The sending fixtures (a real aiosmtpd server, a workspace pointed at it) shared with the
security tests."""

from tests.export.conftest import mail_server, sending_workspace

__all__ = ["mail_server", "sending_workspace"]
