"""Server-rendered SVG charts (pygal): no script, no network, a data table beside each."""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import pygal
from flask_babel import gettext
from markupsafe import Markup
from pygal.style import Style

from coalition.i18n import N_
from coalition.security_headers import csp_nonce
from coalition.services.impact import Figures

# pygal appends a legacy meta-path finder (for its map plugins, unused here) whose
# find_module() turns every later failed import into an ImportWarning: take it out.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

STYLE = Style(
    background="#ffffff",
    plot_background="#ffffff",
    foreground="#1d2433",
    foreground_strong="#1d2433",
    foreground_subtle="#5b6475",
    colors=("#0b6e4f", "#1d4ed8", "#a15c00", "#7c3aed", "#b42318", "#0e7490", "#4d7c0f"),
    font_family="system-ui, sans-serif",
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    title_font_size=15,
    value_font_size=12,
)
OPTIONS = {
    "style": STYLE,
    "js": [],  # no tooltips script: nothing is fetched
    "disable_xml_declaration": True,
    "width": 640,
    "height": 320,
    "legend_at_bottom": True,
    "print_values": False,
    "show_y_guides": True,
}


# pygal always embeds its tooltip configuration as a script; these charts carry none
SCRIPT = re.compile(r"<script\b.*?</script>", re.S)


# the tooltip's `style="opacity: 0"` as a presentation attribute: the CSP allows no style="…"
HIDDEN_STYLE = 'style="opacity: 0"'


def _render(chart: pygal.graph.graph.Graph) -> str:
    """The chart's SVG, without scripts or style attributes."""
    return SCRIPT.sub("", chart.render(is_unicode=True)).replace(HIDDEN_STYLE, 'opacity="0"')


@dataclass(frozen=True)
class Chart:
    """An SVG chart and its title."""

    title: str
    svg: str

    @property
    def inline(self) -> Markup:
        """The SVG to put in a page (hidden from screen readers: the table says it)."""
        svg = self.svg.replace("<svg ", '<svg aria-hidden="true" focusable="false" ', 1)
        svg = svg.replace("<style", f'<style nonce="{csp_nonce()}"')  # pygal's own stylesheet
        # pygal escapes every label it draws, so its own SVG output is safe markup
        return Markup(svg)  # nosec B704

    @property
    def data_uri(self) -> str:
        """The SVG as an image source (for the PDF)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


Series = tuple[tuple[str, tuple[int, ...]], ...]


def _svg(kind: str, labels: tuple[str, ...], series: Series) -> str:
    """The chart of the given data, saying 'No data' in the reader's language when empty."""
    return _drawn(kind, labels, series, gettext("No data"))


@lru_cache(maxsize=256)
def _drawn(kind: str, labels: tuple[str, ...], series: Series, no_data: str) -> str:
    """Render a chart of the given data once (the same figures draw the same chart)."""
    options: dict[str, Any] = {**OPTIONS, "no_data_text": no_data}
    if kind == "pie":
        chart = pygal.Pie(**{**options, "inner_radius": 0.45, "legend_at_bottom": False})
    else:
        if kind == "bar" and len(labels) > 8:
            options["x_label_rotation"] = -40
        chart = (pygal.Bar if kind == "bar" else pygal.HorizontalBar)(**options)
        chart.x_labels = list(labels)
    for name, values in series:
        chart.add(name, list(values) if kind != "pie" else values[0])
    return _render(chart)


def monthly(figures: Figures) -> Chart:
    """Units and staff hours shared, month by month."""
    labels = tuple(m.month for m in figures.months)
    series = (
        (gettext("Units"), tuple(m.units for m in figures.months)),
        (gettext("Staff hours"), tuple(m.hours for m in figures.months)),
    )
    return Chart(N_("Shared per month"), _svg("bar", labels, series))


def categories(figures: Figures) -> Chart:
    """Each category's share of the units shared."""
    series = tuple((c.label, (c.quantity,)) for c in figures.supplies)
    return Chart(N_("Units shared by category"), _svg("pie", (), series))


def boroughs(figures: Figures) -> Chart:
    """Transfers each borough's organizations gave and received."""
    labels = tuple(b.name for b in figures.boroughs)
    series = (
        (gettext("Gave"), tuple(b.gave_transfers for b in figures.boroughs)),
        (gettext("Received"), tuple(b.received_transfers for b in figures.boroughs)),
    )
    return Chart(N_("Transfers by borough"), _svg("hbar", labels, series))


def all_charts(figures: Figures) -> dict[str, Chart]:
    """The three charts of a page or report."""
    return {"monthly": monthly(figures), "categories": categories(figures),
            "boroughs": boroughs(figures)}  # fmt: skip
