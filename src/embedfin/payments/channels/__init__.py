"""Payment channels: the processors behind them (``processors``), routing with failover
(``routing``) and checkout paid through a channel (``checkout.ChannelPayments``).
"""
