"""A delivery as a ``curl`` command that replays it exactly (headers, body)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from tui.signature import delivery_body

SKIPPED = {"content-length", "host", "accept-encoding", "connection"}


def curl_command(
    url: str, headers: Mapping[str, str] | None, payload: Mapping[str, Any] | None
) -> str:
    """``curl -X POST URL -H ... --data-raw BODY`` on several lines, shell-quoted."""
    lines = [f"curl -sS -X POST {shlex.quote(url)}"]
    for name, value in (headers or {}).items():
        if name.lower() in SKIPPED:
            continue
        lines.append(f"  -H {shlex.quote(f'{name}: {value}')}")
    lines.append(f"  --data-raw {shlex.quote(delivery_body(payload).decode())}")
    return " \\\n".join(lines)
