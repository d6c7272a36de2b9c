"""Query parameters shared by pages, the API and the commands (SEC-6): a malformed or out-of-range value
answers 400 with a Chinese message that says what to send, never a 500 from deep in a query.

One rule for the year everywhere (docs/decisions.md, "Years the product accepts"): a whole number from
YEAR_MIN to YEAR_MAX. Pages call `year_param`, DRF serializers and django-filter filtersets use
`YearField` / `year_serializer_field`, commands use `year_argument`.
"""

from __future__ import annotations

import argparse
import datetime as dt

from django import forms
from django.core.exceptions import BadRequest, ValidationError
from django.http import Http404
from django.utils import timezone
from rest_framework import serializers

YEAR_MIN, YEAR_MAX = 2000, 2100
YEAR_MESSAGE = f"年度应为 {YEAR_MIN}–{YEAR_MAX} 之间的整数，例如 2026。"
YEAR_ERRORS = {key: YEAR_MESSAGE for key in ("required", "invalid", "min_value", "max_value", "max_string_length")}


class YearField(forms.IntegerField):
    """A year within the product's range, as a form (and django-filter) field."""

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", YEAR_MIN)
        kwargs.setdefault("max_value", YEAR_MAX)
        kwargs.setdefault("error_messages", YEAR_ERRORS)
        super().__init__(**kwargs)


def year_serializer_field(**kwargs) -> serializers.IntegerField:
    """The same rule as a DRF field (query serializers of the API); the schema shows the range."""
    kwargs.setdefault("help_text", f"年度（{YEAR_MIN}–{YEAR_MAX}）")
    return serializers.IntegerField(min_value=YEAR_MIN, max_value=YEAR_MAX, error_messages=YEAR_ERRORS, **kwargs)


def parse_year(value, default: int | None = None) -> int:
    """The year in `value` (text or number); `default` when empty. Raises ValidationError(YEAR_MESSAGE)."""
    if value in (None, "") and default is not None:
        value = default
    return YearField(required=True).clean(value if value is None else str(value).strip())


def year_param(request, name: str = "year", *, also_post: bool = False) -> int:
    """`?year=` of a page (or the form's year when `also_post`), this year when missing; 400 when bad."""
    value = request.GET.get(name) or (request.POST.get(name) if also_post else None)
    try:
        return parse_year(value, default=timezone.localdate().year)
    except ValidationError:
        raise BadRequest(YEAR_MESSAGE) from None


def date_param(request, name: str, default: dt.date) -> dt.date:
    """`?from=2026-03-01`-style date of a page, `default` when missing; 400 when malformed or out of range."""
    value = request.GET.get(name)
    if not value:
        return default
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        day = None
    if day is None or not YEAR_MIN <= day.year <= YEAR_MAX:
        raise BadRequest(f"{name}：日期应为 YYYY-MM-DD，年份在 {YEAR_MIN}–{YEAR_MAX} 之间，例如 2026-03-01。")
    return day


def id_param(request, name: str) -> int | None:
    """`?school=12`-style id of a page, None when missing; 400 when not a whole number."""
    value = request.GET.get(name)
    if not value:
        return None
    try:
        return forms.IntegerField(min_value=1, max_value=2**31 - 1).clean(value)
    except ValidationError:
        raise BadRequest(f"{name}：应为正整数编号。") from None


def text_param(request, name: str, *, max_length: int = 100) -> str:
    """A short text filter of a page (a school code, a source): 400 for NUL, which PostgreSQL refuses, or
    for text longer than any code."""
    value = request.GET.get(name, "")
    if "\x00" in value or len(value) > max_length:
        raise BadRequest(f"{name}：不能包含空字符，且不超过 {max_length} 个字符。")
    return value


def year_key(request, name: str = "year") -> str:
    """The year part of a cached page's key: never raises, so the view itself (after its permission check)
    is what answers 400 for a bad year."""
    try:
        return str(year_param(request, name))
    except BadRequest:
        return "invalid"



def year_argument(value: str) -> int:
    """A command's `--year` (argparse `type=`). A bad year is an argument error: from the shell the usage
    line and the Chinese message, exit status 2, no traceback; from call_command a CommandError."""
    try:
        return parse_year(value)
    except ValidationError:
        raise argparse.ArgumentTypeError(f"{value}：{YEAR_MESSAGE}") from None


def path_text(value: str) -> str:
    """Text from a URL path that is looked up (a 工号): PostgreSQL refuses NUL, and nothing stored has one,
    so such a value is simply not found."""
    if "\x00" in value:
        raise Http404
    return value
