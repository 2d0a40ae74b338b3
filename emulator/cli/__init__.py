"""The ``simplyq-emulator`` command: ``main`` parses the command line and runs one command.

``options`` holds the parser and the settings it makes, ``serving`` the commands that run the
emulator (serve, dashboard, tui), ``companions`` those that talk to a running one.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from emulator.cli.companions import chaos, export, listen, publish, reset
from emulator.cli.options import (
    DASHBOARD_ENTRY_POINTS,
    CommandError,
    build_parser,
    config_from_args,
)
from emulator.cli.serving import dashboard, dashboard_launcher, serve, tui


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(argv)
    except KeyboardInterrupt:
        # Ctrl-C before the server took over its handling (e.g. while loading data).
        print("simplyq-emulator: interrupted", file=sys.stderr)
        return 130


def run(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    from emulator.client import SimplyQError

    if args.command == "serve":
        try:
            return serve(config_from_args(args))
        except CommandError as error:
            print(f"simplyq-emulator serve: {error}", file=sys.stderr)
            return 2

    commands = {
        "publish": publish,
        "listen": listen,
        "reset": reset,
        "export": export,
        "chaos": chaos,
        "dashboard": dashboard,
        "tui": tui,
    }
    try:
        return commands[args.command](args)
    except (CommandError, SimplyQError) as error:
        print(f"simplyq-emulator {args.command}: {error}", file=sys.stderr)
        return 1


__all__ = [
    "DASHBOARD_ENTRY_POINTS",
    "CommandError",
    "build_parser",
    "config_from_args",
    "dashboard_launcher",
    "main",
    "run",
]
