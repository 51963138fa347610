"""``initialize`` / ``login`` / ``shutdown`` / ``version`` / ``last_error``, and MT5's error convention.

One module-level connection, as the MetaTrader5 package has: an :class:`mtdata.Session` (the cloud's account,
a sandbox's, or an embedded sandbox's). Every function of :mod:`mtdata.mt5` is wrapped by :func:`mt5_function`:
an error never raises, the function returns its failure value (None, False or 0) and :func:`last_error` gives
MT5's ``(code, message)``; a success sets ``(RES_S_OK, "Success")``. The calls block (the session runs its own
event-loop thread), so they work the same in a script and in a notebook cell.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from .. import __version__
from ..errors import (
    ForbiddenException,
    MetaApiException,
    NotFoundException,
    TimeoutException,
    UnauthorizedException,
    ValidationException,
)
from . import constants as C
from .times import BrokerClock, TimeArgumentError
from .types import AccountInfo, TerminalInfo

F = TypeVar("F", bound=Callable[..., Any])
#: The MetaTrader5 package version whose API this module follows (``mt5.__version__``).
PACKAGE_VERSION = "5.0.5735"
#: ``version()``: MT5's terminal version and the build of the package above; where MT5 gives the build's release
#: date, mtdata's version (there is no terminal build to date).
VERSION = (500, 5735, f"mtdata {__version__}")
#: ``terminal_info().maxbars``: the most bars ``copy_rates_from_pos`` serves.
MAX_BARS = 100_000


class Failure(Exception):
    """An MT5 error: the function returns its failure value and :func:`last_error` gives ``(code, message)``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def invalid(message: str) -> Failure:
    """MT5's invalid-parameters error (``RES_E_INVALID_PARAMS``)."""
    return Failure(C.RES_E_INVALID_PARAMS, f"Invalid arguments: {message}")


def not_found(message: str) -> Failure:
    """MT5's not-found error (``RES_E_NOT_FOUND``): an unknown symbol, ticket, or no data."""
    return Failure(C.RES_E_NOT_FOUND, message)


@dataclass
class State:
    """The module's connection: the session, whether mt5 opened it, the broker clock, the last error."""

    session: Any = None
    owned: bool = False
    clock: BrokerClock = field(default_factory=BrokerClock)
    error: tuple[int, str] = (C.RES_S_OK, "Success")
    books: set[str] = field(default_factory=set)
    requests: int = 0


STATE = State()


def session() -> Any:
    """The connected :class:`mtdata.Session` (MT5's "No IPC connection" before :func:`initialize`)."""
    if STATE.session is None or STATE.session.closed:
        raise Failure(C.RES_E_INTERNAL_FAIL_CONNECT, "No IPC connection")
    return STATE.session


def _error_of(error: BaseException) -> tuple[int, str]:
    if isinstance(error, Failure):
        return error.code, error.message
    if isinstance(error, ValidationException | TimeArgumentError):
        return C.RES_E_INVALID_PARAMS, f"Invalid arguments: {error}"
    if isinstance(error, UnauthorizedException | ForbiddenException):
        return C.RES_E_AUTH_FAILED, str(error)
    if isinstance(error, NotFoundException):
        return C.RES_E_NOT_FOUND, str(error)
    if isinstance(error, TimeoutException):
        return C.RES_E_INTERNAL_FAIL_TIMEOUT, str(error)
    return C.RES_E_FAIL, f"{type(error).__name__}: {error}"


def mt5_function(failed: Any = None) -> Callable[[F], F]:
    """MT5's error convention for a function: any mtdata error returns ``failed`` and sets :func:`last_error`."""

    def wrap(function: F) -> F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = function(*args, **kwargs)
            except (Failure, MetaApiException, TimeArgumentError, ValueError) as error:
                STATE.error = _error_of(error)
                return failed
            STATE.error = (C.RES_S_OK, "Success")
            return result

        return call  # type: ignore[return-value]

    return wrap


def last_error() -> tuple[int, str]:
    """The last error: ``(code, message)``, ``code`` a ``RES_*`` constant (``RES_S_OK`` after a success)."""
    return STATE.error


def _connect(token: str | None, account_id: str | None, sandbox: dict[str, Any] | None) -> Any:
    """A session by ``initialize``'s rules: a token (argument or ``METAAPI_TOKEN``) is the cloud; otherwise
    :func:`mtdata.connect`'s sandbox (the environment's, :mod:`mtdata.sandbox_env`, else an embedded one)."""
    import mtdata

    token = token or os.environ.get("METAAPI_TOKEN")
    if token:
        return mtdata.connect(token, account_id or os.environ.get("METAAPI_ACCOUNT_ID"), progress=False)
    if account_id is not None:
        raise invalid("account_id needs a token (token= or METAAPI_TOKEN)")
    return mtdata.connect(sandbox=sandbox, progress=False)


