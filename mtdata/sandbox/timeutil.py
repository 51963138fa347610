"""Time formats of the wire: ISO-8601 UTC with milliseconds, broker wall-clock strings, epoch ms."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from .errors import ValidationError

#: Earliest and latest dates the sandbox accepts in requests (absurd dates are a 400).
MIN_DATE_MS = 0
MAX_DATE_MS = 32503680000000  # 3000-01-01, the client SDK's own clamp


def now_ms() -> int:
    """Wall-clock time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def iso_ms(ms: int) -> str:
    """``2024-03-01T12:00:05.123Z`` for epoch milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def iso_now() -> str:
    """The current wall-clock time as a wire ISO string."""
    return iso_ms(now_ms())


def parse_iso_ms(value: object, parameter: str) -> int:
    """Parse a wire date (ISO string) into epoch ms, or raise ValidationError naming ``parameter``."""
    if not isinstance(value, str) or not value or len(value) > 40:
        raise ValidationError.field(parameter, "must be an ISO-8601 date string", value)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError.field(parameter, "must be an ISO-8601 date string", value) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    ms = int(parsed.timestamp() * 1000)
    if not MIN_DATE_MS <= ms < MAX_DATE_MS:
        raise ValidationError.field(parameter, "is out of the supported range 1970..3000", value)
    return ms
