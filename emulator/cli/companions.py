"""The companions of a running emulator: publish, listen, reset, chaos and export."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulator.client import SimplyQ

from emulator.cli.options import ADMIN_KEY_ENV, CommandError


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
