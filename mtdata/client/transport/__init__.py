"""The client's socket layer (protocol §4-§7): :class:`~mtdata.client.WebsocketClient` (``websocket``) and its parts.

``socket`` holds one socket.io connection and its reconnect loop, ``subscriptions`` the subscribe loops and
timers, ``throttle`` the synchronization slots; ``packets`` turns synchronization packets into listener calls
(``listener_table``), after ``ordering`` restored their sequence and ``price_dates`` converted their dates;
``errors`` maps socket answers to results and exceptions. The public names are exported by :mod:`mtdata.client`.
"""
