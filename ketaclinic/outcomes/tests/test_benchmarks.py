"""Published figures stand beside the clinic's only where scale and definitions match."""

from __future__ import annotations

from ketaclinic.outcomes.benchmarks import all_benchmarks, split, why_not


def by_key(key: str):  # type: ignore[no-untyped-def]
    return next(b for b in all_benchmarks() if b.key == key)


def test_the_figures_are_the_research_files() -> None:
    mcinnes = by_key("mcinnes_2022")
    assert (mcinnes.scale, mcinnes.remission_max, mcinnes.imputation) == ("phq9", 4, "completers")
    assert (mcinnes.response_rate, mcinnes.remission_rate) == (0.536, 0.289)
    assert mcinnes.durability_landmarks == {28: 0.80, 56: 0.60}
    transform = by_key("transform_2")
    assert (transform.scale, transform.remission_max, transform.response_rate, transform.remission_rate) == (
        "madrs",
        12,
        0.693,
        0.525,
    )
    escape = by_key("escape_trd")
    assert (escape.remission_max, escape.remission_rate, escape.response_rate) == (10, 0.271, None)
    for b in all_benchmarks():
        assert b.source.startswith("http"), b.key


def test_phq9_shows_mcinnes_and_never_a_madrs_study() -> None:
    shown, left = split(scale="phq9", remission_max=4, modality=None)
    assert [b.key for b in shown] == ["mcinnes_2022"]
    assert all(b.scale == "phq9" for b in shown)
    # Figures whose cut-offs our sources do not state are listed, not compared.
    assert {b.key for b, _ in left} == {"oliver_2022_6wk", "escape_trd_phq9_wk8"}


def test_the_madrs_cut_off_decides_between_transform_and_escape() -> None:
    ten, _ = split(scale="madrs", remission_max=10, modality="esketamine_nasal")
    twelve, _ = split(scale="madrs", remission_max=12, modality="esketamine_nasal")
    assert [b.key for b in ten] == ["escape_trd"]
    assert [b.key for b in twelve] == ["transform_2"]


def test_a_study_of_another_modality_is_left_out_when_the_report_is_filtered() -> None:
    mcinnes = by_key("mcinnes_2022")
    assert why_not(mcinnes, scale="phq9", remission_max=4, modality="iv_ketamine") is None
    reason = why_not(mcinnes, scale="phq9", remission_max=4, modality="esketamine_nasal")
    assert reason is not None and "IV ketamine" in reason


def test_a_remission_cut_off_that_differs_is_left_out() -> None:
    reason = why_not(by_key("mcinnes_2022"), scale="phq9", remission_max=5, modality=None)
    assert reason == "remission cut-off 4 or less, the clinic's is 5 or less"


def test_qids_shows_elekt_d_response_only() -> None:
    shown, _ = split(scale="qids_sr16", remission_max=5, modality="iv_ketamine")
    assert [(b.key, b.response_rate, b.remission_rate) for b in shown] == [("elekt_d", 0.554, None)]
