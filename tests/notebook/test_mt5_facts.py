"""mtdata.mt5 against the facts of the MetaTrader5 package: its constants, named tuples and functions as
``metatrader5-stubs`` declares them (a dev dependency: unofficial PEP 561 stubs of the MetaTrader5 package, written
by someone else, read from its installed ``.pyi`` file), and what the stubs leave out, from MQL5's reference."""

from __future__ import annotations

import ast
import importlib.metadata
import inspect

import mtdata.mt5 as mt5

#: The 32 functions of MQL5's "Python Integration" reference.
FUNCTIONS = (
    "initialize", "login", "shutdown", "version", "last_error", "account_info", "terminal_info", "symbols_total",
    "symbols_get", "symbol_info", "symbol_info_tick", "symbol_select", "market_book_add", "market_book_get",
    "market_book_release", "copy_rates_from", "copy_rates_from_pos", "copy_rates_range", "copy_ticks_from",
    "copy_ticks_range", "orders_total", "orders_get", "order_calc_margin", "order_calc_profit", "order_check",
    "order_send", "positions_total", "positions_get", "history_orders_total", "history_orders_get",
    "history_deals_total", "history_deals_get",
)  # fmt: skip


def _stubs() -> ast.Module:
    path = importlib.metadata.distribution("metatrader5-stubs").locate_file("MetaTrader5-stubs/__init__.pyi")
    return ast.parse(path.read_text())  # type: ignore[union-attr]


def test_every_constant_of_the_stubs_has_its_value() -> None:
    """Every ``NAME: Final[int] = value`` of the stubs, with its value. ``__author__`` ("MetaQuotes Ltd.") is left
    out: mtdata is not MetaQuotes' package; ``__version__`` is the package version whose API this follows."""
    found = 0
    for node in _stubs().body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name = node.target.id
            if name == "__author__":
                continue
            value = eval(compile(ast.Expression(node.value), "stubs", "eval"))  # literals and `1 | 0x4000`
            assert getattr(mt5, name) == value, name
            found += 1
    assert found > 200


def test_every_named_tuple_of_the_stubs_has_its_fields_in_order() -> None:
    """The stubs' NamedTuples field for field. Where they differ from MQL5's reference, the reference wins:
    the stubs make ``TradeRequest`` a TypedDict, but the reference's ``order_send`` example prints the result's
    ``request`` as ``TradeRequest(action=1, magic=…)`` and calls ``._asdict()`` on it: a named tuple (with the
    same fields in the same order, checked here)."""
    classes = {node.name: node for node in _stubs().body if isinstance(node, ast.ClassDef)}
    assert {"TradeRequest", "OrderSendResult", "TradePosition", "Tick", "TradeOrder", "TerminalInfo"} <= set(classes)
    for name, node in classes.items():
        fields = [item.target.id for item in node.body if isinstance(item, ast.AnnAssign)]
        ours = getattr(mt5, name)
        assert list(ours._fields) == fields, name
        assert issubclass(ours, tuple)


def test_every_function_of_the_stubs_exists_with_its_parameters() -> None:
    """Every function the stubs declare exists and accepts their parameter names (mtdata adds keyword-only ones:
    ``initialize(token=, account_id=, session=, sandbox=, broker_clock=)``)."""
    functions = [node for node in _stubs().body if isinstance(node, ast.FunctionDef)]
    assert len(functions) >= 12
    for node in functions:
        ours = list(inspect.signature(getattr(mt5, node.name)).parameters.values())
        positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
        assert [p.name for p in ours[: len(positional)]] == positional, node.name  # same names, same order
        assert all(p.kind != p.KEYWORD_ONLY for p in ours[: len(positional)]), node.name
        keyword = {p.name: p for p in ours}
        for arg in node.args.kwonlyargs:
            assert keyword[arg.arg].kind == inspect.Parameter.KEYWORD_ONLY, (node.name, arg.arg)


def test_the_reference_s_other_types_and_functions() -> None:
    """What the stubs leave out, from MQL5's reference: its other named tuples and its 32 functions."""
    assert len(mt5.SymbolInfo._fields) == 96
    assert mt5.SymbolInfo._fields[:4] == ("custom", "chart_mode", "select", "visible")
    assert mt5.SymbolInfo._fields[-3:] == ("name", "page", "path")
    assert mt5.TradeDeal._fields[:6] == ("ticket", "order", "time", "time_msc", "type", "entry")
    assert mt5.BookInfo._fields == ("type", "price", "volume", "volume_dbl")
    assert mt5.OrderCheckResult._fields[-2:] == ("comment", "request")
    assert mt5.AccountInfo._fields[:3] == ("login", "trade_mode", "leverage")
    assert mt5.RATES_DTYPE.names == ("time", "open", "high", "low", "close", "tick_volume", "spread", "real_volume")
    assert mt5.TICKS_DTYPE.names == ("time", "bid", "ask", "last", "volume", "time_msc", "flags", "volume_real")
    assert all(callable(getattr(mt5, name)) and name in mt5.__all__ for name in FUNCTIONS)
