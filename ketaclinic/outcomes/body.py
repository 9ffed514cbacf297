"""The report as one plain dict (the API's answer, the page's and the CSV's source), and the chart
geometry the page's SVG template draws. No HTML here: templates render it."""

from __future__ import annotations

from typing import Any

from ketaclinic.outcomes.benchmarks import Benchmark, split
from ketaclinic.outcomes.cohort import PointResult, Rate, Report


def _rate(r: Rate) -> dict[str, Any]:
    return {"rate": r.value, "numerator": r.numerator, "denominator": r.denominator}


def _point(p: PointResult) -> dict[str, Any]:
    return {
        "key": p.key,
        "label": p.label,
        "day": p.day,
        "window": p.window,
        "assessed": p.assessed,
        "responders": p.responders,
        "remitters": p.remitters,
        "completers": {"response": _rate(p.completers_response), "remission": _rate(p.completers_remission)},
        "non_responder_imputation": {
            "response": _rate(p.nri_response),
            "remission": _rate(p.nri_remission),
        },
    }


def _benchmark(b: Benchmark) -> dict[str, Any]:
    return {
        "study": b.study,
        "scale": b.scale,
        "response_rate": b.response_rate,
        "remission_rate": b.remission_rate,
        "definition": b.definition,
        "modality": b.modality,
        "time_point": b.time_point,
        "population": b.population,
        "imputation": b.imputation,
        "remission_max": b.remission_max,
        "durability_landmarks": [
            {"day": d, "survival": v} for d, v in sorted(b.durability_landmarks.items())
        ],
        "durability_note": b.durability_note,
        "source": b.source,
    }


def report_body(
    report: Report, *, scope: dict[str, Any], modality: str, filters: dict[str, Any]
) -> dict[str, Any]:
    eoi = report.end_of_induction
    d = report.durability
    shown, left = split(
        scale=report.instrument, remission_max=report.remission_max, modality=modality or None
    )
    return {
        "instrument": report.instrument,
        "scope": scope,
        "filters": filters,
        "patients": report.patients,
        "with_baseline": report.with_baseline,
        "with_follow_up": report.with_follow_up,
        # The headline: end of induction, completers (the convention of the community series it is most
        # often set beside); both conventions are in `end_of_induction`.
        "response_rate": eoi.completers_response.value,
        "remission_rate": eoi.completers_remission.value,
        "min_cell": report.min_cell,
        "remission_max": report.remission_max,
        "funnel": [{"step": k, "label": label, "patients": n} for k, label, n in report.funnel],
        "end_of_induction": _point(eoi),
        "time_points": [_point(p) for p in report.time_points],
        "durability": {
            "curve": [{"day": t, "survival": v} for t, v in d.curve],
            "responders": d.responders,
            "events": d.events,
            "censored": d.censored,
            "hidden": d.hidden,
            "landmarks": [{"day": t, "survival": v} for t, v in d.landmarks],
            "at_risk": [{"day": t, "patients": n} for t, n in d.at_risk],
            "median_days": d.median_days,
            "censoring": report.definitions["censoring"],
            "event": report.definitions["loss_of_response"],
        },
        "benchmarks": [_benchmark(b) for b in shown],
        "benchmarks_not_compared": [{"study": b.study, "reason": why} for b, why in left],
        "definitions": report.definitions,
    }


# --- Chart geometry -----------------------------------------------------------------------------------------

WIDTH, HEIGHT, PAD_L, PAD_R, PAD_T, PAD_B = 560, 260, 48, 16, 14, 36


def curve_chart(body: dict[str, Any]) -> dict[str, Any]:
    """The durability curve as an SVG step path, its axes, landmarks and the benchmark's landmark dots."""
    d = body["durability"]
    curve = d["curve"]
    max_day = int(max([84, *(p["day"] for p in curve)]))
    plot_w, plot_h = WIDTH - PAD_L - PAD_R, HEIGHT - PAD_T - PAD_B

    def x(day: float) -> float:
        return round(PAD_L + plot_w * day / max_day, 1)

    def y(value: float) -> float:
        return round(PAD_T + plot_h * (1 - value), 1)

    path = ""
    if curve:
        last = 1.0
        path = f"M{x(0)},{y(1.0)}"
        for p in curve:
            path += f" H{x(p['day'])} V{y(p['survival'])}"
            last = p["survival"]
        path += f" H{x(max(p['day'] for p in curve))}"
        del last
    x_ticks = [{"x": x(t), "label": str(t)} for t in range(0, max_day + 1, 14 if max_day <= 182 else 28)]
    y_ticks = [{"y": y(v / 100), "label": f"{v}%"} for v in range(0, 101, 25)]
    marks = [
        {"x": x(m["day"]), "y": y(m["survival"]), "day": m["day"], "survival": m["survival"]}
        for m in d["landmarks"]
        if m["survival"] is not None
    ]
    published = [
        {
            "x": x(m["day"]),
            "y": y(m["survival"]),
            "day": m["day"],
            "survival": m["survival"],
            "study": b["study"],
        }
        for b in body["benchmarks"]
        for m in b["durability_landmarks"]
    ]
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": PAD_L,
        "right": WIDTH - PAD_R,
        "top": PAD_T,
        "bottom": HEIGHT - PAD_B,
        "path": path,
        "x_ticks": x_ticks,
        "y_ticks": y_ticks,
        "marks": marks,
        "published": published,
        "landmark_lines": [{"x": x(m["day"]), "day": m["day"]} for m in d["landmarks"]],
    }


