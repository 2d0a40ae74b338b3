"""``p``: publish a test event. The form starts from the last one published from here."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static, TextArea

from tui.publish_form import PublishForm


class PublishScreen(ModalScreen[PublishForm | None]):
    """Returns the filled form (None: cancelled); ctrl+s publishes from anywhere in it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "publish", "Publish"),
    ]

    def __init__(self, form: PublishForm) -> None:
        super().__init__()
        self.form = form

    def compose(self) -> ComposeResult:
        form = self.form
        with Vertical(id="publish", classes="form"):
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label("API key (environment)")
                    yield Input(form.api_key, id="p-key")
                with Vertical():
                    yield Label("Application (created if missing)")
                    yield Input(form.app, id="p-app")
            with Horizontal(classes="pair"):
                with Vertical():
                    yield Label("Event type")
                    yield Input(form.event_type, id="p-type")
                with Vertical():
                    yield Label("Topics (comma-separated)")
                    yield Input(form.topics, id="p-topics")
            yield Label("Payload (JSON object)")
            yield TextArea(form.payload, language="json", id="p-payload")
            yield Label("Event uid (empty: generated)")
            yield Input(form.uid, id="p-uid")
            yield Static(id="p-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Publish", variant="primary", id="p-go")
                yield Button("Cancel", id="p-cancel")

    def on_mount(self) -> None:
        self.query_one("#publish").border_title = "Publish a test event"
        self.query_one("#publish").border_subtitle = "ctrl+s publishes · esc cancels"
        self.query_one("#p-type", Input).focus()

    def _form(self) -> PublishForm:
        def value(name: str) -> str:
            return self.query_one(f"#{name}", Input).value.strip()

        return PublishForm(
            api_key=value("p-key"),
            app=value("p-app"),
            event_type=value("p-type"),
            topics=value("p-topics"),
            payload=self.query_one("#p-payload", TextArea).text,
            uid=value("p-uid"),
        )

    @on(Input.Submitted)
    @on(Button.Pressed, "#p-go")
    def action_publish(self) -> None:
        """Check the form and close with it."""
        form = self._form()
        try:
            form.body()
            if not form.api_key or not form.app or not form.event_type:
                raise ValueError("API key, application and event type are required")
        except ValueError as error:
            self.query_one("#p-error", Static).update(Text(str(error), "red"))
            return
        self.dismiss(form)

    @on(Button.Pressed, "#p-cancel")
    def action_cancel(self) -> None:
        """Close without publishing."""
        self.dismiss(None)
