"""``build(config)``: the one place that wires the layers together (the HTTP edge, in
``emulator.web``, serves what it builds)."""

from __future__ import annotations

from dataclasses import dataclass, field

from emulator.admin import Admin
from emulator.clock import Clock
from emulator.config import EmulatorConfig
from emulator.delivery import ClientFactory, DeliveryEngine
from emulator.ratelimit import ApiRateLimiter
from emulator.repository import Repository
from emulator.seed import SeedReport, apply_seed, read_seed_file
from emulator.service import Service


@dataclass
class Emulator:
    """The parts of one running emulator, reachable from ``app.state.emulator``."""

    config: EmulatorConfig
    clock: Clock
    repository: Repository
    service: Service
    delivery: DeliveryEngine
    admin: Admin
    limiter: ApiRateLimiter
    seed_report: SeedReport | None = field(default=None)

    async def load_seed(self) -> None:
        """Apply the configured seed file, if any (the repository must be started)."""
        if self.config.seed_file is not None:
            seed = read_seed_file(self.config.seed_file)
            self.seed_report = await apply_seed(self.service, seed)


def build(
    config: EmulatorConfig, clock: Clock | None = None, client_factory: ClientFactory | None = None
) -> Emulator:
    """Create (and load) the parts without starting anything."""
    clock = clock or Clock(config.time_scale)
    repository = Repository(config.data_dir, durable=config.durable)
    service = Service(repository, clock, config.rotation_grace_seconds)
    delivery = DeliveryEngine(repository, service, clock, config, client_factory)
    admin = Admin(repository, clock, config, delivery)
    limiter = ApiRateLimiter(config.api_rate_limit, config.enforce_api_rate_limit)
    return Emulator(config, clock, repository, service, delivery, admin, limiter)
