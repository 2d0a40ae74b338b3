"""The emulator's settings: one frozen value, built from arguments or the environment, no I/O."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from emulator.chaos import ChaosSettings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_DATA_DIR = Path(".simplyq-emulator")
# What production advertised in X-Ratelimit-Limit.
API_RATE_LIMIT = 50


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything that shapes one emulator process.

    ``data_dir`` None means in-memory: nothing is written to disk.
    ``api_keys`` empty means any non-empty bearer token is accepted and becomes its own environment.
    ``admin_key`` (with ``api_keys``) is the key for what reaches every environment on the
    control API: resetting everything, changing the clock, listing every environment.
    ``time_scale`` is real seconds per emulated second (0.001 makes a 30 s retry take 30 ms).
    """

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    data_dir: Path | None = DEFAULT_DATA_DIR
    api_keys: frozenset[str] = field(default_factory=frozenset)
    admin_key: str | None = None
    time_scale: float = 1.0
    enforce_api_rate_limit: bool = False
    api_rate_limit: int = API_RATE_LIMIT
    delivery_timeout: float = 15.0
    rotation_grace_seconds: float = 24 * 3600.0
    allow_remote_delivery: bool = False
    max_body_bytes: int = 1024 * 1024
    max_response_bytes: int = 64 * 1024
    log_level: str = "warning"
    # False skips fsync (scratch data such as a test session's): files stay whole, but a
    # power loss may lose the last writes.
    durable: bool = True
    # A seed file (emulator.seed) applied on every start-up, before deliveries resume.
    seed_file: Path | None = None
    # Delivery chaos for every environment (emulator.chaos); None: off.
    chaos: ChaosSettings | None = None

    @property
    def in_memory(self) -> bool:
        """True when nothing is persisted."""
        return self.data_dir is None

    def with_changes(self, **changes: object) -> EmulatorConfig:
        """A copy with the given fields replaced."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> EmulatorConfig:
        """Settings from ``SIMPLYQ_EMULATOR_*`` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        config = cls()
        prefix = "SIMPLYQ_EMULATOR_"
        if host := env.get(prefix + "HOST"):
            config = config.with_changes(host=host)
        if port := env.get(prefix + "PORT"):
            config = config.with_changes(port=int(port))
        if data_dir := env.get(prefix + "DATA_DIR"):
            config = config.with_changes(data_dir=Path(data_dir))
        if env.get(prefix + "IN_MEMORY", "").lower() in {"1", "true", "yes"}:
            config = config.with_changes(data_dir=None)
        if keys := env.get(prefix + "API_KEYS"):
            config = config.with_changes(
                api_keys=frozenset(k.strip() for k in keys.split(",") if k.strip())
            )
        if admin_key := env.get(prefix + "ADMIN_KEY", "").strip():
            config = config.with_changes(admin_key=admin_key)
        if scale := env.get(prefix + "TIME_SCALE"):
            config = config.with_changes(time_scale=float(scale))
        return config
