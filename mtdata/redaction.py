"""Tokens kept out of every log of the process: the redacted form, and a log-record factory applying it.

The socket's token travels in its URL's query (protocol §4.2: that is where the cloud reads it), and
engineio's client logs that URL; any library may also log a request, a header dict or an exception
naming a token. A filter on a logger misses the records its child loggers propagate, and one on a
handler misses handlers added later (``logging.basicConfig`` in a notebook), so :func:`protect`
wraps the process's log-record factory instead: every record created afterwards, by any logger at
any level, has its message, exception text and stack scrubbed before any filter or handler sees it.
Scrubbed are the tokens given to :func:`protect`, any ``auth-token`` value (query, header line,
header dict) and any JWT-shaped string. Client and sandbox both use this module.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from typing import Any
from urllib.parse import quote

__all__ = ["protect", "redact", "scrub"]

_KEY = r"auth-token(?:=|['\"]\s*[:,]\s*b?['\"]|:\s*)"
_PATTERN = re.compile(
    rf"(?P<key>{_KEY})(?P<value>[^\s&'\",;)}}\]]+)"  # a query value, a header line, a header in a dict or list
    r"|(?P<jwt>eyJ[\w-]{2,}\.eyJ[\w-]{2,}\.[\w-]+)"  # a JWT (header and payload are base64 JSON objects)
)
_REDACTED = re.compile(r"[^…]*…#[0-9a-f]{8}")
#: Shorter registered tokens are not replaced wherever they occur (a test token "x" would garble every message);
#: the ``auth-token`` pattern still redacts them.
MIN_LITERAL = 12

_known: tuple[str, ...] = ()
_lock = threading.Lock()


def redact(token: str | None) -> str:
    """A token as it may appear in messages and logs: its first 6 characters (fewer if short) and a short digest."""
    if not token:
        return "<none>"
    digest = hashlib.sha256(token.encode()).hexdigest()[:8]
    return f"{token[: min(6, len(token) // 4)]}…#{digest}"


def _redact_match(match: re.Match[str]) -> str:
    if match["jwt"]:
        return redact(match["jwt"])
    value = match["value"]
    return match[0] if _REDACTED.fullmatch(value) else match["key"] + redact(value)


def scrub(text: str) -> str:
    """``text`` with every known token, ``auth-token`` value and JWT replaced by its redacted form."""
    for token in _known:
        if token in text:
            text = text.replace(token, redact(token))
    if "auth-token" in text or "eyJ" in text:
        text = _PATTERN.sub(_redact_match, text)
    return text


def _scrub_record(record: logging.LogRecord) -> None:
    """Redact a record in place: its message (args merged in), exception text and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep it for the handler to report, unless it holds a token
        message = f"{record.msg} {record.args!r}"
    clean = scrub(message)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[0] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        clean = scrub(text)
        if clean != text:  # handlers print exc_text as it is; none formats the exception again
            record.exc_text, record.exc_info = clean, None
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


class _ScrubbingFactory:
    """A log-record factory: the one it wraps makes the record, then the record is scrubbed."""

    def __init__(self, wrapped: Any) -> None:
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.wrapped(*args, **kwargs)
        _scrub_record(record)
        return record


def protect(token: str | None) -> None:
    """Keep ``token`` (and any other token) out of every log record of the process from now on (idempotent)."""
    global _known
    with _lock:
        if token and len(token) >= MIN_LITERAL and token not in _known:
            _known = (*_known, *dict.fromkeys((token, quote(token, safe=""))))
        if not isinstance(logging.getLogRecordFactory(), _ScrubbingFactory):
            logging.setLogRecordFactory(_ScrubbingFactory(logging.getLogRecordFactory()))
