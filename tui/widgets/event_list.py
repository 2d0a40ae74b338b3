"""The live event list: a line-API widget that draws only the rows on screen, so 10,000 events
cost no more than 40, and a new event is one appended row."""

from __future__ import annotations

from datetime import tzinfo
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.format import MARKS, clock_time
from tui.messages import EventChosen, EventHighlighted
from tui.model import Model
from tui.records import DeliveryState, EventInfo, EventKey

TIME_WIDTH = 8


class EventList(ScrollView, can_focus=True):
    """Events, oldest at the top; the cursor follows new events while it is on the last row."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "choose", "Attempts", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "event-list--header",
        "event-list--cursor",
        "event-list--dim",
    }
    DEFAULT_CSS = """
    EventList {
        overflow-x: hidden;
        overflow-y: scroll;
        & > .event-list--header { text-style: bold; color: $text-accent; }
        & > .event-list--cursor { background: $block-cursor-blurred-background; }
        &:focus > .event-list--cursor {
            background: $block-cursor-background; color: $block-cursor-foreground;
        }
        & > .event-list--dim { color: $text-muted; }
    }
    """

    cursor: reactive[int] = reactive(-1, always_update=True, init=False)

    def __init__(self, model: Model, tz: tzinfo | None = None, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.model = model
        self.tz = tz
        self.following = True
        self.empty_message = ""
        self._highlighted: EventKey | None = None
        self._styles: tuple[Style, Style, Style, Style] | None = None
        self._lines: LRUCache[tuple[int, int, int, int, bool, int], Strip] = LRUCache(1024)

    # ------------------------------------------------------------------ data
    @property
    def row_count(self) -> int:
        """Rows shown (events passing the filter)."""
        return len(self.model.visible)

    @property
    def current(self) -> EventInfo | None:
        """The event under the cursor."""
        if 0 <= self.cursor < self.row_count:
            return self.model.visible[self.cursor]
        return None

    def rows_changed(self) -> None:
        """Events were added (or the list was rebuilt): resize, keep or follow the cursor."""
        count = self.row_count
        self.virtual_size = Size(self.scrollable_content_region.width, count + 1)
        if count == 0:
            self.cursor = -1
        elif self.following or self.cursor < 0:
            self.cursor = count - 1
        elif self._highlighted is not None:
            index = self.model.index_of(self._highlighted)
            self.cursor = index if index is not None else min(self.cursor, count - 1)
        self.refresh()

    def select(self, key: EventKey) -> bool:
        """Move the cursor to an event; False when it is not shown."""
        index = self.model.index_of(key)
        if index is None:
            return False
        self.following = index == self.row_count - 1
        self.cursor = index
        return True

    def set_empty_message(self, message: str) -> None:
        """What the list says when it has no rows."""
        if message != self.empty_message:
            self.empty_message = message
            if self.row_count == 0:
                self.refresh()

    def refresh_events(self, keys: set[EventKey]) -> None:
        """Redraw the rows of events whose attempts changed (if on screen)."""
        if not keys:
            return
        top = int(self.scroll_offset.y)
        for y in range(self.scrollable_content_region.height - 1):
            index = top + y
            if index >= self.row_count:
                break
            if self.model.visible[index].key in keys:
                self.refresh_line(y + 1)

    # ------------------------------------------------------------------ cursor
    def watch_cursor(self, old: int, new: int) -> None:
        if new >= 0:
            self._scroll_to_cursor()
        self.refresh()
        event = self.current
        key = event.key if event is not None else None
        if key != self._highlighted:
            self._highlighted = key
            self.post_message(EventHighlighted(key))

    def _scroll_to_cursor(self) -> None:
        rows = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_offset.y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + rows:
            self.scroll_to(y=self.cursor - rows + 1, animate=False, immediate=True)

    def _move(self, row: int) -> None:
        if self.row_count == 0:
            return
        row = max(0, min(self.row_count - 1, row))
        self.following = row == self.row_count - 1
        self.cursor = row

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.scrollable_content_region.height - 2))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.scrollable_content_region.height - 2))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(self.row_count - 1)

    def action_choose(self) -> None:
        event = self.current
        if event is not None:
            self.post_message(EventChosen(event.key))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._move(int(self.scroll_offset.y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count + 1)
        if self.cursor >= 0:
            self._scroll_to_cursor()

    # ------------------------------------------------------------------ drawing
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles = None
        self._lines.clear()

    def _on_focus(self, event: events.Focus) -> None:
        self._styles = None
        self._lines.clear()
        self.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self._styles = None
        self._lines.clear()
        self.refresh()

    def _style_set(self) -> tuple[Style, Style, Style, Style]:
        """(row, cursor row, header, dim) styles, computed once per style change."""
        if self._styles is None:
            base = self.rich_style
            self._styles = (
                base,
                base + self.get_component_rich_style("event-list--cursor"),
                base + self.get_component_rich_style("event-list--header"),
                self.get_component_rich_style("event-list--dim", partial=True),
            )
        return self._styles

    def _widths(self, width: int) -> tuple[int, int, int, int, int]:
        """App, type, topics, uid and marks column widths."""
        app = max([3] + [len(uid) for _, uid in self.model.apps])
        app = min(app, 14)
        rest = max(0, width - TIME_WIDTH - app - 5)
        type_width = max(8, min(24, rest * 20 // 100))
        topics = max(6, min(16, rest * 12 // 100))
        uid = max(12, min(32, rest - type_width - topics - 20))
        marks = max(0, rest - type_width - topics - uid)
        return app, type_width, topics, uid, marks

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base, cursor, header, dim = self._style_set()
        if y == 0:
            return self._header(width, header)
        index = int(self.scroll_offset.y) + y - 1
        if index >= self.row_count:
            lines = self.empty_message.splitlines() if self.row_count == 0 else []
            if 2 <= y < 2 + len(lines):
                text = _cell("  " + lines[y - 2], width)
                return Strip([Segment(text, base + dim)], width)
            return Strip.blank(width, base)
        event = self.model.visible[index]
        selected = index == self.cursor
        # An event is known by its order within a generation of the model; the app column's
        # width depends on every application's uid.
        app_width = self._widths(width)[0]
        key = (self.model.generation, event.order, event.revision, width, selected, app_width)
        strip = self._lines.get(key)
        if strip is None:
            strip = self._row(event, width, cursor if selected else base, dim)
            self._lines[key] = strip
        return strip

    def _header(self, width: int, style: Style) -> Strip:
        app, type_width, topics, uid, marks = self._widths(width)
        cells = [
            ("TIME", TIME_WIDTH),
            ("APP", app),
            ("TYPE", type_width),
            ("TOPICS", topics),
            ("UID", uid),
            ("DELIVERIES", marks),
        ]
        text = " ".join(_cell(name, size) for name, size in cells)
        return Strip([Segment(_cell(text, width), style)], width)

    def _row(self, event: EventInfo, width: int, style: Style, dim: Style) -> Strip:
        app, type_width, topics, uid, marks = self._widths(width)
        faint = style + dim
        segments = [
            Segment(clock_time(event.created_at, self.tz).ljust(TIME_WIDTH) + " ", style),
            Segment(_cell(event.app, app) + " ", faint),
            Segment(_cell(event.event_type, type_width) + " ", style),
            Segment(_cell(",".join(event.topics), topics) + " ", faint),
            Segment(_cell(event.uid, uid) + " ", style),
        ]
        used = 0
        for glyph, colour, label in _fit_marks(event.marks(), marks):
            segments.append(Segment(glyph, style + _colour(colour)))
            segments.append(Segment(label, style))
            used += 1 + len(label)
        segments.append(Segment(" " * max(0, marks - used), style))
        return Strip(segments).adjust_cell_length(width, style)


def _fit_marks(marks: list[tuple[str, DeliveryState]], width: int) -> list[tuple[str, str, str]]:
    """(glyph, colour, text after it) per endpoint: ``✓ orders  ``; with less room the uids
    are cut to 6 characters, then left out (``✓↻``); what still does not fit ends in "…"."""
    for cut in (None, 6, 0):
        pieces = []
        for endpoint, state in marks:
            glyph, colour = MARKS[state]
            name = endpoint if cut is None else endpoint[:cut]
            pieces.append((glyph, colour, f" {name}  " if name else ""))
        if sum(1 + len(text) for _, _, text in pieces) <= width:
            return pieces
    fitted: list[tuple[str, str, str]] = []
    for glyph, colour, _ in pieces:
        if len(fitted) + 2 > width:
            fitted.append(("…", "", ""))
            break
        fitted.append((glyph, colour, ""))
    return fitted


_COLOURS: dict[str, Style] = {}


def _colour(name: str) -> Style:
    if not name:
        return Style()
    style = _COLOURS.get(name)
    if style is None:
        style = _COLOURS[name] = Style.parse(name)
    return style


def _cell(value: str, width: int) -> str:
    if len(value) > width:
        return value[: max(0, width - 1)] + "…"
    return value.ljust(width)
