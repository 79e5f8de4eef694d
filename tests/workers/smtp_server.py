"""A real SMTP server on loopback for the mail tests (aiosmtpd), collecting what it accepts."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Start/stop on a fixed port, so a test can take the server away and bring it back."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.collector = Collector()
        self._controller = None

    @property
    def messages(self):
        return self.collector.messages

    def start(self) -> "SmtpServer":
        self._controller = Controller(self.collector, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
