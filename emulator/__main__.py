"""``python -m emulator``: the same as the ``simplyq-emulator`` command."""

from __future__ import annotations

from emulator.cli import main

raise SystemExit(main())
