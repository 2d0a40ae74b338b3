"""``simplyq-emulator listen``: a local receiver that prints each delivery, checks its
signature and answers with a chosen status — the quickest way to see the whole loop."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from emulator.signing import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookVerificationError,
    verify,
)

MAX_BODY = 1024 * 1024


class Listener:
    """A threaded HTTP receiver on 127.0.0.1 that reports every POST to ``out``.

    It answers a POST to any path; ``path`` only shapes ``url``, the address to register.
    """

    def __init__(
        self,
        port: int = 0,
        *,
        status: int = 200,
        secrets: Callable[[], Sequence[str]] | None = None,
        out: TextIO,
        host: str = "127.0.0.1",
        path: str = "/webhook",
    ) -> None:
        self.status = status
        self.secrets = secrets
        self.out = out
        self.count = 0
        self._lock = threading.Lock()
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(min(length, MAX_BODY))
                listener.report(self.path, dict(self.headers.items()), body)
                self.send_response(listener.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}/{path.lstrip('/')}"

    def report(self, path: str, headers: dict[str, str], body: bytes) -> None:
        check = "signature not checked (no secret)"
        if self.secrets is not None:
            try:
                verify(list(self.secrets()), headers, body, tolerance=None)
                check = "signature ok"
            except WebhookVerificationError as error:
                check = f"SIGNATURE INVALID: {error}"
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            shown = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
        except ValueError:
            shown = body.decode("utf-8", "replace")
        with self._lock:
            self.count += 1
            stamp = time.strftime("%H:%M:%S")
            self.out.write(
                f"[{stamp}] POST {path} -> {self.status}  {check}\n"
                f"  {TIMESTAMP_HEADER}: {lowered.get(TIMESTAMP_HEADER.lower(), '-')}\n"
                f"  {SIGNATURE_HEADER}: {lowered.get(SIGNATURE_HEADER.lower(), '-')}\n"
                + "".join(f"  {line}\n" for line in shown.splitlines())
            )
            self.out.flush()

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.2)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
