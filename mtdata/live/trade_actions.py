"""The action buttons of the positions and orders tables: act on the selected rows or on all, report in one line.

:class:`TradeActions` is the part of :class:`~mtdata.live.trade_tables.TradeTable` that trades: the two buttons,
the status line under them and the task that closes or cancels through the session's order helpers, on the
kernel's loop. An action in progress disables the buttons; a refusal or a rejection is one sentence
(:func:`describe`) naming what was done before it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import html
from collections.abc import Coroutine, Sequence
from typing import Any

import ipywidgets

from ..errors import TradeException, ValidationException
from ..trade_result import TradeResult

#: Styles of a status line's outcome.
OK, BAD = "color:#1b5e20", "color:#b71c1c"


def describe(error: BaseException) -> str:
    """A refusal as one sentence for the status line (MetaTrader's code when the broker rejected it)."""
    if isinstance(error, TradeException):
        code = " ".join(str(c) for c in (error.string_code, error.numeric_code) if c is not None)
        return f"rejected: {str(error).rstrip('.')} ({code})."
    if isinstance(error, ValidationException):
        return f"refused: {str(error).rstrip('.')}."
    return f"failed ({type(error).__name__}: {error})."


class TradeActions:
    """Two buttons acting on a table's records ("Close selected", "Close all"), and the status line that tells.

    A mixin of :class:`~mtdata.live.trade_tables.TradeTable`, which provides the records (``selected``, ``symbol``),
    the loop (``_loop``), ``closed`` and the names of its class attributes ``kind``, ``noun`` and ``verbs``.
    """

    kind: str  #: The table's collection: ``positions`` or ``orders`` (the table's class attribute).
    noun: str  #: One record, in messages (the table's class attribute).
    verbs: tuple[str, str]  #: The action and its past participle, in messages (the table's class attribute).
    symbol: str | None  #: The symbol "Close all" keeps to (None: every symbol), the table's.
    selected: list[str]  #: The ids of the rows selected in the table, which "Close selected" acts on.
    _loop: asyncio.AbstractEventLoop
    _message = ""
    _action: concurrent.futures.Future[None] | None = None
    _buttons: tuple[ipywidgets.Button, ...] = ()
    # made by _controls; documented here: autodoc reads attribute docstrings only at class level or in __init__
    selected_button: ipywidgets.Button
    """The "Close selected" button ("Cancel selected" of orders): acts on the rows selected in the table
    (:meth:`act_on_selected`)."""
    all_button: ipywidgets.Button
    """The "Close all" button ("Cancel all" of orders): acts on every record, of :attr:`symbol` when set
    (:meth:`act_on_all`)."""
    status: ipywidgets.HTML
    """The status line under the buttons: the last action's outcome in one sentence (:attr:`message` as text)."""

    async def _act_on(self, record_id: str) -> TradeResult:
        """Close or cancel one record (the table's subclass says how)."""
        raise NotImplementedError

    async def _act_all(self) -> list[TradeResult]:
        """Close or cancel every record (of ``symbol`` when set)."""
        raise NotImplementedError

    def _controls(self) -> ipywidgets.HBox:
        """Make the two buttons and the status line (in the table's constructor)."""
        verb = self.verbs[0].capitalize()
        self.selected_button = ipywidgets.Button(description=f"{verb} selected", button_style="warning")
        self.all_button = ipywidgets.Button(description=f"{verb} all", button_style="danger")
        self.status = ipywidgets.HTML(value="")
        self._buttons = (self.selected_button, self.all_button)
        self.selected_button.on_click(lambda _button: self.act_on_selected())
        self.all_button.on_click(lambda _button: self.act_on_all())
        for button in self._buttons:
            button.add_class(f"mtdata-{self.kind}-button")
        self.status.add_class(f"mtdata-{self.kind}-status")
        return ipywidgets.HBox([*self._buttons, self.status])

    @property
    def message(self) -> str:
        """The status line's text (the last action's outcome)."""
        return self._message

    @property
    def busy(self) -> bool:
        """True while an action runs (its buttons are disabled)."""
        return self._action is not None and not self._action.done()

    def act_on_selected(self) -> None:
        """The first button: act on the selected rows (a task on the kernel's loop; the status line tells)."""
        chosen = self.selected
        if not chosen:
            self._say(BAD, f"Select the {self.noun}s to {self.verbs[0]} first.")
            return
        self._start(self._each(chosen))

    def act_on_all(self) -> None:
        """The second button: act on every record (of ``symbol`` when set)."""
        self._start(self._everything())

    # -- actions (kernel's loop) ----------------------------------------------------------------------------

    def _start(self, action: Coroutine[Any, Any, None]) -> None:
        if self.closed or self.busy:
            action.close()
            return
        self._enable(False)
        self._say("", f"{self.verbs[0].capitalize()}…")
        self._action = asyncio.run_coroutine_threadsafe(action, self._loop)

    async def _each(self, ids: list[str]) -> None:
        done: list[str] = []
        try:
            for record_id in ids:
                await self._act_on(record_id)
                done.append(record_id)
        except Exception as error:
            failed = ids[len(done)]
            before = f" ({self._count(done)} {self.verbs[1]} before)" if done else ""
            self._say(BAD, f"{self.noun.capitalize()} {failed} was not {self.verbs[1]}: {describe(error)}{before}")
        else:
            self._say(OK, f"{self._count(done).capitalize()} {self.verbs[1]}: {', '.join(done)}.")
        finally:
            self._enable(True)

    async def _everything(self) -> None:
        try:
            results = await self._act_all()
        except Exception as error:
            what = f"the {self.noun}s of {self.symbol}" if self.symbol else f"every {self.noun}"
            self._say(BAD, f"Could not {self.verbs[0]} {what}: {describe(error)}")
        else:
            ids = [str(r.position_id or r.order_id) for r in results if r.position_id or r.order_id]
            listed = f": {', '.join(ids)}" if ids else ""
            self._say(OK, f"{self._count(results).capitalize()} {self.verbs[1]}{listed}.")
        finally:
            self._enable(True)

    def _count(self, items: Sequence[Any]) -> str:
        return f"{len(items)} {self.noun}{'' if len(items) == 1 else 's'}"

    def _enable(self, enabled: bool) -> None:
        if self.closed:
            return
        for button in self._buttons:
            button.disabled = not enabled

    def _say(self, style: str, text: str) -> None:
        self._message = text
        if not self.closed:
            self.status.value = f"<span style='{style}'>{html.escape(text)}</span>"

    def _stop_action(self) -> None:
        """On close: cancel an action in progress (a trade already sent stays sent), close the controls."""
        if self._action is not None and not self._action.done():
            self._action.cancel()
        for widget in (*self._buttons, self.status):
            widget.close()
