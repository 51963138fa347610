"""Request validation for the sandbox: field checkers that collect every problem and raise one error.

A :class:`Checker` wraps a JSON body (a dict) or a query string (a multidict of strings).
Each checker method returns the converted value (or the default) and records a
``{parameter, value, message}`` detail when the field is wrong; :meth:`Checker.done`
then raises a single :class:`~mtdata.sandbox.errors.ValidationError` naming them all.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections.abc import Collection, Mapping
from typing import Any

import orjson
from aiohttp import web

from .errors import INT64_MAX, INT64_MIN, ValidationError, shown
from .timeutil import parse_iso_ms

_MISSING: Any = object()

#: Largest ``metadata`` object accepted, as serialized JSON characters (protocol §10).
MAX_METADATA_CHARS = 1024
#: Largest JSON body accepted by handlers that read one.
MAX_BODY_BYTES = 1024 * 1024


def finite(value: Any, integer: bool = False) -> int | float | None:
    """``value`` as a finite JSON number (an integral one if ``integer``), or None if it is not one.

    NaN, ±Infinity, booleans, non-numbers, integers past 64 bits and (if ``integer``) fractional
    floats give None, so that every field checker refuses them as a ValidationError naming its field.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if not integer:
            return value
        if not value.is_integer():
            return None
        value = int(value)
    return value if INT64_MIN <= value <= INT64_MAX else None


