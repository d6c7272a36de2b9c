"""An iCalendar file (RFC 5545) for one enrolment's project: one all-day VEVENT with the project's
dates, name and organiser. Written by hand (no calendar library is installed): text values escaped
(3.3.11), lines folded at 75 octets without splitting a character (3.1), CRLF line ends."""

from __future__ import annotations

import datetime as dt

from .models import Enrolment


def escape_text(value: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon and comma escaped, newlines as \\n, other controls dropped."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return "".join(ch for ch in value if ch >= " " or ch == "\t")


def fold(line: str) -> str:
    """Fold a content line into pieces of at most 75 octets (UTF-8), continuation lines start with a space."""
    pieces, current, size = [], "", 0
    for ch in line:
        width = len(ch.encode("utf-8"))
        limit = 75 if not pieces else 74  # a continuation line's leading space counts
        if size + width > limit:
            pieces.append(current)
            current, size = "", 0
        current += ch
        size += width
    pieces.append(current)
    return "\r\n ".join(pieces)


def enrolment_calendar(enrolment: Enrolment, *, host: str, now: dt.datetime) -> str:
    project = enrolment.project
    stamp = now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//bureau//training//ZH",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:enrolment-{enrolment.pk}@{escape_text(host)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{project.start_on:%Y%m%d}",
        # All-day events end on the day after the last day (DTEND is exclusive).
        f"DTEND;VALUE=DATE:{project.end_on + dt.timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{escape_text(project.name)}",
        f"DESCRIPTION:{escape_text(f'项目编号：{project.code}；承办单位：{project.organiser}；学时：{project.hours:g}')}",
        f"LOCATION:{escape_text(project.organiser)}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
