"""The trend chart's geometry: an episode's scores, dose sessions and outcome lines placed on a plane.

Pure arithmetic from `episode.Episode`; `assessments/_trend.html` draws it as SVG on the server (no script,
no charting library). Time runs left to right, scores bottom to top (0 at the bottom). The response line is
half the baseline (a score on or below it is a 50% fall); the remission line is the instrument's cut from
the clinical library under the location's policy (a score on or below it is remission).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ketaclinic.assessments.episode import Episode
from ketaclinic.clinical import outcomes
from ketaclinic.clinical.outcomes import Outcome
from ketaclinic.clinical.policy import ClinicPolicy

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 44
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
OUTCOME_LABELS = {
    Outcome.REMISSION: "Remission",
    Outcome.RESPONSE: "Response",
    Outcome.NO_RESPONSE: "No response",
}


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    total: int
    on: dt.date
    assessment_id: int
    is_baseline: bool
    change_percent: float | None
    outcome: str  # "" for the baseline and scores before it


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class Line:
    y: float
    value: float
    label: str


@dataclass(frozen=True, slots=True)
class TrendChart:
    width: int
    height: int
    left: int
    top: int
    plot_w: int
    plot_h: int
    dots: tuple[Dot, ...]
    path: str
    doses: tuple[float, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    response: Line | None
    remission: Line
    start: dt.date | None
    end: dt.date | None

    @property
    def bottom(self) -> int:
        return self.top + self.plot_h

    @property
    def right(self) -> int:
        return self.left + self.plot_w


def _y_step(total_max: int) -> int:
    return 10 if total_max > 30 else 5


def _y(value: float, total_max: int) -> float:
    return round(TOP + PLOT_H - PLOT_H * value / total_max, 1)


def _x_ticks(start: dt.date, end: dt.date, x_of: Callable[[dt.date], float]) -> list[Tick]:
    span = (end - start).days
    if span <= 62:  # a short series: weekly ticks from its first day
        return [
            Tick(x_of(start + dt.timedelta(days=d)), (start + dt.timedelta(days=d)).strftime("%d %b"))
            for d in range(0, span + 1, 7 if span > 14 else 1 if span < 7 else 2)
        ]
    months = 1 if span <= 200 else 3 if span <= 800 else 12
    ticks: list[Tick] = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        if (month - 1) % months:
            continue
        day = dt.date(year, month, 1)
        if day > end:
            break
        label = (
            str(year)
            if months == 12
            else day.strftime("%b %Y")
            if month in (1, 7) or months > 1
            else day.strftime("%b")
        )
        ticks.append(Tick(x_of(day), label))
    return ticks


def _y_ticks(total_max: int) -> tuple[Tick, ...]:
    return tuple(Tick(_y(v, total_max), str(v)) for v in range(0, total_max + 1, _y_step(total_max)))


def chart(episode: Episode, policy: ClinicPolicy) -> TrendChart:
    days = [p.on for p in episode.points] + [d.on for d in episode.doses]
    total_max = episode.total_max
    if not days:
        return TrendChart(
            WIDTH, HEIGHT, LEFT, TOP, PLOT_W, PLOT_H, (), "", (), (), _y_ticks(total_max), None,
            Line(_y(episode.remission_max, total_max), episode.remission_max, "Remission"), None, None,
        )  # fmt: skip
    start, end = min(days), max(days)
    span = max((end - start).days, 1)

    def x_of(day: dt.date) -> float:
        return round(LEFT + PLOT_W * (day - start).days / span, 1)

    def y_of(value: float) -> float:
        return _y(value, total_max)

    base = episode.baseline
    scale = outcomes.parse_scale(episode.instrument)
    dots = []
    for p in episode.points:
        after = base is not None and p.on > base.on
        change = None
        if after and base is not None and base.total > 0:
            change = round(100 * (p.total - base.total) / base.total, 1)
        outcome = ""
        if after and base is not None:
            outcome = OUTCOME_LABELS[outcomes.classify(scale, base.total, p.total, policy)]
        dots.append(
            Dot(x_of(p.on), y_of(p.total), p.total, p.on, p.assessment_id, p is base, change, outcome)
        )
    path = " ".join(f"{d.x},{d.y}" for d in dots)
    response = None
    if episode.response_line is not None:
        response = Line(y_of(episode.response_line), episode.response_line, "Response (50% of baseline)")
    remission = Line(y_of(episode.remission_max), episode.remission_max, "Remission")
    y_ticks = _y_ticks(total_max)
    doses = tuple(sorted({x_of(d.on) for d in episode.doses}))
    return TrendChart(
        WIDTH, HEIGHT, LEFT, TOP, PLOT_W, PLOT_H, tuple(dots), path, doses, tuple(_x_ticks(start, end, x_of)),
        y_ticks, response, remission, start, end,
    )  # fmt: skip
