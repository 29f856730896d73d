"""Outbox consumers: the ``Consumer`` protocol and the one ``Runner`` every consumer runs on.

Owns each consumer's place in the outbox (``event_cursors``), the events set aside after too many
failures (``parked_events``) and the lag figures. A consumer's handler writes its own context's
tables through the unit of work it is given; this package writes no other context's tables and
knows no consumer by name (the composition root, ``embedfin.bootstrap``, lists them).
"""

from embedfin.consumers.base import Consumer, ConsumerLag, ParkedEvent, RetryPolicy
from embedfin.consumers.runner import BatchResult, Runner

__all__ = [
    "BatchResult",
    "Consumer",
    "ConsumerLag",
    "ParkedEvent",
    "RetryPolicy",
    "Runner",
]
