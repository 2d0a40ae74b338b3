"""The command line's words: the parser of every command, and the settings it makes."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from emulator import __version__
from emulator.chaos import ChaosSettings
from emulator.config import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig

EXAMPLE_KEY = "sk_test_emulator"
DEFAULT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
DASHBOARD_ENTRY_POINTS = "simplyq_emulator.dashboard"
"""The entry point group the dashboard is found in: its ``dashboard`` entry is a
``run(url, api_key, admin_key=None)`` that opens the dashboard on an emulator and returns when it
is quit (``admin_key``, given only when the emulator has one, lets it follow every environment)."""
ADMIN_KEY_ENV = "SIMPLYQ_EMULATOR_ADMIN_KEY"


class CommandError(Exception):
    """A problem to report in one line, without a traceback."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be greater than 0")
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a port number (0-65535): {text!r}")
    return int(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simplyq-emulator",
        description="A local emulator of the SimplyQ webhooks API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the emulator (the SimplyQ API on localhost)",
        description="Run the SimplyQ API on localhost, storing data in TinyDB files.",
    )
    _server_options(serve)
    serve.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )

    publish = commands.add_parser(
        "publish",
        help="publish an event (like `stripe trigger`)",
        description="Publish an event to an application of a running emulator; the "
        "application is created if it does not exist.",
    )
    _client_options(publish)
    publish.add_argument("--app", default="demo", help="application uid (default demo)")
    publish.add_argument(
        "--type", dest="event_type", default="test.event", help="event type (default test.event)"
    )
    body = publish.add_mutually_exclusive_group()
    body.add_argument("--data", help="the payload as a JSON object")
    body.add_argument(
        "--file",
        type=Path,
        help="a JSON file: the payload, or a whole event "
        "body with event_type/payload/topics/uid/version",
    )
    publish.add_argument(
        "--topic", action="append", default=[], dest="topics", help="a topic (repeatable)"
    )
    publish.add_argument("--uid", help="event uid (default: generated)")
    publish.add_argument("--version", dest="event_version", help="event version")

    listen = commands.add_parser(
        "listen",
        help="receive deliveries here and print them",
        description="Start a local webhook receiver that prints every delivery and checks "
        "its signature. With --app it registers itself as an endpoint of that application.",
    )
    _client_options(listen)
    listen.add_argument("--app", help="register as an endpoint of this application")
    listen.add_argument(
        "--endpoint",
        default="cli-listener",
        help="uid of the endpoint to register (default cli-listener)",
    )
    listen.add_argument(
        "--filter-type",
        action="append",
        default=[],
        dest="filter_types",
        help="only events of this type (repeatable)",
    )
    listen.add_argument("--port", type=_port, default=0, help="port to listen on (0: free)")
    listen.add_argument(
        "--path",
        default="/webhook",
        help="path of the URL to register (default /webhook; every path is received)",
    )
    listen.add_argument(
        "--status",
        type=int,
        default=200,
        help="HTTP status to answer with (default 200; try 500 to see retries)",
    )
    listen.add_argument("--secret", help="verify with this secret instead of the endpoint's")

    reset = commands.add_parser(
        "reset",
        help="delete data in a running emulator",
        description="Delete one environment's data (the API key's) or, with --all, everything.",
    )
    _client_options(reset)
    reset.add_argument("--all", action="store_true", help="every environment")
    _admin_key_option(reset, "with --all on an emulator started with --api-key")

    dashboard = commands.add_parser(
        "dashboard",
        help="run the emulator with the terminal dashboard on it",
        description="Start the emulator and open the dashboard: live events and delivery "
        "attempts, their details and signature checks, one-key retries. The emulator stops "
        "when you quit (q).",
    )
    _server_options(dashboard)
    # The server's log lines would be drawn over the dashboard.
    dashboard.set_defaults(log_level="critical")

    chaos = commands.add_parser(
        "chaos",
        help="show or set delivery chaos in a running emulator",
        description="Without SPEC, show the chaos in force. With SPEC (e.g. "
        "'duplicate=0.2,lost_ack=0.1,reorder,seed=7'), set it for the API key's environment, "
        "or one --app, or one --endpoint of it, or with --everywhere for every environment; "
        "'off' turns it off there.",
    )
    _client_options(chaos)
    chaos.add_argument("spec", nargs="?", help="settings, or off")
    chaos.add_argument("--app", help="only this application")
    chaos.add_argument("--endpoint", help="only this endpoint (of --app)")
    chaos.add_argument("--everywhere", action="store_true", help="every environment")

    export = commands.add_parser(
        "export",
        help="write an environment's applications and endpoints to a seed file",
        description="Write the applications and endpoints (with their secrets) of the API "
        "key's environment in a running emulator as a seed file for `serve --seed`. "
        "Sensitive header values are not included: the API never gives them back.",
    )
    _client_options(export)
    export.add_argument(
        "-o", "--output", type=Path, help="the file to write (default: standard output)"
    )

    tui = commands.add_parser(
        "tui",
        help="open the terminal dashboard on a running emulator",
        description="Attach the dashboard to an emulator that is already running (one a test "
        "session started, say); it reconnects by itself when the emulator restarts.",
    )
    _client_options(tui)
    _admin_key_option(tui, "to follow every environment of an emulator started with --api-key")
    return parser


