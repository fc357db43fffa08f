"""One self-contained HTML file: sections of text, tables and inline PNG figures.

The page is filled from ``templates/report.html`` with :class:`string.Template` (the
standard library; the report is simple enough that jinja2 would add a dependency and
nothing else). Every user-provided string - column names, file names, parameter values -
goes through :func:`html.escape`; figures are embedded as ``data:image/png;base64`` and a
Content-Security-Policy forbids loading anything else, so the file opens from disk offline.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

from aekit._atomic import atomic_file
from aekit._version import __version__

__all__ = ["Report", "Section", "figure_html", "table_html", "text_html", "write_report"]

FIGURE_DPI = 100


def esc(value: Any) -> str:
    """``str(value)`` made safe for HTML text and attribute values."""
    return html.escape(str(value), quote=True)


def format_value(value: Any) -> str:
    """A compact display of numbers (4 significant digits), tuples and the rest."""
    if isinstance(value, (bool, np.bool_)) or value is None:
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.4g}"
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(format_value(v) for v in value) + ")"
    return str(value)


def png_data_uri(fig, *, dpi: int = FIGURE_DPI) -> str:
    """Render a matplotlib Figure to a ``data:image/png;base64,...`` URI and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    _close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _close(fig) -> None:
    # Figures made through pyplot are registered there and must be closed to free them;
    # bare Figure objects are not, and need nothing.
    import sys

    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close(fig)  # a no-op for a figure pyplot does not know


def figure_html(fig_or_ax, *, alt: str, caption: str = "") -> str:
    """An inline ``<figure>`` for a matplotlib Figure (or an Axes: its figure)."""
    fig = getattr(fig_or_ax, "figure", fig_or_ax) if not hasattr(fig_or_ax, "savefig") \
        else fig_or_ax
    uri = png_data_uri(fig)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{uri}" alt="{esc(alt)}">{cap}</figure>'


def table_html(rows: Iterable[Sequence[Any]], headers: Sequence[str] | None = None) -> str:
    """An escaped HTML table; numeric cells are right-aligned and shown with 4 digits."""
    out = ["<table>"]
    if headers:
        out.append("<tr>" + "".join(f"<th>{esc(h)}</th>" for h in headers) + "</tr>")
    for row in rows:
        cells = []
        for cell in row:
            numeric = isinstance(cell, (int, float, np.integer, np.floating)) \
                and not isinstance(cell, (bool, np.bool_))
            cls = ' class="num"' if numeric else ""
            cells.append(f"<td{cls}>{esc(format_value(cell))}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def mapping_table(values: Mapping[str, Any]) -> str:
    """Two-column table of a mapping's keys and values."""
    return table_html(list(values.items()))


def text_html(text: str, *, cls: str | None = None) -> str:
    """A paragraph of escaped text."""
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<p{attr}>{esc(text)}</p>"


def heading_html(text: str) -> str:
    return f"<h3>{esc(text)}</h3>"


@dataclass
class Section:
    """A titled part of the report; ``parts`` are HTML fragments made by the helpers here."""

    title: str
    parts: list[str] = field(default_factory=list)
    id: str = ""

    def html(self) -> str:
        body = "\n".join(self.parts)
        return f'<section id="{esc(self.id)}">\n<h2>{esc(self.title)}</h2>\n{body}\n</section>'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


@dataclass
class Report:
    """An ordered list of sections with a title, rendered by :func:`write_report`."""

    title: str
    subtitle: str = ""
    sections: list[Section] = field(default_factory=list)

    def add(self, title: str, *parts: str, id: str | None = None) -> Section:
        """Append a section and return it (more parts can be appended to ``.parts``)."""
        slug = id or _slug(title)
        taken = {s.id for s in self.sections}
        base, i = slug, 2
        while slug in taken:
            slug, i = f"{base}-{i}", i + 1
        section = Section(title, list(parts), slug)
        self.sections.append(section)
        return section

    def render(self) -> str:
        template = Template(
            resources.files("aekit.report").joinpath("templates/report.html").read_text("utf-8"))
        nav = " ".join(f'<a href="#{esc(s.id)}">{esc(s.title)}</a>' for s in self.sections)
        return template.substitute(
            title=esc(self.title), subtitle=esc(self.subtitle), nav=nav,
            sections="\n".join(s.html() for s in self.sections), version=esc(__version__),
            created=esc(_dt.datetime.now().isoformat(timespec="seconds")))


def write_report(report: Report, path: str | os.PathLike) -> Path:
    """Write ``report`` as one HTML file at ``path``, atomically; return the path."""
    path = Path(path)
    text = report.render()
    with atomic_file(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
