"""Local receivers started by the notification tests: an HTTP server and an SMTP server on
127.0.0.1, each recording what arrived and de-duplicating by the idempotency key."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    raw: list[tuple[dict[str, str], bytes]] = field(default_factory=list)  # every arrival
    statuses: list[int] = field(default_factory=list)  # answers to give first (then 200)
    on_arrival: Callable[[], None] | None = None  # runs once a message is kept, before the answer
    lock: threading.Lock = field(default_factory=threading.Lock)

    def unique(self, key: str) -> dict[str, bytes]:
        """What a de-duplicating receiver keeps: the first arrival per idempotency key."""
        kept: dict[str, bytes] = {}
        for headers, body in self.raw:
            kept.setdefault(headers[key], body)
        return kept


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[int]:
    """Serve on a thread until the block ends; the port it listens on."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]  # type: ignore[attr-defined]  # a TCP server's (host, port)
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def http_receiver() -> Iterator[tuple[str, Received]]:
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with received.lock:
                status = received.statuses.pop(0) if received.statuses else 200
                if status == 200:
                    received.raw.append(({k: v for k, v in self.headers.items()}, body))
                    if received.on_arrival is not None:
                        received.on_arrival()
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # quiet in the test output
            pass

    with serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler)) as port:
        yield f"http://127.0.0.1:{port}/hook", received


@contextmanager
def smtp_receiver() -> Iterator[tuple[int, list[Message]]]:
    """Just enough SMTP for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""
    messages: list[Message] = []

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            self.reply("220 test ESMTP")
            while line := self.rfile.readline():
                verb = line.decode().strip().split(" ", 1)[0].upper()
                if verb == "DATA":
                    self.reply("354 go on")
                    data = b""
                    while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    messages.append(message_from_bytes(data))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("250 ok")

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True  # a client left open never holds the test up

    with serving(Server(("127.0.0.1", 0), Handler)) as port:
        yield port, messages
