"""The client's socket layer (protocol §4-§7): :class:`~mtdata.client.WebsocketClient` (``websocket``) and its parts.

``requests`` sends requests and matches their answers (the client's base); ``socket`` holds one socket.io
connection and its reconnect loop, ``subscriptions`` the subscribe loops and timers, ``throttle`` the
synchronization slots; ``packets`` takes packets in, after ``ordering`` restored their sequence and
``price_dates`` converted their dates, and ``packet_events`` turns them into listener calls (``listener_table``);
``errors`` maps socket answers to results and exceptions. The public names are exported by :mod:`mtdata.client`.
"""
