"""Connections to an account (protocol §11), what an account's ``get_*_connection()`` hands out.

:class:`~mtdata.client.StreamingMetaApiConnection` (``streaming``) is a live local copy of the account, kept in
sync by its ``Synchronizer`` (``synchronization``), with its market-data requests in ``market_data_api`` over the
checks and book of ``market_data``; :class:`~mtdata.client.RpcMetaApiConnection` (``rpc``) answers getters on
request; both trade (``trading``). The :class:`~mtdata.client.ConnectionRegistry` (``registry``) shares one
connection per account, each on its ``route`` (the account, or its replica in the ``region`` option's
region); ``events`` holds the ``@connection.on_*`` decorators, ``awaitable`` the seed's
bool-or-await answers. The public names are exported by :mod:`mtdata.client`.
"""
