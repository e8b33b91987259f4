"""Building an impact report once for the pages, the exports and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask import render_template

from coalition.blueprints.impact import charts, present
from coalition.blueprints.impact.access import Report, coalition_description
from coalition.extensions import db
from coalition.services import impact
from coalition.services.impact import TRANSFER_COLUMNS, Figures


@dataclass
class Built:
    """A report's figures, the coalition's totals beside them, and the charts."""

    report: Report
    figures: Figures
    coalition: Figures | None

    def charts(self) -> dict[str, charts.Chart]:
        """The charts, rendered on demand."""
        return charts.all_charts(self.figures)


def build(report: Report) -> Built:
    """Compute the report's figures (and a member's view of the coalition's totals)."""
    figures = impact.compute(db.session, report.scope, report.wording, with_orgs=True)
    coalition = None
    if report.coalition_scope is not None:
        coalition = impact.compute(db.session, report.coalition_scope, report.wording)
    return Built(report, figures, coalition)


def context(built: Built) -> dict[str, Any]:
    """What the page and report templates show."""
    return {
        "report": built.report,
        "figures": built.figures,
        "coalition": built.coalition,
        "charts": built.charts(),
        "description": coalition_description(built.report.neutral),
    }


def html(built: Built, for_pdf: bool = False) -> str:
    """The printable report."""
    return render_template("impact/report.html", for_pdf=for_pdf, **context(built))


def pdf(built: Built) -> bytes:
    """The report as PDF (WeasyPrint)."""
    from weasyprint import HTML

    return bytes(HTML(string=html(built, for_pdf=True)).write_pdf())


def figures_csv(built: Built) -> Iterator[str]:
    """Every figure, as CSV lines."""
    rows = present.figure_rows(built.report, built.figures, built.coalition)
    return present.to_csv(present.FIGURE_COLUMNS, rows)


def transfers_csv(report: Report, progress: Callable[[int], None] | None = None) -> Iterator[str]:
    """The underlying transfers, as CSV lines."""
    rows = impact.transfers(db.session, report.scope, report.wording)
    for line in present.to_csv(TRANSFER_COLUMNS, present.transfer_rows(rows)):
        yield line
        if progress:
            progress(1)
