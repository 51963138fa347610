"""The order ticket's review and send: the order in the form checked, shown in one sentence, sent on Confirm.

:class:`OrderReview` is the part of :class:`~mtdata.live.order_ticket.OrderTicket` that trades. "Review" runs the
order helpers' checks without sending (:meth:`~mtdata.orders.Orders.preview_async`) and shows the order in one
sentence; "Confirm" sends it with the same helper and arguments; "Cancel" returns to the form. While an order is
checked or sent every control is disabled; afterwards the form is editable again and the result line shows the
:class:`~mtdata.trade_result.TradeResult` or the one sentence that refused it, so a rejected order never leaves the
ticket half-submitted and a double click cannot send twice. The position a market order opened is selected in the
positions panel beneath the form.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

import ipywidgets

from ..errors import TradeException, ValidationException
from ..order_checks import PENDING, OrderPreview
from ..trade_result import TradeResult
from .trade_actions import BAD, OK, describe

if TYPE_CHECKING:
    from ..session import Session

log = logging.getLogger("mtdata.live")


class OrderReview:
    """Review, Confirm and Cancel: the checks and sends they start (tasks on the kernel's loop), the result line.

    A mixin of :class:`~mtdata.live.order_ticket.OrderTicket`, which provides the session (``_session``), the loop
    (``_loop``), the positions panel (``_positions``), the form (``symbol``, ``summary``, ``result_line``,
    ``order()``) and ``_show_state()``, which enables the controls the state allows.
    """

    _session: Session
    _loop: asyncio.AbstractEventLoop
    _positions: ipywidgets.Widget | None
    symbol: ipywidgets.Combobox  #: The ticket's symbol field (the symbol of the order sent).
    summary: ipywidgets.HTML  #: The ticket's line showing the order under review in one sentence.
    result_line: ipywidgets.HTML  #: The ticket's line showing the outcome of the last order.
    order: Callable[[], dict[str, Any]]  #: The ticket's method returning the order the form describes.
    _show_state: Callable[[], None]
    _task: concurrent.futures.Future[None] | None = None
    _state = "edit"
    _order: dict[str, Any] | None = None  # the order under review, sent as it is on Confirm
    _message = ""
    preview: OrderPreview | None = None
    """The order last reviewed (None until then)."""
    result: TradeResult | None = None
    """The answer to the order last sent (None before one, or when it was refused)."""

    @property
    def state(self) -> str:
        """``edit`` (the form is editable), ``checking``, ``review`` (waiting for Confirm or Cancel) or ``sending``."""
        return self._state

    @property
    def message(self) -> str:
        """The result line as text: the last result, or the sentence that refused the last order."""
        return self._message

    def review(self) -> None:
        """Check the order in the form without sending it; its sentence appears, then Confirm sends it."""
        if self._state != "edit":
            return
        self._order = self.order()
        self._enter("checking")
        self._spawn(self._check_order(self._order))

    def confirm(self) -> None:
        """Send the order reviewed (checked again against the price now); ignored unless one is under review."""
        if self._state != "review" or self._order is None:
            return
        self.result = None
        self._enter("sending")
        self._spawn(self._send_order(self._order))

    def cancel(self) -> None:
        """Leave the review and edit the form again (nothing is sent)."""
        if self._state == "review":
            self.summary.value = ""
            self._enter("edit")

    def _enter(self, state: str) -> None:
        self._state = state
        self._show_state()

    # -- checks and sends (tasks on the kernel's loop) ---------------------------------------------------

    async def _check_order(self, order: dict[str, Any]) -> None:
        try:
            self.preview = await self._session.preview_async(**order)
        except BaseException as error:
            self._refused(error, "checked")
            self._enter("edit")
            if not isinstance(error, Exception):
                raise
            return
        if order["symbol"] != self.symbol.value:  # another symbol was picked meanwhile: review that order instead
            self._enter("edit")
            self.review()
            return
        self.summary.value = f"<b>Send:</b> {html.escape(str(self.preview))}"
        self._enter("review")

    async def _send_order(self, order: dict[str, Any]) -> None:
        try:
            self.result = await self._place(order)
        except BaseException as error:
            self._refused(error, "sent")
            if not isinstance(error, Exception):
                raise
        else:
            self._say(OK, str(self.result))
            if self._positions is not None and self.result.position_id and order["price"] is None:
                try:
                    self._positions.highlight(self.result.position_id)
                except Exception:
                    log.exception("highlighting position %s failed", self.result.position_id)
        finally:
            self.summary.value = ""
            self._enter("edit")

    def _place(self, order: dict[str, Any]) -> Coroutine[Any, Any, TradeResult]:
        s, args = self._session, {k: v for k, v in order.items() if k != "kind"}
        if order["kind"] in PENDING:
            return s.pending_async(order["kind"], **args)
        del args["price"]
        return (s.buy_async if order["kind"] == "buy" else s.sell_async)(**args)

    def _refused(self, error: BaseException, step: str) -> None:
        if isinstance(error, ValidationException):
            self._say(BAD, str(error))
        elif isinstance(error, TradeException):
            self._say(BAD, f"The order was {describe(error)}")
        elif isinstance(error, Exception):
            log.warning("the order ticket's order could not be %s", step, exc_info=error)
            unsure = "; check the positions before sending it again" if step == "sent" else ""
            self._say(BAD, f"The order could not be {step} ({type(error).__name__}: {error}){unsure}.")
        else:
            self._say(BAD, f"The order was interrupted while being {step}.")

    def _say(self, style: str, text: str) -> None:
        self._message = text
        self.result_line.value = f"<span style='{style}'>{html.escape(text)}</span>"

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.run_coroutine_threadsafe(coro, self._loop)


__all__ = ["OrderReview"]