def _server_options(parser: argparse.ArgumentParser) -> None:
    """The options of a command that runs an emulator (serve, dashboard)."""
    parser.add_argument(
        "--host",
        default=None,
        help=f"address to listen on (default {DEFAULT_HOST}; loopback only)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    storage = parser.add_mutually_exclusive_group()
    storage.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help=f"where data is kept (default ./{DEFAULT_DATA_DIR})",
    )
    storage.add_argument(
        "--in-memory", action="store_true", help="keep nothing on disk; everything is gone on exit"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="KEY",
        help="accept only this key (repeatable); by default any non-empty "
        "bearer token is accepted and is its own environment",
    )
    parser.add_argument(
        "--admin-key",
        default=None,
        metavar="KEY",
        help="with --api-key: the key for what reaches every environment on the control API "
        f"(reset --all, moving the clock, every environment's list and stream); "
        f"also ${ADMIN_KEY_ENV}",
    )
    parser.add_argument(
        "--time-scale",
        type=_positive_float,
        default=None,
        help="real seconds per emulated second (0.001: a 30 s retry takes 30 ms)",
    )
    parser.add_argument(
        "--enforce-rate-limit",
        action="store_true",
        help="answer 429 past the API rate limit (50 requests/s per key)",
    )
    parser.add_argument(
        "--delivery-timeout",
        type=_positive_float,
        default=15.0,
        help="seconds an endpoint has to answer a delivery (default 15)",
    )
    parser.add_argument(
        "--chaos",
        default=None,
        metavar="SPEC",
        help="delivery chaos for every environment, e.g. 'duplicate=0.2,lost_ack=0.1,"
        "reorder,seed=7' (see docs/rehearsing.md; default off)",
    )
    parser.add_argument(
        "--seed",
        type=Path,
        default=None,
        metavar="FILE",
        help="create the environments, applications and endpoints of this JSON file on "
        "start-up (idempotent: a restart does not duplicate them)",
    )
    parser.add_argument(
        "--allow-remote-delivery",
        action="store_true",
        help="deliver to non-loopback URLs too (off: only localhost)",
    )


def _client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("SIMPLYQ_EMULATOR_URL", DEFAULT_URL),
        help=f"the emulator's base URL (default $SIMPLYQ_EMULATOR_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--api-key",
        default=os.environ.get("SIMPLYQ_API_KEY", EXAMPLE_KEY),
        help=f"API key (default $SIMPLYQ_API_KEY or {EXAMPLE_KEY})",
    )


def _admin_key_option(parser: argparse.ArgumentParser, when: str) -> None:
    parser.add_argument(
        "--admin-key",
        default=os.environ.get(ADMIN_KEY_ENV) or None,
        metavar="KEY",
        help=f"the emulator's admin key, needed {when} (default ${ADMIN_KEY_ENV})",
    )


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """Options given on the command line, else ``SIMPLYQ_EMULATOR_*`` variables, else defaults."""
    try:
        env = EmulatorConfig.from_env()
    except ValueError as error:
        raise CommandError(f"a SIMPLYQ_EMULATOR_* variable is not valid: {error}") from None
    data_dir = args.data_dir if args.data_dir is not None else env.data_dir
    api_keys = frozenset(args.api_key) or env.api_keys
    admin_key = args.admin_key or env.admin_key
    if admin_key is not None and admin_key in api_keys:
        raise CommandError("the admin key must differ from every --api-key")
    return EmulatorConfig(
        host=args.host if args.host is not None else env.host,
        port=args.port if args.port is not None else env.port,
        data_dir=None if args.in_memory else data_dir,
        api_keys=api_keys,
        admin_key=admin_key,
        time_scale=args.time_scale if args.time_scale is not None else env.time_scale,
        enforce_api_rate_limit=args.enforce_rate_limit,
        delivery_timeout=args.delivery_timeout,
        allow_remote_delivery=args.allow_remote_delivery,
        log_level=args.log_level,
        seed_file=args.seed,
        chaos=_chaos_settings(args.chaos),
    )


def _chaos_settings(spec: str | None) -> ChaosSettings | None:
    """``--chaos``'s settings; without a seed in it, one is picked (and shown in the banner)."""
    import random

    from emulator.chaos import ChaosError, parse_chaos, parse_chaos_spec

    if spec is None:
        return None
    try:
        return parse_chaos(parse_chaos_spec(spec), random.SystemRandom().randrange(2**31))
    except ChaosError as error:
        raise CommandError(f"--chaos {error}") from None
