"""``-w table``: only the list-like responses (members, endpoints)."""

from __future__ import annotations

from . import table
from .printer import (Printer, endpoint_health_rows, endpoint_status_rows,
                      member_list_rows)


class TablePrinter(Printer):
    format_name = "table"

    def _render(self, header, rows) -> None:
        self.write(table.render(header, rows))

    def member_list(self, resp) -> None:
        self._render(*member_list_rows(resp))

    def endpoint_health(self, healths) -> None:
        self._render(*endpoint_health_rows(healths))

    def endpoint_status(self, statuses) -> None:
        self._render(*endpoint_status_rows(statuses))
