"""``serve``, ``dashboard`` and ``tui``: run the emulator, and open the dashboard on one."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from secrets import token_urlsafe
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    pass

from emulator import __version__
from emulator.cli.options import DASHBOARD_ENTRY_POINTS, EXAMPLE_KEY, CommandError, config_from_args
from emulator.config import EmulatorConfig
from emulator.datadir import DataDirError, DataDirInUse


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
