"""Risk control's settings, from the environment.

* ``EMBEDFIN_REDIS_URL`` — keep the online counters in Redis (shared by every worker); without
  it they live in the database, in each check's unit of work.
* ``EMBEDFIN_RISK_SECRET`` — the key the challenge codes are derived from (at least 16 bytes).
  Without it the key is derived from the data key ring (``EMBEDFIN_DATA_KEYS``), so codes are
  never computable from the source; only a composition with no key ring at all falls back to
  the fixed sandbox key.
* ``EMBEDFIN_RISK=off`` — no risk control at all (every operation allowed, nothing recorded):
  the baseline the fraud benchmark and the simulator compare against.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from embedfin.core.errors import ConfigurationError
from embedfin.risk.counters import CounterStore, SqlCounters

REDIS_ENV = "EMBEDFIN_REDIS_URL"
SECRET_ENV = "EMBEDFIN_RISK_SECRET"
SWITCH_ENV = "EMBEDFIN_RISK"
SANDBOX_SECRET = b"embedfin-sandbox-risk-secret"

log = logging.getLogger("embedfin.risk")


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """Attributes:
    enabled: whether money-moving operations are checked.
    counters: where the online signals live (one store per process: Redis pools connections).
    secret: the challenge-code key (``None``: derived from the data key ring).
    """

    enabled: bool = True
    counters: CounterStore = field(default_factory=SqlCounters)
    secret: bytes | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RiskSettings:
        values = os.environ if env is None else env
        switch = values.get(SWITCH_ENV, "on").lower()
        if switch not in ("on", "off"):
            raise ConfigurationError(f"{SWITCH_ENV} is on or off, got {switch!r}")
        secret = values.get(SECRET_ENV, "").encode() or None
        if secret is not None and len(secret) < 16:
            raise ConfigurationError(f"{SECRET_ENV} must be at least 16 bytes")
        url = values.get(REDIS_ENV, "")
        counters: CounterStore = SqlCounters()
        if url:
            from embedfin.risk.redis_counters import RedisCounters

            counters = RedisCounters(url)
        return cls(switch == "on", counters, secret)
