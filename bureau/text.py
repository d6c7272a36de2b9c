"""SEC-6: control characters in typed text, one rule for every field kind (docs/decisions.md).

Word's Shift+Enter pastes a vertical tab (\\x0b); XML 1.0, and so every xlsx, cannot hold it, and one such
name used to break every city workbook. Three kinds of text, three treatments:

- names and codes (a person, school, district, project, organiser, subject; a staff number or a code):
  refused with a Chinese message (`validate_no_control_characters`), at input: model field validators
  (admin and other model forms, DRF model serializers) and the spreadsheet reader (`as_text`);
- single-line free text (a note, a reason, a claim title): cleaned (`SingleLineTextField`): line breaks
  and tabs become a space, other control characters are removed;
- multi-line text (evidence, comments, objections): cleaned (`MultiLineTextField`): \\r\\n, \\r, \\x0b and
  \\x0c become \\n, other control characters except \\n and \\t are removed.

The workbook writer removes, from every string it writes, what no xlsx can hold (`clean_for_xml`:
control characters but \t, \n and \r), so rows stored before this rule still export.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.deconstruct import deconstructible

# C0 controls, DEL and C1 controls (Unicode category Cc).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_LINE_BREAK = re.compile("\r\n|[\r\x0b\x0c]")
_CONTROL_BUT_NEWLINE_AND_TAB = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_WHITESPACE_CONTROL = re.compile("[\t\n\r\x0b\x0c]+")
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

CONTROL_CHARACTER_MESSAGE = "不能包含控制字符（如从 Word 粘贴带来的换行符），请删除后重新输入"


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def clean_multiline(text: str) -> str:
    """Multi-line text: every line break becomes \\n; other control characters but \\t go."""
    if not _CONTROL.search(text):  # the common case costs one scan
        return text
    return _CONTROL_BUT_NEWLINE_AND_TAB.sub("", _LINE_BREAK.sub("\n", text))


def clean_for_xml(text: str) -> str:
    """What a workbook cell may hold: control characters removed, but \t, \n and \r (legal in XML)."""
    if not _NOT_IN_XML.search(text):
        return text
    return _NOT_IN_XML.sub("", text)


def clean_single_line(text: str) -> str:
    """Single-line free text: line breaks and tabs become one space; other control characters go."""
    if not _CONTROL.search(text):
        return text
    return _CONTROL.sub("", _WHITESPACE_CONTROL.sub(" ", text)).strip()


@deconstructible
class NoControlCharactersValidator:
    """Names and codes: refuse rather than guess what was meant."""

    message = CONTROL_CHARACTER_MESSAGE
    code = "control_characters"

    def __call__(self, value) -> None:
        if isinstance(value, str) and has_control_characters(value):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other) -> bool:
        return isinstance(other, NoControlCharactersValidator)

    def __hash__(self) -> int:
        return hash(self.code)


validate_no_control_characters = NoControlCharactersValidator()


class SingleLineTextField(models.CharField):
    """A CharField for free text (notes, reasons, titles): cleaned on validation and on every save,
    so text that reaches a service straight from a request is cleaned too."""

    def to_python(self, value):  # CharField.get_prep_value calls to_python: saves are cleaned too
        value = super().to_python(value)
        return clean_single_line(value) if isinstance(value, str) else value


class MultiLineTextField(models.TextField):
    """A TextField whose line breaks are kept as \\n and whose other control characters are removed."""

    def to_python(self, value):  # TextField.get_prep_value calls to_python: saves are cleaned too
        value = super().to_python(value)
        return clean_multiline(value) if isinstance(value, str) else value
