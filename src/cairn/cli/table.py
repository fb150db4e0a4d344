"""ASCII tables as etcdctl's ``-w table`` draws them.

etcdctl renders with olekukonko/tablewriter (v0.0.5): a +-| border, the
header upper-cased and centred, rows right-aligned, one space of padding,
and cells wider than 30 columns word-wrapped with minimal raggedness.  The
rules below are that library's, so tables line up byte for byte.
"""

from __future__ import annotations

import unicodedata

MAX_CELL_WIDTH = 30
_TOO_LONG_PENALTY = 100_000
_INFINITE_COST = 2**31 - 1


def display_width(text: str) -> int:
    """Terminal columns: East Asian wide/full-width runes take two,
    combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def wrap_words(words: list[str], limit: int) -> list[list[str]]:
    """Split words into lines minimising the sum of squared slack; a line
    longer than ``limit`` (one long word) costs a large penalty."""
    n = len(words)
    widths = [display_width(w) for w in words]
    cost = [_INFINITE_COST] * n
    next_break = [0] * n
    for i in range(n - 1, -1, -1):
        line = sum(widths[i:]) + (n - 1 - i)
        if line <= limit:
            cost[i] = 0
            next_break[i] = n
            continue
        length = widths[i]
        for j in range(i + 1, n):
            # length is the width of words[i:j] with single spaces.
            slack = limit - length
            c = slack * slack + cost[j]
            if length > limit:
                c += _TOO_LONG_PENALTY
            if c < cost[i]:
                cost[i] = c
                next_break[i] = j
            length += 1 + widths[j]
    lines = []
    i = 0
    while i < n:
        lines.append(words[i:next_break[i]])
        i = next_break[i]
    return lines


def cell_lines(text: str) -> tuple[list[str], int]:
    """The lines a cell prints as, and the column width it asks for: its
    widest line, capped at 30, or the widest word when that is wider."""
    raw = text.split("\n")
    width = min(max(display_width(line) for line in raw), MAX_CELL_WIDTH)
    # All paragraphs reflow into one before wrapping.
    words = " ".join(raw).split(" ")
    limit = max([width] + [display_width(w) for w in words])
    lines = [" ".join(line) for line in wrap_words(words, limit)]
    return lines, max([width] + [display_width(line) for line in lines])


def _title(header: str) -> str:
    title = header.replace("_", " ").strip().upper()
    return title or (" " if header else "")


def _center(text: str, width: int) -> str:
    gap = width - display_width(text)
    if gap <= 0:
        return text
    left = gap // 2
    return " " * left + text + " " * (gap - left)


def _right(text: str, width: int) -> str:
    gap = width - display_width(text)
    return " " * gap + text if gap > 0 else text


def render(header: list[str], rows: list[list[str]]) -> str:
    widths = [0] * len(header)
    header_cells = []
    for i, text in enumerate(header):
        lines, width = cell_lines(text)
        header_cells.append(lines)
        widths[i] = max(widths[i], width)
    row_cells = []
    for row in rows:
        cells = []
        for i, text in enumerate(row):
            lines, width = cell_lines(text)
            cells.append(lines)
            widths[i] = max(widths[i], width)
        row_cells.append(cells)

    border = "+" + "+".join("-" * (w + 2) for w in widths) + "+\n"
    out = [border]
    height = max(len(cell) for cell in header_cells)
    for y in range(height):
        parts = []
        for i, cell in enumerate(header_cells):
            text = cell[y] if y < len(cell) else ""
            parts.append(" " + _center(_title(text), widths[i]) + " ")
        out.append("|" + "|".join(parts) + "|\n")
    out.append(border)
    for row in row_cells:
        height = max(len(cell) for cell in row)
        # Short cells are filled with two-space lines, as tablewriter does.
        padded = [cell + ["  "] * (height - len(cell)) for cell in row]
        for y in range(height):
            out.append("|" + "|".join(" " + _right(cell[y], widths[i]) + " "
                                      for i, cell in enumerate(padded)) + "|\n")
    out.append(border)
    return "".join(out)
