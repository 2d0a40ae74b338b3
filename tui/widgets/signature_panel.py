"""The signature check panel of the details screen: which secret signed the delivery and how
far its timestamp is from when it was sent and from now."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from emulator.client import SIGNATURE_HEADER, TIMESTAMP_HEADER
from tui.format import duration
from tui.signature import TOLERANCE, SignatureCheck, secret_hint


def render_check(check: SignatureCheck | None) -> RenderableType:
    """The panel's content (a placeholder while the secret is being read)."""
    if check is None:
        return Text("checking…", "dim")
    rows = Table.grid(padding=(0, 2))
    rows.add_column(style="dim", no_wrap=True)
    rows.add_column()
    verdict = Text()
    if check.ok:
        verdict.append("✓ valid", "bold green")
        verdict.append(" — signed with the endpoint's current secret")
    elif check.timestamp is None:
        verdict.append("✗ not signed", "bold red")
    else:
        verdict.append("✗ no match", "bold red")
        verdict.append(" with the endpoint's current secret")
    rows.add_row("Verdict", verdict)
    if check.secret is not None:
        rows.add_row("Secret", Text(secret_hint(check.secret)))
    if check.timestamp is not None:
        rows.add_row(TIMESTAMP_HEADER, Text(str(check.timestamp)))
    if check.signatures:
        count = len(check.signatures)
        lines = Text()
        for index, signature in enumerate(check.signatures):
            matched = index < len(check.matches) and check.matches[index]
            lines.append("✓ " if matched else "· ", "green" if matched else "dim")
            lines.append(f"#{index + 1} {signature[:16]}…")
            if matched:
                lines.append("  current secret", "green")
            elif count > 1:
                lines.append("  an older secret (rotation grace period)", "dim")
            if index + 1 < count:
                lines.append("\n")
        rows.add_row(f"{SIGNATURE_HEADER} ({count})", lines)
    if check.sent_skew is not None:
        skew = check.sent_skew
        rows.add_row(
            "Skew at send",
            Text(
                "0 s (timestamp = time of the try)" if abs(skew) < 1 else f"{skew:+.0f} s",
                "green" if abs(skew) < 5 else "yellow",
            ),
        )
    if check.age is not None:
        if check.age >= 0:
            age = Text(f"{duration(check.age)} old on the emulator clock")
        else:
            age = Text(f"{duration(-check.age)} in the future on the emulator clock", "yellow")
        if check.too_old:
            age.append(
                f"\na receiver checking it now (tolerance {TOLERANCE} s) rejects it as stale",
                "yellow",
            )
        else:
            age.append(f"  (within the {TOLERANCE} s tolerance)", "green")
        rows.add_row("Age now", age)
    parts: list[RenderableType] = [rows]
    for problem in check.problems:
        parts.append(Text(f"! {problem}", "yellow"))
    parts.append(
        Text(
            "verify in your handler: verify_signature(secret, headers, raw_body)",
            "dim italic",
        )
    )
    return Group(*parts)


class SignaturePanel(Static):
    """Shows a ``SignatureCheck``."""

    check: SignatureCheck | None = None

    def show(self, check: SignatureCheck | None) -> None:
        """Redraw with a new check (None: still working)."""
        self.check = check
        self.update(render_check(check))