async def read_json(request: web.Request, required: bool = True) -> dict[str, Any]:
    """The request body as a JSON object; ValidationError for non-JSON, non-object or (if required) empty bodies."""
    raw = await request.read()
    if not raw.strip():
        if required:
            raise ValidationError.field("body", "must be a JSON object")
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise ValidationError.field("body", "is too large")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationError.field("body", "is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationError.field("body", "must be a JSON object", type(data).__name__)
    return data


class Checker:
    """Collects validation problems of one request's fields (a JSON object or a query string).

    ``query=True`` means the values are strings from a URL query (converted here) and list
    fields are repeated keys.
    """

    def __init__(self, data: Mapping[str, Any], query: bool = False) -> None:
        self.data = data
        self.query = query
        self.details: list[dict[str, Any]] = []

    def fail(self, parameter: str, message: str, value: Any = _MISSING) -> None:
        """Record one problem."""
        detail: dict[str, Any] = {"parameter": parameter, "message": message}
        if value is not _MISSING:
            detail["value"] = shown(value)
        self.details.append(detail)

    def done(self) -> None:
        """Raise one ValidationError naming every recorded problem (if any)."""
        if self.details:
            names = ", ".join(d["parameter"] for d in self.details)
            raise ValidationError(f"Validation failed for {names}", self.details)

    def _raw(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is None and not self.query:
            value = _MISSING
        if value is _MISSING and required:
            self.fail(name, "is required")
        return value

    def string(
        self,
        name: str,
        required: bool = False,
        default: Any = None,
        choices: Collection[str] | None = None,
        max_length: int = 255,
        pattern: str | None = None,
        allow_empty: bool = False,
    ) -> Any:
        """A string field, optionally one of ``choices`` or matching ``pattern``."""
        value = self._raw(name, required)
        if value is _MISSING:
            return default
        if not isinstance(value, str):
            self.fail(name, "must be a string", value)
        elif not value and not allow_empty:
            self.fail(name, "must not be empty", value)
        elif len(value) > max_length:
            self.fail(name, f"must be at most {max_length} characters long", value)
        elif choices is not None and value not in choices:
            self.fail(name, f"must be one of {', '.join(sorted(choices))}", value)
        elif pattern is not None and not re.fullmatch(pattern, value):
            self.fail(name, "has an invalid format", value)
        else:
            return value
        return default

    def number(
        self,
        name: str,
        required: bool = False,
        default: Any = None,
        minimum: float | None = None,
        maximum: float | None = None,
        positive: bool = False,
        integer: bool = False,
    ) -> Any:
        """A number (``integer=True``: an integral one); bounds are inclusive, ``positive`` excludes zero."""
        value = self._raw(name, required)
        if value is _MISSING:
            return default
        kind = "an integer" if integer else "a number"
        parsed = self._to_number(value, integer)
        if parsed is None:
            self.fail(name, f"must be {kind}", value)
        elif positive and parsed <= 0:
            self.fail(name, "must be positive", value)
        elif minimum is not None and parsed < minimum:
            self.fail(name, f"must be at least {minimum:g}", value)
        elif maximum is not None and parsed > maximum:
            self.fail(name, f"must be at most {maximum:g}", value)
        else:
            return parsed
        return default

    def _to_number(self, value: Any, integer: bool) -> float | int | None:
        if self.query and isinstance(value, str):
            try:
                value = int(value) if integer else float(value)
            except ValueError:
                return None
        return finite(value, integer)

    def integer(self, name: str, **options: Any) -> Any:
        """An integral number field (see :meth:`number`)."""
        return self.number(name, integer=True, **options)

    def boolean(self, name: str, required: bool = False, default: Any = None) -> Any:
        """A boolean field (``true``/``false`` in a query)."""
        value = self._raw(name, required)
        if value is _MISSING:
            return default
        if self.query and value in ("true", "false"):
            return value == "true"
        if isinstance(value, bool):
            return value
        self.fail(name, "must be a boolean", value)
        return default

    def string_list(
        self,
        name: str,
        required: bool = False,
        choices: Collection[str] | None = None,
        max_items: int = 100,
        max_length: int = 255,
    ) -> list[str] | None:
        """A list of strings (repeated keys in a query; a JSON array in a body); None when absent."""
        if self.query:
            values: Any = self.data.getall(name, [])  # type: ignore[attr-defined]
            if not values:
                if required:
                    self.fail(name, "is required")
                return None
        else:
            values = self._raw(name, required)
            if values is _MISSING:
                return None
            if not isinstance(values, list):
                self.fail(name, "must be an array of strings", values)
                return None
        if len(values) > max_items:
            self.fail(name, f"must have at most {max_items} items", len(values))
            return None
        for item in values:
            if not isinstance(item, str) or not item or len(item) > max_length:
                self.fail(name, "must contain non-empty strings only", item)
                return None
            if choices is not None and item not in choices:
                self.fail(name, f"must contain only {', '.join(sorted(choices))}", item)
                return None
        return list(values)

    def metadata(self, name: str = "metadata") -> Any:
        """A free-form JSON object of at most 1024 serialized characters; None when absent."""
        value = self._raw(name, False)
        if value is _MISSING:
            return None
        if not isinstance(value, dict):
            self.fail(name, "must be a JSON object", value)
        elif len(orjson.dumps(value).decode()) > MAX_METADATA_CHARS:
            self.fail(name, f"must be at most {MAX_METADATA_CHARS} characters long when serialized to JSON")
        else:
            return value
        return None

    def base64(self, name: str, required: bool = False, max_bytes: int = 1024 * 1024) -> bytes | None:
        """A base64-encoded byte string; returns the decoded bytes, None when absent."""
        value = self.string(name, required=required, max_length=max_bytes * 2, allow_empty=True)
        if value is None:
            return None
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.fail(name, "must be base64-encoded", value)
            return None

    def date(self, name: str, required: bool = False) -> int | None:
        """An ISO-8601 date (1970..3000) as epoch milliseconds; None when absent."""
        value = self._raw(name, required)
        if value is _MISSING:
            return None
        try:
            return parse_iso_ms(value, name)
        except ValidationError as error:
            self.details.extend(error.extra["details"])
            return None


#: Largest uploaded file accepted (provisioning-profile files, expert advisors).
MAX_UPLOAD_BYTES = 16 * 1024 * 1024


async def read_upload(request: web.Request, field: str = "file") -> bytes:
    """The bytes of the multipart part named ``field``; ValidationError if the body has no such part."""
    if not request.content_type.startswith("multipart/"):
        raise ValidationError.field(field, "must be uploaded as multipart/form-data", request.content_type)
    try:
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if getattr(part, "name", None) != field:
                continue
            data = bytearray()
            while chunk := await part.read_chunk():  # type: ignore[union-attr]
                data += chunk
                if len(data) > MAX_UPLOAD_BYTES:
                    raise ValidationError.field(field, f"must be at most {MAX_UPLOAD_BYTES} bytes")
            return bytes(data)
    except (ValueError, AssertionError, RuntimeError, KeyError, EOFError):
        raise ValidationError.field("body", "is not a valid multipart/form-data body") from None
    raise ValidationError.field(field, "is required (a multipart part named file)")