@mt5_function(False)
def initialize(
    path: str | None = None, *, login: int | None = None, password: str | None = None, server: str | None = None,
    timeout: int | None = None, portable: bool = False, token: str | None = None, account_id: str | None = None,
    session: Any = None, sandbox: dict[str, Any] | None = None, broker_clock: str | float = "ny",
) -> bool:  # fmt: skip
    """Connect, as ``MetaTrader5.initialize``: no arguments is ``MTDATA_SANDBOX_URL``'s sandbox, else an embedded
    one (``sandbox``: its :func:`mtdata.sandbox.start` options),
    ``token`` / ``account_id`` (or ``METAAPI_TOKEN`` / ``METAAPI_ACCOUNT_ID``) the MetaApi cloud, ``session`` an
    open :class:`mtdata.Session`. ``login`` must be that account's; ``path``, ``password``, ``server``, ``timeout``
    and ``portable`` concern a terminal and are accepted and unused. ``broker_clock`` (:mod:`mtdata.mt5.times`)
    must agree with the server's current offset. Returns True, or False with :func:`last_error`."""
    try:
        clock = BrokerClock(broker_clock)
    except ValueError as error:
        raise invalid(str(error)) from None
    shutdown()
    opened = session if session is not None else _connect(token, account_id, sandbox)
    STATE.session, STATE.owned, STATE.clock = opened, session is None, clock
    try:
        _check_login(login)
        _check_clock(opened, clock)
    except Failure:
        shutdown()
        raise
    return True


def _check_login(login: Any) -> None:
    if login is None:
        return
    if isinstance(login, bool) or not isinstance(login, int):
        raise invalid(f"login must be an int, not {type(login).__name__}")
    actual = session().metatrader_account.login
    if str(login) != str(actual):
        raise Failure(C.RES_E_AUTH_FAILED, f"Authorization failed: the connected account's login is {actual}")


def _check_clock(opened: Any, clock: BrokerClock) -> None:
    """Refuse a ``broker_clock`` whose offset now differs from the trade server's (its times would be wrong)."""
    connection = opened.connection()
    now = opened.run(connection.get_server_time())
    wall = datetime.fromisoformat(now["brokerTime"])
    measured = round((wall - now["time"].astimezone(UTC).replace(tzinfo=None)).total_seconds() / 900) * 900
    expected = clock.offset(now["time"]).total_seconds()
    if measured != expected:
        raise Failure(C.RES_E_FAIL, f"the server's clock runs {measured / 3600:+g} h from UTC now, but "
                      f"broker_clock={clock.name!r} gives {expected / 3600:+g} h; pass the broker's clock")  # fmt: skip


@mt5_function(False)
def login(login: int, password: str | None = None, server: str | None = None, timeout: int | None = None) -> bool:
    """True when ``login`` is the connected account's (MetaApi connects one account per token and id)."""
    session()
    _check_login(login)
    return True


def shutdown() -> None:
    """Close the connection (the session too when :func:`initialize` opened it); idempotent."""
    opened, STATE.session = STATE.session, None
    STATE.books.clear()
    if opened is not None and STATE.owned:
        opened.close()


@mt5_function()
def version() -> tuple[int, int, str]:
    """``(500, build, "mtdata <version>")``: the terminal version and build the API follows (MT5's third item is
    the build's release date); None before :func:`initialize`."""
    session()
    return VERSION


def _account() -> dict[str, Any]:
    opened = session()
    return opened.connection().terminal_state.account_information or {}


@mt5_function()
def account_info() -> AccountInfo:
    """The account as MT5's ``AccountInfo``: balance, equity, margin, margin_free, margin_level, leverage …"""
    info = _account()
    balance, equity, credit = float(info.get("balance", 0)), float(info.get("equity", 0)), float(info.get("credit", 0))
    return AccountInfo(
        login=int(info.get("login") or 0), trade_mode=C.code(info.get("type")), leverage=int(info.get("leverage", 0)),
        limit_orders=0, margin_so_mode=C.ACCOUNT_STOPOUT_MODE_PERCENT, trade_allowed=bool(info.get("tradeAllowed")),
        trade_expert=True, margin_mode=C.code(info.get("marginMode")), currency_digits=2, fifo_close=False,
        balance=balance, credit=credit, profit=round(equity - balance - credit, 2), equity=equity,
        margin=float(info.get("margin") or 0), margin_free=float(info.get("freeMargin") or 0),
        margin_level=float(info.get("marginLevel") or 0), margin_so_call=0.0, margin_so_so=0.0, margin_initial=0.0,
        margin_maintenance=0.0, assets=0.0, liabilities=0.0, commission_blocked=0.0, name=str(info.get("name", "")),
        server=str(info.get("server", "")), currency=str(info.get("currency", "")),
        company=str(info.get("broker", "")),
    )  # fmt: skip


@mt5_function()
def terminal_info() -> TerminalInfo:
    """MT5's ``TerminalInfo``: mtdata has no terminal, so it says connected / trade allowed and little else."""
    opened = session()
    info, connection = _account(), opened.connection()
    connected = bool(connection.health_monitor.health_status.get("connectedToBroker", connection.synchronized))
    return TerminalInfo(
        community_account=False, community_connection=False, connected=connected, dlls_allowed=False,
        trade_allowed=bool(info.get("tradeAllowed")), tradeapi_disabled=False, email_enabled=False, ftp_enabled=False,
        notifications_enabled=False, mqid=False, build=VERSION[1], maxbars=MAX_BARS, codepage=0, ping_last=0,
        community_balance=0.0, retransmission=0.0, company=str(info.get("broker", "")), name="mtdata",
        language="English", path="", data_path="", commondata_path="",
    )  # fmt: skip


__all__ = [
    "MAX_BARS", "PACKAGE_VERSION", "STATE", "VERSION", "Failure", "account_info", "initialize", "invalid",
    "last_error", "login", "mt5_function", "not_found", "session", "shutdown", "terminal_info", "version",
]  # fmt: skip
