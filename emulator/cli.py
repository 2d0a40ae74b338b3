"""The ``simplyq-emulator`` command."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from secrets import token_urlsafe
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.client import SimplyQ

from emulator import __version__
from emulator.chaos import ChaosSettings
from emulator.config import DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT, EmulatorConfig
from emulator.datadir import DataDirError, DataDirInUse

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


def check_seed(config: EmulatorConfig) -> None:
    """Read the seed file before anything starts, so a bad one is one line, not a traceback."""
    from emulator.seed import SeedError, read_seed_file

    if config.seed_file is not None:
        try:
            read_seed_file(config.seed_file)
        except SeedError as error:
            raise CommandError(f"bad seed file {error}") from None


def in_use_message(error: DataDirInUse) -> str:
    """One line: who owns the data directory, and how to use that emulator instead."""
    if error.url is None:
        return f"{error}; wait for it, stop it, or choose another --data-dir"
    return (
        f"{error}; attach to it with `simplyq-emulator tui --url {error.url}` (pytest: "
        f"--simplyq-url {error.url}), or stop it, or choose another --data-dir"
    )


def serve(config: EmulatorConfig) -> int:
    from emulator.server import bind_socket, uvicorn_server

    check_seed(config)
    try:
        sock = bind_socket(config.host, config.port)
    except OSError as error:
        print(
            f"simplyq-emulator: cannot listen on {config.host}:{config.port}: "
            f"{error.strerror or error}",
            file=sys.stderr,
        )
        return 1
    port = sock.getsockname()[1]
    try:
        server = uvicorn_server(config)
    except DataDirInUse as error:
        print(f"simplyq-emulator: {in_use_message(error)}", file=sys.stderr)
        sock.close()
        return 1
    except Exception as error:  # DataDirError: a damaged or unwritable data directory
        print(f"simplyq-emulator: cannot start: {error}", file=sys.stderr)
        sock.close()
        return 1
    host = f"[{config.host}]" if ":" in config.host else config.host
    key = sorted(config.api_keys)[0] if config.api_keys else EXAMPLE_KEY
    where = (
        "in memory (nothing is kept)" if config.data_dir is None else str(config.data_dir.resolve())
    )
    banner = "\n".join(
        [
            f"SimplyQ emulator {__version__}",
            f"  Base URL:  http://{host}:{port}",
            f"  API key:   {key}"
            + (
                ""
                if config.api_keys
                else "  (any non-empty bearer token works; each is its own environment)"
            ),
            f"  Data:      {where}",
            *_admin_line(config),
            f"  Try:       curl -H 'Authorization: Bearer {key}' http://{host}:{port}/v1/application",
            f"  Web view:  http://{host}:{port}/_emulator/ui",
            "Press Ctrl-C to stop.",
        ]
    )

    def started() -> None:
        emulator = getattr(getattr(server.config.app, "state", None), "emulator", None)
        report = getattr(emulator, "seed_report", None)
        seeded = f"\n  Seed:      {config.seed_file} ({report.summary()})" if report else ""
        if config.chaos is not None and config.chaos.active:
            settings = config.chaos.to_json()
            seed = settings.pop("seed")
            shown = ", ".join(f"{k}={v:g}" for k, v in settings.items() if v)
            seeded += f"\n  Chaos:     {shown}, seed={seed}"
        print(banner.replace("\nPress Ctrl-C", seeded + "\nPress Ctrl-C"), flush=True)

    # Printed once the server is up (data loaded, Ctrl-C handled): the banner means "ready".
    server.on_started = started
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down cleanly on Ctrl-C, then raises the signal again for the caller:
        # everything is flushed by then, so this is a normal exit.
        pass
    finally:
        sock.close()
    return 0


def _admin_line(config: EmulatorConfig) -> list[str]:
    if not config.api_keys:
        return []
    if config.admin_key is None:
        return [
            "  Admin key: none; reset --all, moving the clock and every environment's list "
            "and stream are refused (--admin-key)"
        ]
    return ["  Admin key: given; each --api-key reaches only its own environment"]


def _event_body(args: argparse.Namespace) -> dict[str, Any]:
    if args.file is not None:
        try:
            loaded = json.loads(args.file.read_text())
        except (OSError, ValueError) as error:
            raise CommandError(f"cannot read {args.file}: {error}") from None
    else:
        try:
            loaded = json.loads(args.data) if args.data else {"message": "hello from the CLI"}
        except ValueError as error:
            raise CommandError(f"--data is not JSON: {error}") from None
    if not isinstance(loaded, dict):
        raise CommandError("the payload must be a JSON object")
    body: dict[str, Any] = (
        dict(loaded) if "payload" in loaded else {"event_type": args.event_type, "payload": loaded}
    )
    body.setdefault("event_type", args.event_type)
    if args.topics:
        body["topics"] = args.topics
    if args.uid:
        body["uid"] = args.uid
    if args.event_version:
        body["version"] = args.event_version
    return body


def ensure_application(client: SimplyQ, uid: str) -> bool:
    """Create application ``uid`` unless it exists; True when it was created."""
    from emulator.client import NotFoundError

    try:
        client.applications.retrieve(uid)
    except NotFoundError:
        client.applications.create({"uid": uid, "name": uid})
        return True
    return False


def publish(args: argparse.Namespace) -> int:
    from emulator.client import ATTEMPT_STATUS_NAMES, SimplyQ, readable_code

    body = _event_body(args)
    with SimplyQ(args.api_key, base_url=args.url) as client:
        if ensure_application(client, args.app):
            print(f"created application {args.app}", file=sys.stderr)
        event = client.events.create(args.app, body)
        print(json.dumps(event, indent=2))
        client.emulator.advance(0)
        for attempt in client.events.delivery_attempts(args.app, event["uid"]):
            shown = readable_code(attempt["status"], ATTEMPT_STATUS_NAMES)
            if attempt["attempted_at"] is not None:
                code = attempt["response_status_code"]
                shown += f", HTTP {code}" if code else f", no answer: {attempt['response']}"
            else:
                shown += f", try {attempt['retry_count'] + 1} due later"
            print(f"  -> {attempt['endpoint_id']}: {shown}", file=sys.stderr)
    return 0


def listen(args: argparse.Namespace) -> int:
    from emulator.client import NotFoundError, SimplyQ
    from emulator.listener import Listener

    try:
        listener_port = args.port
        client = SimplyQ(args.api_key, base_url=args.url)
        secrets: list[str] = [args.secret] if args.secret else []
        listener = Listener(
            listener_port,
            status=args.status,
            out=sys.stdout,
            secrets=(lambda: secrets) if (args.secret or args.app) else None,
            path=args.path,
        )
    except OSError as error:
        raise CommandError(f"cannot listen on port {args.port}: {error.strerror}") from None
    try:
        if args.app:
            ensure_application(client, args.app)
            # An existing endpoint keeps its filters unless --filter-type says otherwise.
            fields: dict[str, Any] = {"url": listener.url, "active": True}
            if args.filter_types:
                fields["filter_types"] = args.filter_types
            try:
                client.endpoints.update(args.app, args.endpoint, fields)
            except NotFoundError:
                client.endpoints.create(args.app, {"uid": args.endpoint, **fields})
            if not args.secret:
                secrets.append(client.endpoints.retrieve_secret(args.app, args.endpoint))
            print(
                f"Registered endpoint {args.endpoint} of application {args.app} -> {listener.url}",
                flush=True,
            )
        print(f"Listening on {listener.url}, answering {args.status}. Ctrl-C to stop.", flush=True)
        listener.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        client.close()
    return 0


def reset(args: argparse.Namespace) -> int:
    from emulator.client import PermissionDeniedError, SimplyQ

    key = args.admin_key if args.all and args.admin_key else args.api_key
    with SimplyQ(key, base_url=args.url) as client:
        try:
            client.emulator.reset(all=args.all)
        except PermissionDeniedError as error:
            if not args.all:
                raise
            raise CommandError(
                f"{error}; --all on an emulator started with --api-key needs its admin key: "
                f"--admin-key or ${ADMIN_KEY_ENV}"
            ) from None
    print("reset everything" if args.all else f"reset the environment of key {args.api_key}")
    return 0


def chaos(args: argparse.Namespace) -> int:
    from emulator.chaos import ChaosError, parse_chaos_spec
    from emulator.client import SimplyQ

    with SimplyQ(args.api_key, base_url=args.url) as client:
        if args.spec is None:
            print(json.dumps(client.emulator.chaos(), indent=2))
            return 0
        if args.endpoint and not args.app:
            raise CommandError("--endpoint needs --app")
        off = args.spec.strip().lower() == "off"
        try:
            settings = {} if off else parse_chaos_spec(args.spec)
        except ChaosError as error:
            raise CommandError(str(error)) from None
        answer = client.emulator.set_chaos(
            api_key=None if args.everywhere else args.api_key,
            app=args.app,
            endpoint=args.endpoint,
            off=off,
            **settings,
        )
    print(json.dumps(answer, indent=2))
    return 0


def export(args: argparse.Namespace) -> int:
    from emulator.client import SimplyQ
    from emulator.seed import export_document

    with SimplyQ(args.api_key, base_url=args.url) as client:
        applications = []
        for app in client.applications.list(limit=150):
            endpoints = []
            for endpoint in client.endpoints.list(app["uid"], limit=150):
                secret = client.endpoints.retrieve_secret(app["uid"], endpoint["uid"])
                endpoints.append({**endpoint, "secret": secret})
            applications.append((app, endpoints))
    text = json.dumps(export_document(args.api_key, applications), indent=2) + "\n"
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        args.output.write_text(text)
    except OSError as error:
        raise CommandError(f"cannot write {args.output}: {error.strerror or error}") from None
    count = len(applications)
    print(f"wrote {count} application{'s' if count != 1 else ''} to {args.output}", file=sys.stderr)
    return 0


def dashboard_launcher() -> Callable[..., object]:
    """The installed dashboard's ``run(url, api_key, admin_key=None)``, found through its entry
    point, so that the emulator does not depend on the dashboard."""
    from importlib.metadata import entry_points

    for entry in entry_points(group=DASHBOARD_ENTRY_POINTS, name="dashboard"):
        try:
            run: Callable[..., object] = entry.load()
        except ImportError as error:
            raise CommandError(f"cannot load the dashboard ({entry.value}): {error}") from None
        return run
    raise CommandError(
        f"the dashboard is not installed (no 'dashboard' entry point in {DASHBOARD_ENTRY_POINTS})"
    )


def dashboard(args: argparse.Namespace) -> int:
    from emulator.server import EmulatorServer

    run_dashboard = dashboard_launcher()
    config = config_from_args(args)
    check_seed(config)
    if config.api_keys and config.admin_key is None:
        # The dashboard shows every environment: an emulator it starts has a key for that.
        config = config.with_changes(admin_key="sk_admin_" + token_urlsafe(24))
    try:
        server = EmulatorServer(config, port=config.port).start()
    except DataDirInUse as error:
        raise CommandError(in_use_message(error)) from None
    except DataDirError as error:
        raise CommandError(f"cannot start: {error}") from None
    except OSError as error:
        raise CommandError(
            f"cannot listen on {config.host}:{config.port}: {error.strerror or error}"
        ) from None
    key = sorted(config.api_keys)[0] if config.api_keys else EXAMPLE_KEY
    try:
        if config.admin_key is None:
            run_dashboard(server.url, key)
        else:
            run_dashboard(server.url, key, admin_key=config.admin_key)
    finally:
        server.stop()
    return 0


def tui(args: argparse.Namespace) -> int:
    if args.admin_key is None:
        dashboard_launcher()(args.url, args.api_key)
    else:
        dashboard_launcher()(args.url, args.api_key, admin_key=args.admin_key)
    return 0


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
