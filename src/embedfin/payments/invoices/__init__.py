"""E-invoices for released orders: the issuer consumer (``issuer``) and the XML renderer
(``xml``).
"""
