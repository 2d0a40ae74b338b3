"""The attempts of the selected event: one row per HTTP try, to every endpoint."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from emulator.client import ATTEMPT_STATUS_NAMES, TRIGGER_TYPE_NAMES
from tui.format import (
    MARKS,
    clock_time,
    code_style,
    duration,
    http_code,
    latency,
)
from tui.records import FAIL, PENDING, AttemptInfo, EventInfo

COLUMNS = ("#", "ENDPOINT", "STATUS", "HTTP", "LATENCY", "TRIGGER", "ATTEMPTED", "NEXT TRY")


class AttemptTable(DataTable[Text]):
    """Rows of ``AttemptInfo`` keyed by attempt id; the cursor stays on its attempt."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, tz: tzinfo | None = None, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.tz = tz
        self.event: EventInfo | None = None
        self._ids: list[str] = []
        self._chosen: str | None = None
        self._rebuilding = False

    def on_mount(self) -> None:
        for name in COLUMNS:
            self.add_column(name, key=name)

    @property
    def current(self) -> AttemptInfo | None:
        """The attempt under the cursor."""
        if self.event is None or not self._ids or not 0 <= self.cursor_row < len(self._ids):
            return None
        return self.event.attempts.get(self._ids[self.cursor_row])

    def show(self, event: EventInfo | None, now: float | None) -> None:
        """Show ``event``'s attempts (None: nothing); ``now`` is the emulator's time.

        The cursor stays on the attempt the user chose; until they choose, it is on the
        event's most recent failure, else on its latest attempt.
        """
        if event is not self.event:
            self._chosen = None
        self.event = event
        attempts = event.sorted_attempts() if event is not None else []
        self._ids = [a.id for a in attempts]
        self._rebuilding = True
        try:
            self.clear()
            for attempt in attempts:
                self.add_row(*self._cells(attempt, now), key=attempt.id)
            if not attempts:
                return
            if self._chosen in self._ids:
                row = self._ids.index(self._chosen)
            else:
                failed = [i for i, a in enumerate(attempts) if a.status == FAIL]
                row = failed[-1] if failed else len(attempts) - 1
            self.move_cursor(row=row, animate=False)
        finally:
            self._rebuilding = False

    def select_attempt(self, attempt_id: str) -> None:
        """Put the cursor on an attempt (as if the user chose it)."""
        if attempt_id in self._ids:
            self._chosen = attempt_id
            self.move_cursor(row=self._ids.index(attempt_id), animate=False)

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if not self._rebuilding and self.has_focus and message.row_key.value in self._ids:
            self._chosen = message.row_key.value

    def _cells(self, attempt: AttemptInfo, now: float | None) -> list[Text]:
        glyph, colour = MARKS[attempt.state()]
        status = Text(glyph + " ", colour)
        status.append(ATTEMPT_STATUS_NAMES.get(attempt.status, str(attempt.status)))
        next_try = Text("-", "dim")
        if attempt.status == PENDING:
            if attempt.scheduled_at is None:
                next_try = Text("…", "dim")
            else:
                when = clock_time(attempt.scheduled_at, self.tz)
                if now is not None:
                    wait = attempt.scheduled_at - now
                    when += f" (in {duration(wait)})" if wait > 0 else " (due)"
                next_try = Text(when, "yellow")
        trigger = TRIGGER_TYPE_NAMES.get(attempt.trigger, str(attempt.trigger))
        return [
            Text(str(attempt.try_number)),
            Text(attempt.endpoint_uid),
            status,
            Text(http_code(attempt.code), code_style(attempt.code)),
            Text(latency(attempt.duration_ms)),
            Text(trigger, "bold magenta" if attempt.trigger == 1 else ""),
            Text(clock_time(attempt.attempted_at, self.tz)),
            next_try,
        ]
