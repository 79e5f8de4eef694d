"""The results table (Markdown, so the terminal and docs/performance.md show the same text),
and rewriting the results section of docs/performance.md between its markers."""
from __future__ import annotations

from pathlib import Path

from .common import ROOT, Row

DOC = ROOT / "docs" / "performance.md"
START = "<!-- bench:results:start (written by `make bench`; edits inside are overwritten) -->"
END = "<!-- bench:results:end -->"
HEADER = ("Row", "Measurement", "n", "per s", "mean ms", "p50 ms", "p95 ms", "state KiB", "Notes")


def _num(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _cells(row: Row) -> tuple[str, ...]:
    if row.skipped:
        return (row.key, row.what, "–", "–", "–", "–", "–", "–", row.skipped)
    return (row.key, row.what, str(row.n), _num(row.per_second), _num(row.mean_ms), _num(row.pct_ms(50)),
            _num(row.pct_ms(95)), _num(row.state_kib), row.note)


def table(rows: list[Row]) -> str:
    return grid(HEADER, [_cells(r) for r in rows], right={2, 3, 4, 5, 6, 7})


def grid(header: tuple[str, ...], cells: list[tuple[str, ...]], *, right: set[int]) -> str:
    """A Markdown table, its columns padded; the `right` columns (numbers) aligned right."""
    lines = [tuple(header)] + cells
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]

    def fmt(cells):
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths, strict=False))) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                          for i, w in enumerate(widths)) + "|"
    return "\n".join([fmt(lines[0]), rule] + [fmt(cells) for cells in lines[1:]])


def results_block(machine: list[str], rows: list[Row], seconds: float) -> str:
    machine_md = "\n".join(f"- {line}" for line in machine)
    return (f"{START}\n{machine_md}\n- Whole run: {seconds:.0f} s\n\n{table(rows)}\n{END}")


def write_doc(block: str) -> Path:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else ""
    if START in text and END in text:
        head, rest = text.split(START, 1)
        tail = rest.split(END, 1)[1]
        text = head + block + tail
    else:
        text = TEMPLATE.replace("{results}", block)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")
    return DOC


# Used only when docs/performance.md or its markers are missing; otherwise the
# prose there is kept and only the results section is replaced.
TEMPLATE = """# Performance

Measured by `make bench` (`python -m bench.run`): one run, one table. The
section between the markers below is rewritten by every run.

{results}
"""
