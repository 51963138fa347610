"""How well a connection works (protocol §8): :class:`~mtdata.client.LatencyMonitor` (``latency_monitor``) measures
the latency of requests, prices, updates and trades, :class:`~mtdata.client.LatencyService` (``latency_service``)
picks the fastest region, :class:`~mtdata.client.ConnectionHealthMonitor` (``health``) follows quote streaming,
broker connection, synchronization and uptime; ``reservoir`` keeps their windowed statistics. The public names
are exported by :mod:`mtdata.client`.
"""
