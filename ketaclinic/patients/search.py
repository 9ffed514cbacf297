"""Patient search through an index of tokens (PatientNameToken), the same SQL on SQLite and PostgreSQL.

A patient's tokens are every prefix of every folded word of the name (accents removed, case folded;
hyphenated and apostrophe names also split and joined), and, whole, the MRN and its number, the external
MRN and the date of birth (YYYY-MM-DD). A query matches a patient when each of its words equals one of
the patient's tokens: "jose gar" finds "García, José", "kc-000123" or "000123" an MRN, "1980-05-17" or
"05/17/1980" a birth date.

Storing the prefixes makes every word an equality on one index ordered (location, token, sort key): a
page of results is read in list order from the index, and the count is a walk of one index range, with
no sorting or de-duplication of the matches, so a search costs about the same at 10,000 patients as at
100,000 (docs/performance.md). The visible-patients restriction is the index's first column. The
actions keep the tokens current in their own transaction (`refresh`); a registration entered in error
has none, so it is never found.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, overload

from django.db import connection

from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.patients.models import Patient, PatientListFacts, PatientNameToken

MAX_WORDS = 4
# Name prefixes are stored up to this length (and the whole word); a longer typed word must be whole.
MAX_PREFIX = 20
TOKEN_LENGTH = 80  # PatientNameToken.token.max_length
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d.%m.%Y")
_PUNCTUATION = re.compile(r"[-'’.]")
_TABLE = PatientNameToken._meta.db_table
_PATIENTS = Patient._meta.db_table
_LOCATIONS = ClinicLocation._meta.db_table
_FACTS = PatientListFacts._meta.db_table


def fold(text: str) -> str:
    """Lower case without accents: "José Müller" -> "jose muller" (compatibility forms decomposed too)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def sort_key(family_name: str, given_name: str, mrn: str) -> str:
    return f"{fold(family_name)}\x1f{fold(given_name)}\x1f{mrn}"[:200]


def _name_tokens(name: str) -> set[str]:
    whole: set[str] = set()
    for word in fold(name).split():
        whole.add(word)
        parts = [p for p in _PUNCTUATION.split(word) if p]
        whole.update(parts)
        whole.add("".join(parts))  # o'brien -> obrien, mary-jane -> maryjane
    return whole | {w[:n] for w in whole for n in range(1, min(len(w), MAX_PREFIX) + 1)}


def tokens(
    *, given_name: str, family_name: str, mrn: str, external_mrn: str, date_of_birth: dt.date
) -> set[str]:
    """Every token a patient is found by: name prefixes, and whole identifiers and birth date."""
    found = _name_tokens(given_name) | _name_tokens(family_name)
    found.add(fold(mrn))
    number = mrn.rpartition("-")[2]
    if number.isdigit():
        found.add(number)
    if external_mrn:
        found.add(fold(external_mrn))
    found.add(date_of_birth.isoformat())
    return {t[:TOKEN_LENGTH] for t in found if t}


def patient_tokens(patient: Patient) -> list[PatientNameToken]:
    """The token rows of a patient (none when the registration was entered in error)."""
    if patient.entered_in_error_at is not None:
        return []
    key = sort_key(patient.family_name, patient.given_name, patient.mrn)
    words = tokens(
        given_name=patient.given_name,
        family_name=patient.family_name,
        mrn=patient.mrn,
        external_mrn=patient.external_mrn,
        date_of_birth=patient.date_of_birth,
    )
    return [
        PatientNameToken(patient_id=patient.pk, location_id=patient.location_id, token=t, sort_key=key)
        for t in sorted(words)
    ]


def refresh(patient: Patient) -> None:
    """Rewrite a patient's tokens; call inside the action's transaction."""
    PatientNameToken.objects.filter(patient_id=patient.pk).delete()
    PatientNameToken.objects.bulk_create(patient_tokens(patient))


def _as_date(word: str) -> dt.date | None:
    if not word[:1].isdigit():
        return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(word, fmt).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    return None


def words(query: str) -> list[str]:
    """The query's search words, folded; a typed date becomes YYYY-MM-DD. Longest first (most selective)."""
    out: list[str] = []
    for raw in query.replace(",", " ").split():
        born = _as_date(raw)
        word = born.isoformat() if born else fold(raw)[:TOKEN_LENGTH]
        if word and word not in out:
            out.append(word)
    return sorted(out, key=len, reverse=True)[:MAX_WORDS]


@dataclass(frozen=True, slots=True)
class ListedLocation:
    pk: int
    name: str
    slug: str


