"""The control API's change stream, read in a background thread, for the security tests."""

from __future__ import annotations

import threading

import httpx


class Stream:
    """Collects the control API's change stream in a thread until closed (``key``: the
    bearer key to send)."""

    def __init__(self, url: str, key: str | None = None) -> None:
        self.text: list[str] = []
        self._stop = threading.Event()
        headers = {} if key is None else {"Authorization": f"Bearer {key}"}
        self._client = httpx.Client(timeout=httpx.Timeout(30, read=0.5), headers=headers)
        self._url = url
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._connected = threading.Event()
        self._thread.start()
        assert self._connected.wait(10), "the stream did not connect"

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                with self._client.stream("GET", self._url) as response:
                    for line in response.iter_lines():
                        self._connected.set()
                        self.text.append(line)
                        if self._stop.is_set():
                            return
            except httpx.ReadTimeout:
                continue
            except httpx.HTTPError:
                return

    def close(self) -> str:
        self._stop.set()
        self._thread.join(10)
        self._client.close()
        return "\n".join(self.text)
