"""How values read to people: `42 days`, `99.9%`, `yes`."""

from __future__ import annotations

from okrbot.domain.commands import Metric


def format_value(value: float | None, unit: str | None, metric: Metric | str) -> str:
    if value is None:
        return "—"
    if Metric(metric) is Metric.BOOLEAN:
        return "yes" if value >= 1 else "no"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    unit = unit or ""
    if unit in ("%", "$", "€", "£"):
        return f"{unit}{text}" if unit != "%" else f"{text}%"
    return f"{text} {unit}".strip()