@dataclass(frozen=True, slots=True)
class Listed:
    """A patient as a list or search result shows one (the attributes a Patient has for it)."""

    pk: uuid.UUID
    mrn: str
    external_mrn: str
    given_name: str
    family_name: str
    date_of_birth: dt.date
    sex: str
    location: ListedLocation
    # What the result's safety chips are computed from (picture.listed_flags), read only when asked for
    # (`Matches(..., with_list_facts=True)`): the patient's own columns and its stored list facts (None
    # when not read, or when the patient has no PatientListFacts row).
    pregnancy_status: str = ""
    breastfeeding: bool = False
    list_facts: str | None = None


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


class Matches:
    """The patients a search finds, in list order: what a Paginator and the API page through.

    `count()` is one query over the index, and so is a slice (a page of `Listed` rows), whatever the
    number of matches. With `with_list_facts`, each row also carries what its safety chips are computed
    from (the search page); the API's rows show no chips and skip that join (about 30 us a page).
    """

    def __init__(self, location_ids: Collection[int], query: str, *, with_list_facts: bool = False) -> None:
        self.locations = sorted(location_ids)
        self.words = words(query)
        self.with_list_facts = with_list_facts
        self._count: int | None = None

    def _where(self) -> tuple[str, list[Any]]:
        if not self.locations or not self.words:
            return "1 = 0", []
        marks = ", ".join(["%s"] * len(self.locations))
        # The first word walks the search index; each other word is a lookup in the (patient, token) one.
        other = f"EXISTS (SELECT 1 FROM {_TABLE} o WHERE o.patient_id = t.patient_id AND o.token = %s)"  # noqa: S608
        sql = [f"t.location_id IN ({marks})", "t.token = %s", *[other] * (len(self.words) - 1)]
        return " AND ".join(sql), [*self.locations, *self.words]

    def count(self) -> int:
        if self._count is None:
            where, args = self._where()
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {_TABLE} t WHERE {where}", args)  # noqa: S608
                self._count = int(cursor.fetchone()[0])
        return self._count

    def __len__(self) -> int:
        return self.count()

    def page(self, offset: int, limit: int) -> list[Listed]:
        """One page of matches in list order, in one query: the page's ids read in order from the index
        (a patient has a token once), then just the columns a list shows, with the location's name, and
        when asked for, what the safety chips are computed from (the stored list facts, by primary key)."""
        where, args = self._where()
        chips, join = "", ""
        if self.with_list_facts:
            chips = ", p.pregnancy_status, p.breastfeeding, f.facts"
            join = f"LEFT JOIN {_FACTS} f ON f.patient_id = p.id "
        sql = (
            f"SELECT p.id, p.mrn, p.external_mrn, p.given_name, p.family_name, p.date_of_birth, p.sex, "  # noqa: S608
            f"l.id, l.name, l.slug{chips} FROM (SELECT t.sort_key, t.patient_id FROM {_TABLE} t "
            f"WHERE {where} ORDER BY t.sort_key LIMIT %s OFFSET %s) page "
            f"JOIN {_PATIENTS} p ON p.id = page.patient_id JOIN {_LOCATIONS} l ON l.id = p.location_id "
            f"{join}ORDER BY page.sort_key"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*args, int(limit), int(offset)])
            rows = cursor.fetchall()
        if not self.with_list_facts:
            return [
                Listed(_uuid(pk), mrn, ext, given, family, _date(born), sex, ListedLocation(loc, name, slug))
                for pk, mrn, ext, given, family, born, sex, loc, name, slug in rows
            ]
        return [
            Listed(
                _uuid(pk),
                mrn,
                ext,
                given,
                family,
                _date(born),
                sex,
                ListedLocation(loc, name, slug),
                pregnancy,
                bool(feeding),
                facts,
            )
            for pk, mrn, ext, given, family, born, sex, loc, name, slug, pregnancy, feeding, facts in rows
        ]

    @overload
    def __getitem__(self, index: int) -> Listed: ...
    @overload
    def __getitem__(self, index: slice) -> list[Listed]: ...
    def __getitem__(self, index: int | slice) -> Listed | list[Listed]:
        if isinstance(index, int):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        if stop is None or stop <= start:
            return []
        if self._count is not None and start >= self._count:
            return []
        return self.page(start, stop - start)


def load(ids: Iterable[Any], columns: Sequence[str]) -> list[Patient]:
    """The patients with these ids, in that order, with their location."""
    wanted = list(ids)
    if not wanted:
        return []
    rows = Patient.objects.filter(pk__in=wanted).select_related("location").only(*columns)
    by_id = {p.pk: p for p in rows}
    return [by_id[pk] for pk in wanted if pk in by_id]
