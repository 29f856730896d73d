"""The composition root: the one place where embedfin's parts are put together.

The API, the CLI, the dashboard, the simulator and the benchmarks ask this module for what they
run instead of wiring services by hand. Domain packages never import it.
"""

from __future__ import annotations

from embedfin.api.webhooks import WebhookFanOut
from embedfin.consumers.base import Consumer
from embedfin.credit.service import FeatureConsumer
from embedfin.ledger.service import Ledger
from embedfin.payments.invoices import InvoiceConsumer


def build_consumers(ledger: Ledger) -> list[Consumer]:
    """Every outbox consumer, in the order a pass of the runner takes them: credit features
    (decisions read them), invoices, then the webhook fan-out (which also tells endpoints of
    the ``invoice_issued`` events the invoices just emitted)."""
    return [FeatureConsumer(), InvoiceConsumer(), WebhookFanOut(ledger.clock)]
