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

from ketaclinic.assessments.episode import Episode, grader
from ketaclinic.clinical.outcomes import Outcome
from ketaclinic.clinical.policy import ClinicPolicy

WIDTH, HEIGHT = 760, 280
DOT_R = 2.6
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
    day: str  # the date as pages show one (ISO 8601), made once here rather than per use in the template
    change: str  # the change as shown: "-42.1%", or "" with no change to show


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
    marks: str  # SVG path data: a small circle at every score
    doses: tuple[float, ...]
    dose_ticks: str  # SVG path data: a tick under every dose session's day
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
            WIDTH, HEIGHT, LEFT, TOP, PLOT_W, PLOT_H, (), "", "", (), "", (), _y_ticks(total_max), None,
            Line(_y(episode.remission_max, total_max), episode.remission_max, "Remission"), None, None,
        )  # fmt: skip
    start, end = min(days), max(days)
    span = max((end - start).days, 1)

    def x_of(day: dt.date) -> float:
        return round(LEFT + PLOT_W * (day - start).days / span, 1)

    def y_of(value: float) -> float:
        return _y(value, total_max)

    base = episode.baseline
    grade = grader(episode.instrument, base.total if base else 0, policy)
    dots = []
    for p in episode.points:
        after = base is not None and p.on > base.on
        change = None
        if after and base is not None and base.total > 0:
            change = round(100 * (p.total - base.total) / base.total, 1)
        outcome = ""
        if after and base is not None:
            outcome = OUTCOME_LABELS[grade(p.total)]
        shown = f"{change:+.1f}%" if change is not None else ""
        dots.append(
            Dot(
                x_of(p.on),
                y_of(p.total),
                p.total,
                p.on,
                p.assessment_id,
                p is base,
                change,
                outcome,
                p.on.isoformat(),
                shown,
            )
        )
    path = " ".join(f"{d.x},{d.y}" for d in dots)
    # Every score as one path of small circles, every dose session as one path of ticks: SVG path data (a
    # long history stays one element, not hundreds); the table below the chart gives each number.
    arc = f"a{DOT_R},{DOT_R} 0 1,0 {2 * DOT_R},0a{DOT_R},{DOT_R} 0 1,0 {-2 * DOT_R},0"
    marks = "".join(f"M{round(d.x - DOT_R, 1)},{d.y}{arc}" for d in dots)
    response = None
    if episode.response_line is not None:
        response = Line(y_of(episode.response_line), episode.response_line, "Response (50% of baseline)")
    remission = Line(y_of(episode.remission_max), episode.remission_max, "Remission")
    y_ticks = _y_ticks(total_max)
    doses = tuple(sorted({x_of(d.on) for d in episode.doses}))
    ticks = "".join(f"M{x},{TOP + PLOT_H + 6}v10" for x in doses)
    return TrendChart(
        WIDTH, HEIGHT, LEFT, TOP, PLOT_W, PLOT_H, tuple(dots), path, marks, doses, ticks,
        tuple(_x_ticks(start, end, x_of)), y_ticks, response, remission, start, end,
    )  # fmt: skip
