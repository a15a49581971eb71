"""The app's JSON through orjson: Flask's own provider, with orjson doing the encoding and the parsing.

Every JSON answer goes through here, the API's verification above all: the standard library's encoder cost a
verification ~65,000 instructions for its ~20 fields, orjson ~6,000 (docs/benchmarks.md, "Issue 19"). What is
written is what Flask wrote, except that letters beyond ASCII are sent as UTF-8, not as \\u escapes: the same
JSON to any parser. Dates and times are still written Flask's way (an HTTP date), and anything orjson does not
know goes to Flask's own conversion.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider

#: Keys sorted as Flask sorts them; dates handed to Flask's conversion; integer keys written as strings.
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS


def loads(text: str | bytes) -> Any:
    """Parse JSON; a `ValueError` for anything that is not JSON, nesting too deep included.

    What orjson refuses, the standard library reads as it did before: a lone surrogate's `\\u` escape is JSON
    to it, and the API answers such a code with a verdict, as every other string.
    """
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:
            return json.loads(text)
        except RecursionError as error:
            raise ValueError("JSON nested deeper than the parser goes") from error


def _written(obj: Any, option: int = 0) -> bytes | None:
    """orjson's bytes with the provider's options (and `option`); None for what orjson refuses to write (a lone
    surrogate, an integer beyond 64 bits), which the standard library then writes."""
    try:
        return orjson.dumps(obj, default=DefaultJSONProvider.default, option=_OPTIONS | option)
    except TypeError:
        return None


class OrjsonProvider(DefaultJSONProvider):
    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """orjson's text; the standard library's for options orjson does not take (an indent) and for what it
        refuses to write."""
        if not kwargs and (written := _written(obj)) is not None:
            return written.decode()
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return super().loads(s, **kwargs) if kwargs else loads(s)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        if (self.compact is None and self._app.debug) or self.compact is False:  # indented, as Flask does
            return super().response(*args, **kwargs)
        obj = self._prepare_response_obj(args, kwargs)
        body = _written(obj, orjson.OPT_APPEND_NEWLINE)
        if body is None:
            return super().response(obj)
        return self._app.response_class(body, mimetype=self.mimetype)
