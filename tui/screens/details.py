"""One attempt in full: payload, the exact request headers, the response, and the signature
check (which secret signed it, how old its timestamp is)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from emulator.client import (
    ATTEMPT_STATUS_NAMES,
    TRIGGER_TYPE_NAMES,
    AttemptDetail,
    SimplyQError,
    readable_code,
)
from tui.context import Dashboard, dashboard_of
from tui.format import (
    MARKS,
    code_style,
    full_time,
    http_code,
    latency,
)
from tui.keys import DETAILS
from tui.messages import AttemptStepped, CurlRequested, RetryRequested
from tui.records import AttemptInfo, EventInfo, parse_time
from tui.retry_schedule import describe_retry
from tui.screens.help import HelpScreen
from tui.signature import check_signature
from tui.widgets.signature_panel import SignaturePanel


def headers_table(headers: Mapping[str, str] | None) -> RenderableType:
    """Header names and values, one per row, exactly as sent or received."""
    if not headers:
        return Text("none", "dim")
    table = Table.grid(padding=(0, 1))
    table.add_column(style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in headers.items():
        table.add_row(f"{name}:", value)
    return table


def json_block(value: Any) -> RenderableType:
    """Pretty JSON with colours."""
    text = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False)
    return Syntax(text, "json", theme="ansi_dark", word_wrap=True, background_color="default")


def body_block(body: str | None) -> RenderableType:
    """A response body: pretty when it is JSON, as received otherwise."""
    if not body:
        return Text("(empty)", "dim")
    try:
        return json_block(json.loads(body))
    except ValueError:
        return Text(body)


class DetailsScreen(Screen[None]):
    """The details of one attempt; ``[`` and ``]`` walk the event's other attempts."""

    BINDINGS: ClassVar[list[BindingType]] = [k.binding() for k in DETAILS]

    def __init__(self, event: EventInfo, attempt_id: str) -> None:
        super().__init__()
        self.event = event
        self.attempt_id = attempt_id
        self.detail: AttemptDetail | None = None

    @property
    def dashboard(self) -> Dashboard:
        """The app's shared state."""
        return dashboard_of(self.app)

    @property
    def attempt(self) -> AttemptInfo | None:
        """The attempt shown (as the model knows it)."""
        return self.event.attempts.get(self.attempt_id)

    def compose(self) -> ComposeResult:
        yield Static(id="details-summary")
        with Horizontal(id="details-body"):
            with VerticalScroll(id="details-request"):
                yield Static(id="request")
            with VerticalScroll(id="details-response"):
                yield Static(id="response")
                yield SignaturePanel(id="signature")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#details-request").border_title = "Request"
        self.query_one("#details-response").border_title = "Response"
        self.query_one("#signature").border_title = "Signature check"
        self.load()

    def attempt_changed(self) -> None:
        """The model has news about this event: reload if this attempt moved on."""
        attempt = self.attempt
        if (
            attempt is not None
            and self.detail is not None
            and str(attempt.status) != self.detail["status"]
        ):
            self.load()

    @work(exclusive=True, group="details", exit_on_error=False)
    async def load(self) -> None:
        """Fetch the attempt and the endpoint's secret, then draw everything."""
        app = self.dashboard
        self._draw_summary(None)
        try:
            detail = await app.backend.attempt_detail(self.attempt_id)
        except SimplyQError as error:
            self.query_one("#request", Static).update(Text(str(error), "red"))
            return
        self.detail = detail
        self._draw(detail)
        secret = None
        key = app.model.api_key_of(self.event.env)
        if key is not None:
            try:
                secret = await app.backend.secret(key, self.event.app, detail["endpoint_id"])
            except SimplyQError:
                secret = None
        check = check_signature(
            detail.get("request_headers"),
            detail.get("payload"),
            secret,
            attempted_at=parse_time(detail.get("attempted_at")),
            now=app.clock.now(),
        )
        self.query_one(SignaturePanel).show(check)

    def _draw_summary(self, detail: AttemptDetail | None) -> None:
        attempt = self.attempt
        text = Text()
        text.append(f"Attempt {self.attempt_id}", "bold")
        text.append(f"  of event {self.event.uid} ({self.event.event_type})", "dim")
        if attempt is not None:
            glyph, colour = MARKS[attempt.state()]
            text.append("\n")
            text.append(f"{glyph} {readable_code(attempt.status, ATTEMPT_STATUS_NAMES)}", colour)
            text.append(f"   try {attempt.try_number} to ")
            text.append(attempt.endpoint_uid, "bold cyan")
            text.append("   HTTP ")
            text.append(http_code(attempt.code), code_style(attempt.code))
            text.append(f"   {latency(detail.get('duration_ms') if detail else None)}")
            text.append(f"   {readable_code(attempt.trigger, TRIGGER_TYPE_NAMES)} trigger")
        if detail is not None:
            tz = self.dashboard.tz
            text.append("\nattempted ", "dim")
            text.append(full_time(parse_time(detail.get("attempted_at")), tz))
            text.append("   scheduled ", "dim")
            text.append(full_time(parse_time(detail.get("scheduled_at")), tz))
            text.append("   application ", "dim")
            text.append(str(detail.get("app_id") or self.event.app))
            app = self.dashboard.model.apps.get((self.event.env, self.event.app))
            schedule = describe_retry(app.retry_strategy if app is not None else None)
            if schedule:
                text.append("\nretry ", "dim")
                text.append(schedule)
        self.query_one("#details-summary", Static).update(text)

    def _draw(self, detail: AttemptDetail) -> None:
        self._draw_summary(detail)
        url = detail.get("endpoint_url") or "(unknown URL)"
        request: list[RenderableType] = [
            Text.assemble(("POST ", "bold"), (url, "underline")),
            Text(""),
            Text("Headers", "bold"),
            headers_table(detail.get("request_headers")),
            Text(""),
            Text("Payload", "bold"),
            json_block(detail.get("payload") or self.event.payload),
        ]
        if detail.get("request_headers") is None:
            request.insert(1, Text("not sent yet: the headers are made when it is tried", "dim"))
        self.query_one("#request", Static).update(Group(*request))
        code = int(detail.get("response_status_code") or 0)
        response: list[RenderableType] = [
            Text.assemble(
                ("Status ", "bold"),
                (http_code(code), code_style(code)),
                (f"   {latency(detail.get('duration_ms'))}", "dim"),
            ),
            Text(""),
            Text("Headers", "bold"),
            headers_table(detail.get("response_headers")),
            Text(""),
            Text("Body", "bold"),
            body_block(detail.get("response")),
        ]
        self.query_one("#response", Static).update(Group(*response))

    # ------------------------------------------------------------------ actions
    def action_close(self) -> None:
        """Back to the list."""
        self.dismiss()

    def action_retry(self) -> None:
        """Retry this event to this attempt's endpoint."""
        attempt = self.attempt
        if attempt is not None:
            self.post_message(RetryRequested(self.event, attempt.endpoint_uid))

    def action_curl(self) -> None:
        """This delivery as a curl command."""
        self.post_message(CurlRequested(self.attempt_id))

    def _step(self, offset: int) -> None:
        ids = [a.id for a in self.event.sorted_attempts()]
        if self.attempt_id not in ids:
            return
        index = ids.index(self.attempt_id) + offset
        if 0 <= index < len(ids):
            self.attempt_id = ids[index]
            self.post_message(AttemptStepped(self.attempt_id))
            self.query_one(SignaturePanel).show(None)
            self.load()

    def action_previous(self) -> None:
        """The attempt before this one."""
        self._step(-1)

    def action_next(self) -> None:
        """The attempt after this one."""
        self._step(1)

    def action_help(self) -> None:
        """Every key."""
        self.app.push_screen(HelpScreen())
