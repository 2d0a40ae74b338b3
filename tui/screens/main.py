"""The main screen: the tree, the live event list and the selected event's attempts, with the
one-key actions on them."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from emulator.client import NotFoundError, SimplyQError
from tui.context import Dashboard, dashboard_of
from tui.curl import curl_command
from tui.filters import EventFilter
from tui.format import clock_time, short
from tui.keys import MAIN
from tui.messages import EventChosen, EventHighlighted, ModelChanged, ScopeChosen
from tui.publish_form import DEFAULT_PAYLOAD, PublishForm
from tui.records import PENDING, EndpointInfo, EventInfo
from tui.retry_schedule import describe_retry
from tui.screens.curl import CurlScreen
from tui.screens.details import DetailsScreen
from tui.screens.filter import FilterScreen
from tui.screens.help import HelpScreen
from tui.screens.publish import PublishScreen
from tui.screens.recover import RecoverScreen
from tui.widgets.attempt_table import AttemptTable
from tui.widgets.event_list import EventList
from tui.widgets.sidebar import Sidebar
from tui.widgets.status_bar import StatusBar

REHEARSAL = {"duplicate": 0.2, "lost_ack": 0.1}
"""The chaos ``x`` turns on for an endpoint: what an at-least-once handler must survive."""


class MainScreen(Screen[None]):
    """Tree | events over attempts, status bar and footer."""

    BINDINGS: ClassVar[list[BindingType]] = [k.binding() for k in MAIN]

    @property
    def dashboard(self) -> Dashboard:
        """The app's shared state."""
        return dashboard_of(self.app)

    def compose(self) -> ComposeResult:
        app = self.dashboard
        with Horizontal(id="body"):
            yield Sidebar(app.model, id="sidebar")
            with Vertical(id="right"):
                yield EventList(app.model, app.tz, id="events")
                yield AttemptTable(app.tz, id="attempts")
        yield StatusBar(
            app.backend.url if app.display_url is None else app.display_url, id="status"
        )
        yield Footer()

    def on_mount(self) -> None:
        self.events.border_title = "Events"
        self.attempts.border_title = "Attempts"
        self.sidebar.border_title = "Applications"
        self.events.focus()
        # What was listed (or went wrong) before the screen was up.
        self.model_changed(ModelChanged(reloaded=True))
        self.call_after_refresh(self.dashboard.refresh_status)

    # ------------------------------------------------------------------ widgets
    @property
    def ready(self) -> bool:
        """Composed and not being torn down."""
        return self.is_mounted and bool(self.query("#status-text")) and bool(self.query(EventList))

    @property
    def events(self) -> EventList:
        """The event list."""
        return self.query_one(EventList)

    @property
    def attempts(self) -> AttemptTable:
        """The attempt table."""
        return self.query_one(AttemptTable)

    @property
    def sidebar(self) -> Sidebar:
        """The tree."""
        return self.query_one(Sidebar)

    @property
    def status(self) -> StatusBar:
        """The status bar."""
        return self.query_one(StatusBar)

    # ------------------------------------------------------------------ model updates
    def model_changed(self, message: ModelChanged) -> None:
        """Redraw what a batch of changes touched."""
        applied = message.applied
        if message.reloaded or applied.events_added:
            self.events.rows_changed()
        else:
            self.events.refresh_events(applied.events_changed)
        current = self.events.current
        if current is not None and (message.reloaded or current.key in applied.events_changed):
            self.show_attempts(current)
        elif current is None and self.attempts.event is not None:
            self.show_attempts(None)
        if applied.tree_changed or message.reloaded:
            self.sidebar.rebuild()
        self.refresh_titles()

    def refresh_titles(self) -> None:
        """The event list's title (how many events, the filter) and its empty message."""
        app = self.dashboard
        model = app.model
        url = app.display_url or app.backend.url
        if app.connection == "offline":
            reason = app.connection_detail.split(";")[0]
            empty = (
                f"Cannot reach the emulator at {url}: {reason}.\n"
                "Start it with `simplyq-emulator serve`, or point --url at it. Retrying…"
            )
        elif app.connection == "connecting":
            empty = f"Connecting to {url}…"
        elif model.events:
            empty = "No event matches the filter (esc clears it)."
        else:
            empty = (
                "No events yet. Press p to publish a test event, or run `simplyq-emulator publish`."
            )
        self.events.set_empty_message(empty)
        shown, total = len(model.visible), len(model.events)
        title = f"Events {shown:,}" if shown == total else f"Events {shown:,} of {total:,}"
        if model.filter.active:
            title += f"  [{model.filter.describe()}]  esc clears"
        self.events.border_title = title
        event = self.events.current
        self.attempts.border_title = (
            f"Attempts of {event.uid}  ({event.event_type})" if event is not None else "Attempts"
        )
        application = model.apps.get((event.env, event.app)) if event is not None else None
        schedule = describe_retry(application.retry_strategy if application else None)
        self.attempts.border_subtitle = f"retry: {schedule}" if schedule else ""

    def tick(self) -> None:
        """Once a second: count down to the selected event's next tries."""
        event = self.attempts.event
        if event is not None and any(a.status == PENDING for a in event.attempts.values()):
            self.attempts.show(event, self.dashboard.clock.now())

    def show_attempts(self, event: EventInfo | None) -> None:
        """Fill the attempt table and fetch what the listing did not say (latency, next try)."""
        self.attempts.show(event, self.dashboard.clock.now())
        if event is not None:
            missing = [a.id for a in event.attempts.values() if not a.has_detail]
            if missing:
                self._fetch_details(event, missing)

    @work(exclusive=True, group="attempt-details", exit_on_error=False)
    async def _fetch_details(self, event: EventInfo, ids: list[str]) -> None:
        details = await self.dashboard.backend.attempt_details(ids)
        self.dashboard.model.add_snapshot_attempts(event.env, event.app, [dict(d) for d in details])
        if self.events.current is event:
            self.attempts.show(event, self.dashboard.clock.now())

    @on(EventHighlighted)
    def _event_highlighted(self, message: EventHighlighted) -> None:
        self.show_attempts(self.events.current)
        self.refresh_titles()

    @on(EventChosen)
    def _event_chosen(self, message: EventChosen) -> None:
        self.attempts.focus()

    @on(DataTable.RowSelected, "#attempts")
    def _attempt_chosen(self, message: DataTable.RowSelected) -> None:
        self.action_details()

    @on(ScopeChosen)
    def _scope_chosen(self, message: ScopeChosen) -> None:
        self.apply_filter(self.dashboard.model.filter.with_scope(message.scope))

    def apply_filter(self, new: EventFilter) -> None:
        """Show only the events ``new`` lets through; the cursor stays on its event if shown."""
        current = self.events.current
        self.dashboard.model.set_filter(new)
        self.events.following = False
        if current is None or not self.events.select(current.key):
            self.events.following = True
        self.events.rows_changed()
        self.refresh_titles()

    # ------------------------------------------------------------------ selection
    def selected_endpoint(self) -> EndpointInfo | None:
        """The endpoint actions apply to: the tree's, when the tree has focus; else the
        highlighted attempt's; else the tree's; else the event's only endpoint."""
        model = self.dashboard.model
        if self.sidebar.has_focus and self.sidebar.highlighted_endpoint is not None:
            return self.sidebar.highlighted_endpoint
        attempt = self.attempts.current
        if attempt is not None:
            found = model.endpoints.get((attempt.env, attempt.app, attempt.endpoint_uid))
            if found is not None:
                return found
        if self.sidebar.highlighted_endpoint is not None:
            return self.sidebar.highlighted_endpoint
        event = self.events.current
        if event is not None:
            endpoints = model.endpoints_of(event.env, event.app)
            if len(endpoints) == 1:
                return endpoints[0]
        return None

    def _api_key(self, env: str) -> str | None:
        key = self.dashboard.model.api_key_of(env)
        if key is None:
            self.notify("This environment's API key is not known yet", severity="warning")
        return key

    # ------------------------------------------------------------------ actions
    def call(self, call: Callable[[], Awaitable[Any]], done: str | Callable[[Any], str]) -> None:
        """Run a request in the background and say how it went."""
        self._call(call, done)

    @work(group="actions", exit_on_error=False)
    async def _call(
        self, call: Callable[[], Awaitable[Any]], done: str | Callable[[Any], str]
    ) -> None:
        try:
            result = await call()
        except SimplyQError as error:
            self.notify(str(error), title="Failed", severity="error", timeout=8)
            return
        self.notify(done if isinstance(done, str) else done(result), timeout=4)

    def action_retry(self) -> None:
        """Retry the selected event to the selected endpoint."""
        event = self.events.current
        if event is None:
            self.notify("No event selected", severity="warning")
            return
        attempt = self.attempts.current
        endpoint_uid = attempt.endpoint_uid if attempt is not None else None
        if endpoint_uid is None:
            endpoint = self.selected_endpoint()
            endpoint_uid = endpoint.uid if endpoint is not None else None
        if endpoint_uid is None:
            self.notify("Select an attempt (which endpoint to retry to)", severity="warning")
            return
        self.retry(event, endpoint_uid)

    def retry(self, event: EventInfo, endpoint_uid: str) -> None:
        """Deliver ``event`` to endpoint ``endpoint_uid`` again (in the background)."""
        key = self._api_key(event.env)
        if key is None:
            return
        backend, uid = self.dashboard.backend, endpoint_uid
        self.call(
            lambda: backend.retry(key, event.app, uid, event.uid),
            f"Retrying {short(event.uid, 24)} → {uid}",
        )

    def action_details(self) -> None:
        """Open the selected attempt."""
        event, attempt = self.events.current, self.attempts.current
        if event is None or attempt is None:
            self.notify("No attempt selected", severity="warning")
            return
        self.app.push_screen(DetailsScreen(event, attempt.id))

    def action_publish(self) -> None:
        """The publish form; it starts from the last event published from here."""
        app = self.dashboard
        form = app.last_publish
        if form is None:
            event = self.events.current
            apps = [a for a in app.model.apps.values()]
            env = event.env if event is not None else apps[0].env if apps else None
            form = PublishForm(
                api_key=(app.model.api_key_of(env) if env else None) or app.default_api_key,
                app=event.app if event is not None else apps[0].uid if apps else "demo",
                event_type=event.event_type if event is not None else "test.event",
                topics=",".join(event.topics) if event is not None else "",
                payload=(
                    json.dumps(event.payload, indent=2, ensure_ascii=False)
                    if event is not None
                    else DEFAULT_PAYLOAD
                ),
            )
        self.app.push_screen(PublishScreen(form), self._publish)

    def _publish(self, form: PublishForm | None) -> None:
        if form is None:
            return
        self.dashboard.last_publish = form
        backend = self.dashboard.backend

        async def publish() -> dict[str, Any]:
            body = form.body()
            try:
                return await backend.publish(form.api_key, form.app, body)
            except NotFoundError:
                await backend.client(form.api_key).applications.create(
                    {"uid": form.app, "name": form.app}
                )
                return await backend.publish(form.api_key, form.app, body)

        self.events.following = True
        self.call(publish, lambda event: f"Published {event['uid']} ({event['event_type']})")

    def action_filter(self) -> None:
        """The filter form."""
        self.app.push_screen(FilterScreen(self.dashboard.model.filter), self._filtered)

    def _filtered(self, new: EventFilter | None) -> None:
        if new is not None:
            self.apply_filter(new)

    def action_clear_filter(self) -> None:
        """Show every event again."""
        if self.dashboard.model.filter.active:
            self.apply_filter(EventFilter())
            self.sidebar.move_cursor(self.sidebar.root)

    def action_next_due(self) -> None:
        """Advance the emulator clock to the next due try (and let it run)."""
        app = self.dashboard

        def said(result: dict[str, Any]) -> str:
            app.clock.take(result)
            return f"Clock advanced to {clock_time(result.get('unix'), app.tz)}"

        async def advance() -> dict[str, Any]:
            clock = await app.backend.clock()
            if clock.get("next_due_unix") is None:
                raise SimplyQError("Nothing is scheduled: no try to advance to")
            return dict(await app.backend.advance_to_next_due())

        self.call(advance, said)

    def action_curl(self) -> None:
        """The selected delivery as a curl command (copied to the clipboard)."""
        attempt = self.attempts.current
        if attempt is None:
            self.notify("No attempt selected", severity="warning")
            return
        self.show_curl(attempt.id)

    @work(group="curl", exit_on_error=False)
    async def show_curl(self, attempt_id: str) -> None:
        """Fetch the attempt and show (and copy) its curl command."""
        try:
            detail = await self.dashboard.backend.attempt_detail(attempt_id)
        except SimplyQError as error:
            self.notify(str(error), severity="error")
            return
        if not detail.get("request_headers") or not detail.get("endpoint_url"):
            self.notify("This attempt was not sent yet: nothing to replay", severity="warning")
            return
        command = curl_command(
            str(detail["endpoint_url"]), detail["request_headers"], detail.get("payload")
        )
        self.app.copy_to_clipboard(command)
        self.app.push_screen(CurlScreen(command))

    def _endpoint_or_warn(self) -> tuple[EndpointInfo, str] | None:
        endpoint = self.selected_endpoint()
        if endpoint is None:
            self.notify("Select an endpoint (in the tree, or an attempt)", severity="warning")
            return None
        key = self._api_key(endpoint.env)
        return None if key is None else (endpoint, key)

    def action_recover(self) -> None:
        """Redeliver the selected endpoint's failures since a time (a form asks when)."""
        found = self._endpoint_or_warn()
        if found is None:
            return
        endpoint, key = found
        backend = self.dashboard.backend

        def chosen(since: float | None) -> None:
            if since is not None:
                self.call(
                    lambda: backend.recover(key, endpoint.app, endpoint.uid, since),
                    f"Recovering {endpoint.uid} since {clock_time(since, self.dashboard.tz)}",
                )

        self.app.push_screen(
            RecoverScreen(endpoint.uid, self.dashboard.clock.now(), self.dashboard.tz), chosen
        )

    def action_rotate_secret(self) -> None:
        """Give the selected endpoint a new secret."""
        found = self._endpoint_or_warn()
        if found is None:
            return
        endpoint, key = found
        backend = self.dashboard.backend
        self.call(
            lambda: backend.rotate_secret(key, endpoint.app, endpoint.uid),
            f"Rotated the secret of {endpoint.uid} (the old one stays valid for its grace period)",
        )

    def action_toggle_active(self) -> None:
        """Enable or disable the selected endpoint."""
        found = self._endpoint_or_warn()
        if found is None:
            return
        endpoint, key = found
        backend, active = self.dashboard.backend, not endpoint.active
        self.call(
            lambda: backend.set_active(key, endpoint.app, endpoint.uid, active),
            f"{endpoint.uid} is now {'active' if active else 'inactive'}",
        )

    def action_toggle_chaos(self) -> None:
        """Turn the selected endpoint's delivery chaos on (REHEARSAL) or off."""
        found = self._endpoint_or_warn()
        if found is None:
            return
        endpoint, key = found
        backend = self.dashboard.backend

        async def toggle() -> dict[str, Any] | None:
            if await backend.endpoint_chaos(key, endpoint.app, endpoint.uid):
                await backend.clear_endpoint_chaos(key, endpoint.app, endpoint.uid)
                return None
            return await backend.set_endpoint_chaos(key, endpoint.app, endpoint.uid, **REHEARSAL)

        def said(answer: dict[str, Any] | None) -> str:
            if answer is None:
                return f"chaos off for {endpoint.uid}"
            seed = (answer.get("settings") or answer).get("seed")
            return f"chaos on for {endpoint.uid}: 20% duplicates, 10% lost acks (seed {seed})"

        self.call(toggle, said)

    def action_follow(self) -> None:
        """Jump to the newest event and keep following."""
        self.events.action_last()
        self.events.focus()

    def action_help(self) -> None:
        """Every key."""
        self.app.push_screen(HelpScreen())
