"""Escrow checkout: orders paid into escrow, held until receipt, released to the merchant.

``checkout.Checkout`` is the one-order service; ``bulk`` (paying, shipping), ``release``
(confirming receipt) and ``placing`` run the same rules for many orders in one unit of work
(the simulator and the API's group commit use them).
"""
