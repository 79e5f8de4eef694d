"""Overlays on a version's diagram for the studio: running cases per element, and what a new version changes.

Both have the interface engine.diagram.svg.Renderer asks of its marks
(`shape`, `flow`, `legend`, `summary`), as engine.diagram.marks.Marks does
for a case's diagram.

- `CaseCounts`: each element where running cases stand gets a dashed frame
  and a badge with the number, titled "3 kørende sager står her: …".
- `DiffMarks`: added, removed and changed elements, never by colour alone
  (WCAG 1.4.1): added has a solid frame and a "+" badge, removed a dashed
  frame over a hatched fill and a "−" badge, changed a dotted frame and a
  "~" badge; each is titled ("Tilføjet: …", "Fjernet: …", "Ændret: …") and
  the legend names frame, badge and pattern.

`scoped(svg, prefix)` gives the ids of one SVG (markers, patterns) a prefix,
so two diagrams on one page never share an id. Colours meet 3:1 against
white as graphics and 4.5:1 where they carry text. Pure; no database.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .marks import LEGEND_ROW, outline
from .text import Bounds, Element, esc, local, num

COUNT_COLOUR = "#0550ae"    # blue, 7.6:1 on white: white digits on it 7.6:1
ADDED_COLOUR = "#1a7f37"    # green, 5.1:1
REMOVED_COLOUR = "#a4121c"  # red, 7.4:1
CHANGED_COLOUR = "#7a4a00"  # brown, 7.3:1
_LEGEND_Y = 18
_DASHED = ' stroke-dasharray="8 4"'
_DIFF_ROW = LEGEND_ROW + 6  # a badge sits on its sample's corner: room so it never touches the next row


def _count_badge(x: float, y: float, count: int) -> str:
    text = str(count)
    width = 14 + 7 * len(text)
    return (f'<rect x="{num(x - width / 2)}" y="{num(y - 11)}" width="{num(width)}" height="22" rx="11" '
            f'fill="{COUNT_COLOUR}" stroke="#ffffff" stroke-width="1.5"/>'
            f'<text x="{num(x)}" y="{num(y + 4)}" text-anchor="middle" font-size="12" font-weight="bold" '
            f'fill="#ffffff">{text}</text>')


@dataclass(frozen=True)
class CaseCounts:
    """Running cases per element id (a call activity counts the cases inside what it calls)."""

    counts: dict[str, int]
    version: int | None = None

    def shape(self, el: Element, b: Bounds, *, expanded: bool = False) -> str:
        count = self.counts.get(el.get("id") or "", 0)
        if not count:
            return ""
        name = el.get("name") or el.get("id")
        title = f"{count} kørende {'sag står' if count == 1 else 'sager står'} her: {name}"
        return (f'<g class="mark mark-count" data-element="{esc(el.get("id"))}" data-cases="{count}">'
                f"<title>{esc(title)}</title>{outline(local(el), b, COUNT_COLOUR, _DASHED)}"
                f"{_count_badge(b.x + b.w, b.y, count)}</g>")

    def flow(self, el: Element | None, edge: Element) -> str:
        return ""

    def legend(self, top: float) -> tuple[str, int]:
        sample = (f'<rect x="0" y="{_LEGEND_Y - 12}" width="36" height="24" rx="6" fill="#ffffff" '
                  f'stroke="{COUNT_COLOUR}" stroke-width="4" stroke-dasharray="8 4"/>{_count_badge(36, _LEGEND_Y - 12, 3)}')
        text = "Tal ved et trin: så mange kørende sager står der nu (stiplet ramme)"
        group = (f'<g class="legend" transform="translate(10 {num(top)})"><title>Signaturforklaring</title>{sample}'
                 f'<text x="60" y="{_LEGEND_Y + 4}" font-size="12">{esc(text)}</text></g>')
        return group, LEGEND_ROW + 8

    def summary(self) -> str:
        total = sum(self.counts.values())
        which = f"version {self.version}" if self.version is not None else "versionen"
        return (f"Procesdiagram for {which}: kørende sager står på {len([c for c in self.counts.values() if c])} "
                f"trin ({total} i alt, en sag kan stå flere steder)")


_DIFF_STATES = {
    "added": ("Tilføjet", ADDED_COLOUR, "", "+"),
    "removed": ("Fjernet", REMOVED_COLOUR, ' stroke-dasharray="8 4"', "−"),
    "changed": ("Ændret", CHANGED_COLOUR, ' stroke-dasharray="2 4"', "~"),
}


@dataclass(frozen=True)
class DiffMarks:
    """What changes between two versions, drawn on one of them (removed on the old, added on the new)."""

    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    changed: frozenset[str] = frozenset()
    label: str = ""  # "version 3", for the summary
    hatch_id: str = "hatch"
    names: dict[str, str] = field(default_factory=dict)

    def state(self, element_id: str | None) -> str | None:
        for name in ("removed", "added", "changed"):
            if element_id in getattr(self, name):
                return name
        return None

    def shape(self, el: Element, b: Bounds, *, expanded: bool = False) -> str:
        state = self.state(el.get("id"))
        if state is None:
            return ""
        word, colour, dash, symbol = _DIFF_STATES[state]
        title = f"{word}: {el.get('name') or el.get('id')}"
        fill = ""
        if state == "removed":
            fill = (f'<rect x="{num(b.x)}" y="{num(b.y)}" width="{num(b.w)}" height="{num(b.h)}" '
                    f'fill="url(#{self.hatch_id})" stroke="none"/>')
        return (f'<g class="mark mark-{state}" data-element="{esc(el.get("id"))}"><title>{esc(title)}</title>{fill}'
                f"{outline(local(el), b, colour, dash)}{_symbol_badge(b.x + b.w, b.y, colour, symbol)}</g>")

    def flow(self, el: Element | None, edge: Element) -> str:
        return ""

    def legend(self, top: float) -> tuple[str, int]:
        y = _LEGEND_Y
        rows = []
        for row, state in enumerate(("added", "removed", "changed")):
            word, colour, dash, symbol = _DIFF_STATES[state]
            fill = f' fill="url(#{self.hatch_id})"' if state == "removed" else ' fill="#ffffff"'
            how = {"added": "fuld ramme, +", "removed": "stiplet ramme over skravering, −",
                   "changed": "prikket ramme, ~"}[state]
            rows.append(f'<g transform="translate(0 {row * _DIFF_ROW})"><rect x="0" y="{y - 12}" width="36" '
                        f'height="24" rx="6"{fill} stroke="{colour}" stroke-width="4"{dash}/>'
                        f'{_symbol_badge(36, y - 12, colour, symbol)}'
                        f'<text x="54" y="{y + 4}" font-size="12">{esc(f"{word} trin ({how})")}</text></g>')
        defs = (f'<defs><pattern id="{self.hatch_id}" width="8" height="8" patternUnits="userSpaceOnUse" '
                f'patternTransform="rotate(45)">'
                f'<line x1="0" y1="0" x2="0" y2="8" stroke="{REMOVED_COLOUR}" stroke-width="2" '
                f'stroke-opacity="0.45"/></pattern></defs>')
        group = (f'{defs}<g class="legend" transform="translate(10 {num(top)})"><title>Signaturforklaring</title>'
                 + "".join(rows) + "</g>")
        return group, 3 * _DIFF_ROW + 8

    def summary(self) -> str:
        return (f"Procesdiagram for {self.label or 'versionen'}: {len(self.added)} tilføjede, "
                f"{len(self.removed)} fjernede og {len(self.changed)} ændrede trin er markeret")


def _symbol_badge(x: float, y: float, colour: str, symbol: str) -> str:
    return (f'<circle cx="{num(x)}" cy="{num(y)}" r="10" fill="{colour}" stroke="#ffffff" stroke-width="1.5"/>'
            f'<text x="{num(x)}" y="{num(y + 5)}" text-anchor="middle" font-size="15" font-weight="bold" '
            f'fill="#ffffff">{symbol}</text>')


_ID = re.compile(r'\bid="([^"]+)"')


def scoped(svg: str, prefix: str) -> str:
    """The SVG with each of its ids (and every url(#id) to them) prefixed: two diagrams on one page stay apart."""
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    svg = _ID.sub(lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})" if m.group(1) in ids else m.group(0),
                  svg)
