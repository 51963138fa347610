"""The sandbox broker engine: executes trades like a MetaTrader broker (fills, rejections, margin, history).

:class:`~.engine.Broker` is the hub's trade executor; :mod:`.money` holds the maths the
terminal also uses, so this package's ``__init__`` imports nothing (no import cycles).
"""
