"""The account's trade history on the client: deals and history orders, kept as the stream delivers them.

``storage`` holds the base of every history storage (:class:`~mtdata.client.HistoryStorage`); ``memory``
(:class:`~mtdata.client.MemoryHistoryStorage`, the listener that collects them by default) keeps them in typed
columns (``table``, ``columns``) indexed by ticket, position and time (``index``); ``database``
(:class:`~mtdata.client.FilesystemHistoryDatabase`) persists them as JSON lines with a snapshot of the columns
(``snapshot``). The public names are exported by :mod:`mtdata.client`.
"""
