"""The terminal's state on the client (protocol §7.3-§7.8): what a streaming connection knows of its account.

:class:`~mtdata.client.TerminalState` (``terminal``) is the live local copy of the terminal, built per stream
(``stream``), with the callers waiting for its prices in ``price_waits``; ``hash_manager``
(:class:`~mtdata.client.TerminalHashManager`, over ``reference_tree``) keeps its collections by hash so the next
synchronization can offer them. The public names are exported by :mod:`mtdata.client`.
"""
