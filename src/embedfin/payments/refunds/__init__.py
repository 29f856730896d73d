"""Giving money back: one policy (``policy``, pure), its routing by how an order was paid
(``routing``), the service every refund path goes through (``service.Refunds``) and the
invariants ``embedfin check`` runs on refunds (``check``).
"""