def bar_chart(body: dict[str, Any]) -> dict[str, Any]:
    """Response and remission at each time point, both conventions, beside the comparable published ones."""
    groups: list[dict[str, Any]] = []
    for p in [body["end_of_induction"], *body["time_points"]]:
        groups.append(
            {
                "label": p["label"],
                "bars": [
                    {
                        "what": "Response, completers",
                        "kind": "resp",
                        "value": p["completers"]["response"]["rate"],
                    },
                    {
                        "what": "Response, non-responder imputation",
                        "kind": "resp-nri",
                        "value": p["non_responder_imputation"]["response"]["rate"],
                    },
                    {
                        "what": "Remission, completers",
                        "kind": "rem",
                        "value": p["completers"]["remission"]["rate"],
                    },
                    {
                        "what": "Remission, non-responder imputation",
                        "kind": "rem-nri",
                        "value": p["non_responder_imputation"]["remission"]["rate"],
                    },
                ],
            }
        )
    for b in body["benchmarks"]:
        groups.append(
            {
                "label": b["study"].split(",")[0].split(" (")[0],
                "published": True,
                "bars": [
                    {"what": "Response (published)", "kind": "resp", "value": b["response_rate"]},
                    {"what": "Remission (published)", "kind": "rem", "value": b["remission_rate"]},
                ],
            }
        )
    plot_h = HEIGHT - PAD_T - PAD_B
    group_w = (WIDTH - PAD_L - PAD_R) / max(1, len(groups))
    for gi, g in enumerate(groups):
        bar_w = min(18.0, (group_w - 10) / len(g["bars"]))
        x0 = PAD_L + gi * group_w + (group_w - bar_w * len(g["bars"])) / 2
        g["x_mid"] = round(PAD_L + gi * group_w + group_w / 2, 1)
        for bi, bar in enumerate(g["bars"]):
            v = bar["value"]
            h = 0.0 if v is None else plot_h * v
            bar.update(
                x=round(x0 + bi * bar_w, 1),
                w=round(bar_w - 2, 1),
                h=round(h, 1),
                y=round(PAD_T + plot_h - h, 1),
            )
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": PAD_L,
        "right": WIDTH - PAD_R,
        "top": PAD_T,
        "bottom": HEIGHT - PAD_B,
        "groups": groups,
        "y_ticks": [
            {"y": round(PAD_T + plot_h * (1 - v / 100), 1), "label": f"{v}%"} for v in range(0, 101, 25)
        ],
    }


def csv_rows(body: dict[str, Any]) -> list[list[Any]]:
    """The report as rows: section, item, convention, numerator, denominator, value."""
    rows: list[list[Any]] = [["section", "item", "convention", "numerator", "denominator", "value"]]
    for f in body["funnel"]:
        rows.append(["funnel", f["label"], "", f["patients"], "", ""])
    for p in [body["end_of_induction"], *body["time_points"]]:
        for conv in ("completers", "non_responder_imputation"):
            for what in ("response", "remission"):
                r = p[conv][what]
                rows.append(
                    [
                        p["label"],
                        what,
                        conv,
                        r["numerator"],
                        r["denominator"],
                        "" if r["rate"] is None else r["rate"],
                    ]
                )
    d = body["durability"]
    for m in d["landmarks"]:
        rows.append(
            [
                "durability",
                f"still responding at day {m['day']}",
                "Kaplan-Meier",
                "",
                d["responders"],
                "" if m["survival"] is None else m["survival"],
            ]
        )
    for c in d["curve"]:
        rows.append(["durability curve", f"day {c['day']}", "Kaplan-Meier", "", "", c["survival"]])
    for b in body["benchmarks"]:
        rows.append(
            [
                "published",
                b["study"],
                b["imputation"],
                "",
                "",
                f"response {b['response_rate']}; remission {b['remission_rate']}",
            ]
        )
    return rows
