"""fastload builds the same instances as the ORM, value for value and type for type, on every database.

The comparison runs over every installed model (Django's own included), so a new model or field is
checked the day it is added; a field fastload cannot convert exactly is refused with its model's name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from django.apps import apps
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, models, transaction
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ketaclinic import fastload
from ketaclinic.accounts import throttle
from ketaclinic.accounts.actions import (
    do_check_second_factor,
    do_create_api_token,
    do_decline_role_request,
    do_enrol_mfa,
    do_request_role,
)
from ketaclinic.accounts.models import ClinicLocation
from ketaclinic.audit.context import Origin
from ketaclinic.audit.models import Action, AuditEvent, Outcome, RepeatTally, Via
from ketaclinic.audit.repeats import record_repeated
from ketaclinic.clinicpolicy.actions import do_add_chair, do_change_policy, do_retire_chair
from ketaclinic.clinicpolicy.inputs import ChairIn, PolicyChangeIn
from ketaclinic.clinicpolicy.models import Chair, ChairKind
from ketaclinic.homecare.tests.fastload_rows import fill as fill_homecare
from ketaclinic.idempotency.models import IdempotencyKey
from ketaclinic.ledger.tests import helpers as ledger_helpers
from ketaclinic.patients import actions, inputs
from ketaclinic.patients.models import (
    AllergyCategory,
    BodyMeasurement,
    EntryStatus,
    Patient,
    Substance,
    SubstanceUse,
    UseStatus,
)
from ketaclinic.scheduling.tests.fastload_rows import fill as fill_scheduling
from ketaclinic.therapy.tests.fastload_rows import fill as fill_therapy
from ketaclinic.treatment.tests.fastload_rows import fill as fill_treatment

if TYPE_CHECKING:
    from conftest import World

MODELS = apps.get_models()


def _fill(world: World) -> None:
    """At least one row in every table, with nulls and values both present where a column allows them."""
    patient = world.patient("north")
    actor = patient.created_by
    actions.do_record_measurement(
        patient, inputs.MeasurementIn(weight_kg=Decimal("70.5"), height_cm=Decimal("171.2")), actor=actor
    )
    actions.do_record_measurement(patient, inputs.MeasurementIn(weight_kg=Decimal("71.0")), actor=actor)
    actions.do_add_history_entry(
        patient,
        inputs.SubstanceUseIn(
            substance=Substance.ALCOHOL, use_status=UseStatus.PAST, last_used_on=dt.date(2020, 2, 3)
        ),
        actor=actor,
    )
    actions.do_add_history_entry(
        patient,
        inputs.SubstanceUseIn(substance=Substance.CANNABIS, use_status=UseStatus.CURRENT),
        actor=actor,
    )
    actions.do_add_history_entry(
        patient, inputs.AllergyIn(substance="Latex", category=AllergyCategory.ENVIRONMENT), actor=actor
    )
    do_create_api_token(actor, name="fastload", actor=actor)
    do_enrol_mfa(actor, "ab" * 20, confirmed_step=1, actor=actor)
    codes = do_enrol_mfa(world.user("admin.north"), "cd" * 20, confirmed_step=1)
    do_check_second_factor(world.user("admin.north"), codes[0])  # a device with a last-used time
    admin = world.user("admin.north")
    north = ClinicLocation.objects.get(slug="north")
    do_request_role(north, "prescriber", actor=admin)  # a pending request: nulls where undecided
    do_decline_role_request(do_request_role(north, "nurse", actor=admin), actor=admin)
    Group.objects.create(name="reviewers")
    room = do_add_chair(north, ChairIn(name="Recovery room", kind=ChairKind.ROOM), actor=admin)
    do_retire_chair(room, actor=admin, expected_version=room.version)
    change = PolicyChangeIn(
        values={"madrs_remission_max": 12}, time_zone="America/Denver", reason="local protocol"
    )
    do_change_policy(north, change, actor=admin, expected_version=0)
    chair = Chair.objects.get(location=north, name="Chair 1")  # the demo's
    fill_treatment(patient, actor, chair)
    fill_therapy(patient, chair)
    fill_homecare(patient)
    fill_scheduling(patient)
    ledger_helpers.fill(north, world.user("nurse.north"), world.user("prescriber.north"), patient)
    LogEntry.objects.create(
        user=actor,
        content_type=ContentType.objects.get_for_model(Patient),
        object_id=str(patient.pk),
        object_repr="a patient",
        action_flag=ADDITION,
        change_message="[]",
    )
    session = SessionStore()
    session["probe"] = 1
    session.create()
    throttle.take("probe", limit=5, window_seconds=60)
    record_repeated(Action.API_AUTH_FAILED, origin=Origin(source_ip="192.0.2.1"), outcome=Outcome.FAILURE)
    RepeatTally.objects.create(action=Action.API_AUTH_THROTTLED, via=Via.API, outcome=Outcome.DENIED)
    _emergency_grants(world)
    _screening_and_consent(world)
    _rems(world)
    _assessments_and_safety(world)
    _ledger_losses_portal_and_outbox(world)
    _billing(world)
    IdempotencyKey.objects.create(
        user=actor, key="probe", fingerprint="0" * 64, created_at=timezone.now(), body=b'{"x": 1}'
    )


def _screening_and_consent(world: World) -> None:
    """A screening with an acknowledgement, a REMS enrolment, two document versions, and consents signed
    with and without a drawn signature (ketaclinic/screening, ketaclinic/consent)."""
    from ketaclinic.screening.tests import helpers

    patient = world.patient("north")
    screening = helpers.screen(helpers.patient(conditions=("psychosis_history",)), "iv_ketamine")
    helpers.acknowledge_all(screening)
    helpers.enrol(patient)
    helpers.document("north", "iv_ketamine")
    document = helpers.document("north", "iv_ketamine")
    helpers.sign(patient, document)
    helpers.sign(patient, document, signature=helpers.SIGNATURE)


def _rems(world: World) -> None:
    """A location's REMS setting details changed (ketaclinic/rems): the optional contact left blank; a signed
    esketamine session's form recorded as submitted."""
    from ketaclinic.rems.actions import do_save_rems_setting
    from ketaclinic.rems.inputs import RemsSettingIn

    north = ClinicLocation.objects.get(slug="north")
    details = RemsSettingIn(
        location="north",
        version=1,
        setting_name="North Clinic",
        address="1 Harbour Way",
        certification_id="SPR-N-0001",
        authorised_representative="Dr Avery Stone",
        asks_respiratory_depression=False,
    )
    do_save_rems_setting(north, details, actor=world.user("admin.north"))
    from ketaclinic.rems.actions import do_record_submission
    from ketaclinic.rems.inputs import SubmissionIn
    from ketaclinic.treatment.models import PlanModality, SessionStatus, TreatmentSession

    session = TreatmentSession.objects.select_related("location", "patient").get(
        location=north, status=SessionStatus.SIGNED, plan__modality=PlanModality.ESKETAMINE_NASAL
    )
    sent = SubmissionIn(submitted_at=timezone.now(), confirmation_number="CONF-1")
    do_record_submission(session, sent, actor=world.user("nurse.north"))


def _assessments_and_safety(world: World) -> None:
    """A self-report PHQ-9 answering a request, with item 9 positive (its task closed by a prescriber's
    high C-SSRS, whose urgent alert a safety plan closed), and one request still pending (assessments)."""
    from ketaclinic.assessments.actions import do_record_assessment, do_request_assessment
    from ketaclinic.assessments.inputs import AssessmentIn, AssessmentRequestIn
    from ketaclinic.assessments.models import Source
    from ketaclinic.assessments.safety import do_record_safety_plan
    from ketaclinic.assessments.safety_inputs import SafetyPlanIn

    patient, prescriber = world.patient("north", 1), world.user("prescriber.north")
    ask = AssessmentRequestIn(instrument="phq9", channel="none")
    request, _ = do_request_assessment(patient, ask, actor=world.user("nurse.north"))
    do_request_assessment(patient, AssessmentRequestIn(instrument="gad7"), actor=prescriber)
    phq9 = AssessmentIn(instrument="phq9", answers=[1, 1, 1, 1, 1, 1, 1, 1, 2])
    do_record_assessment(patient, phq9, actor=None, source=Source.SELF_REPORT, request=request)
    high = {
        "q1": True,
        "q2": True,
        "q3": True,
        "q4": True,
        "q5": False,
        "q6": True,
        "q6_past_3_months": False,
    }
    cssrs = AssessmentIn.model_validate({"instrument": "cssrs_screen", "answers": high})
    do_record_assessment(patient, cssrs, actor=prescriber)
    do_record_safety_plan(patient, SafetyPlanIn(plan_text="Call or text 988."), actor=prescriber)


def _ledger_losses_portal_and_outbox(world: World) -> None:
    """A theft report with its written notice (ketaclinic/ledger); a portal account invited, its invitation
    used, and a location's IV preparation text (ketaclinic/portal); one message claimed in the outbox
    (ketaclinic/messaging)."""
    from ketaclinic.ledger.actions import do_record_loss_step
    from ketaclinic.ledger.inputs import LossStepIn
    from ketaclinic.ledger.tests import matrix as ledger_matrix
    from ketaclinic.messaging import outbox
    from ketaclinic.portal.actions import do_accept_invitation, do_invite_patient, do_set_preparation_text
    from ketaclinic.portal.inputs import InviteIn, PasswordIn, PreparationIn

    north = ClinicLocation.objects.get(slug="north")
    report = ledger_matrix.loss_at(north)
    step = LossStepIn.model_validate(ledger_matrix.step_body(north))
    do_record_loss_step(report, step, actor=world.user("nurse.north"))
    patient = world.patient("north")
    invite = InviteIn(email="portal.patient@example.test")
    _, secret = do_invite_patient(patient, invite, actor=world.user("nurse.north"))
    password = "a long enough demo password 7"
    do_accept_invitation(secret, PasswordIn(password=password, password_again=password))
    do_invite_patient(
        world.patient("south"), InviteIn(email="other@example.test"), actor=world.user("nurse.south")
    )
    text = PreparationIn(modality="iv_ketamine", text="Eat a light meal the evening before.")
    do_set_preparation_text(north, text, actor=world.user("admin.north"))
    outbox.claim("probe-message", kind="probe", channel="email", location_id=north.pk, now=timezone.now())


def _billing(world: World) -> None:
    """A coverage with a card image, benefits checks with and without amounts, an estimate, and an invoice
    with a payment and a write-off (ketaclinic/billing; the prices and code rules are the demo's)."""
    from ketaclinic.billing import actions as billing
    from ketaclinic.billing import inputs as billing_inputs
    from ketaclinic.billing.models import EntryKind, PaymentMethod
    from ketaclinic.billing.tests import matrix as billing_matrix
    from ketaclinic.treatment.models import PlanModality
    from ketaclinic.treatment.tests import matrix as treatment_matrix

    patient, desk = world.patient("south"), world.user("frontdesk.south")
    with treatment_matrix.frozen(patient) as clock:
        coverage = billing_matrix.coverage_of(patient)
        for covered in (True, False):
            check = billing_inputs.BenefitCheckIn(
                modality=PlanModality.ESKETAMINE_NASAL,
                covered=covered,
                copay=Decimal(40) if covered else None,
                coinsurance_percent=Decimal(20) if covered else None,
                deductible_remaining=Decimal(300) if covered else None,
            )
            billing.do_record_benefit_check(coverage, check, actor=desk)
        billing.do_estimate(billing_matrix.draft_plan(patient), billing_inputs.EstimateIn(), actor=desk)
        invoice = billing_matrix.invoice_of(patient, clock)
        invoice.patient = patient
        paid = billing_inputs.PaymentIn(
            amount=Decimal(10), method=PaymentMethod.CASH, received_on=clock.now.date()
        )
        billing.do_record_payment(invoice, paid, actor=desk)
        off = billing_inputs.EntryIn(kind=EntryKind.WRITE_OFF, amount=Decimal(5), reason="courtesy")
        billing.do_record_entry(invoice, off, actor=desk)
        from ketaclinic.billing.models import PriorAuthorization

        plan, today = billing_matrix.draft_plan(patient), clock.now.date()
        for cover, note in ((coverage, "renewed by phone"), (None, "")):
            PriorAuthorization.objects.create(
                plan=plan,
                patient=patient,
                coverage=cover,
                number="PA-1",
                approved_from=today,
                approved_to=today + dt.timedelta(days=90),
                approved_sessions=8,
                note=note,
                created_at=clock.now,
                created_by=desk,
            )
    _fhir_exports(world)


def _fhir_exports(world: World) -> None:
    """A queued FHIR export and a finished one (ketaclinic/fhir)."""
    from ketaclinic.fhir.models import ExportJob

    prescriber, now = world.user("prescriber.north"), timezone.now()
    north = ClinicLocation.objects.get(slug="north")
    ExportJob.objects.create(requested_by=prescriber, request_url="/fhir/R4/Patient/$export", created_at=now)
    ExportJob.objects.create(
        requested_by=prescriber,
        group=north,
        location_ids=[north.pk],
        request_url="/fhir/R4/Group/north/$export",
        types=["Patient"],
        since=now,
        status="done",
        patients_total=2,
        patients_done=2,
        resources_written=10,
        output=[{"type": "Patient", "url": "x"}],
        created_at=now,
        transaction_time=now,
        finished_at=now,
        last_polled_at=now,
    )


def _emergency_grants(world: World) -> None:
    """One break-glass grant ended early and reviewed, one still open (ketaclinic/emergency)."""
    from ketaclinic.emergency import actions as emergency
    from ketaclinic.emergency.inputs import EmergencyAccessIn, ReviewIn

    nurse, mrn = world.user("nurse.south"), world.patient("north").mrn
    ask = EmergencyAccessIn(mrn=mrn, reason="Collapsed at the south clinic", confirm=True)
    done = emergency.do_open_emergency_access(ask, actor=nurse)
    emergency.do_end_emergency_access(done, actor=nurse)
    emergency.do_review_emergency_access(done, ReviewIn(note="checked"), actor=world.user("admin.north"))
    emergency.do_open_emergency_access(ask, actor=nurse)


def test_every_model_is_loadable_or_refused_by_name() -> None:
    for model in MODELS:
        fastload.check(model)  # raises UnsupportedField naming model and field


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_row_of_every_model_loads_exactly_as_the_orm_loads_it(
    world: World, model: type[models.Model]
) -> None:
    _fill(world)
    expected = list(model._default_manager.order_by("pk"))
    loaded = fastload.fetch(model, order_by=(model._meta.pk.name,))
    assert expected, f"no {model._meta.label} row to compare: add one in _fill()"
    assert len(loaded) == len(expected)
    for want, got in zip(expected, loaded, strict=True):
        for field in model._meta.concrete_fields:
            a, b = getattr(want, field.attname), getattr(got, field.attname)
            assert (a, type(a)) == (b, type(b)), (model._meta.label, field.name)
        assert got._state.adding is False and got._state.db == want._state.db


def test_fetch_one_by_keyword(world: World) -> None:
    patient = world.patient("south")
    found = fastload.fetch_one(Patient, id=patient.pk)
    assert found is not None
    assert found == patient and found.get_sex_display() == patient.get_sex_display()
    assert fastload.fetch_one(Patient, id=str(patient.pk)) == patient  # prepared as the field prepares it
    assert fastload.fetch_one(Patient, mrn="nobody") is None


def test_filters_mean_what_the_orm_means(world: World) -> None:
    _fill(world)
    patient = world.patient("north")
    cut = dt.date(2020, 2, 3)

    def ids(rows: Any) -> list[Any]:
        return sorted(r.pk for r in rows)

    # __ne on a nullable column keeps the NULL rows, as exclude() does
    orm = SubstanceUse.objects.filter(patient=patient).exclude(last_used_on=cut)
    assert ids(fastload.fetch(SubstanceUse, patient=patient, last_used_on__ne=cut)) == ids(orm)
    assert any(r.last_used_on is None for r in orm)
    # None is IS NULL, and __ne=None is IS NOT NULL
    assert ids(fastload.fetch(BodyMeasurement, patient=patient.pk, height_cm=None)) == ids(
        BodyMeasurement.objects.filter(patient=patient, height_cm__isnull=True)
    )
    assert ids(fastload.fetch(AuditEvent, patient__ne=None)) == ids(
        AuditEvent.objects.filter(patient__isnull=False)
    )
    # a field, its attname and a model instance all name the same rows
    live = fastload.fetch(SubstanceUse, patient_id=patient.pk, status__ne=EntryStatus.ENTERED_IN_ERROR)
    assert ids(live) == ids(SubstanceUse.objects.filter(patient=patient).exclude(status="entered_in_error"))
    # __in takes a list of values, each prepared by its field (UUIDs, model instances)
    some = list(Patient.objects.order_by("mrn")[:3])
    assert ids(fastload.fetch(Patient, id__in=[str(some[0].pk), some[1].pk, some[2]])) == ids(some)
    assert ids(fastload.fetch(SubstanceUse, patient__in=[p.pk for p in some], status="active")) == ids(
        SubstanceUse.objects.filter(patient__in=some, status="active")
    )
    # __lte is the ORM's __lte, on dates and on moments alike
    assert ids(fastload.fetch(SubstanceUse, patient=patient, last_used_on__lte=cut)) == ids(
        SubstanceUse.objects.filter(patient=patient, last_used_on__lte=cut)
    )
    first = AuditEvent.objects.order_by("occurred_at")[0].occurred_at
    for moment in (first, first - dt.timedelta(microseconds=1), first + dt.timedelta(seconds=1)):
        earlier = fastload.fetch(AuditEvent, occurred_at__lte=moment)
        assert ids(earlier) == ids(AuditEvent.objects.filter(occurred_at__lte=moment))
    assert fastload.fetch(AuditEvent, occurred_at__lte=first)
    assert not fastload.fetch(AuditEvent, occurred_at__lte=first - dt.timedelta(microseconds=1))
    # descending order, limit and offset
    orm_order = list(BodyMeasurement.objects.order_by("-measured_on", "-created_at", "id")[1:3])
    got = fastload.fetch(BodyMeasurement, order_by=("-measured_on", "-created_at", "id"), limit=2, offset=1)
    assert [m.pk for m in got] == [m.pk for m in orm_order]


def test_get_raises_the_models_does_not_exist(world: World) -> None:
    patient = world.patient("south")
    assert fastload.get(Patient, id=patient.pk) == patient
    with pytest.raises(Patient.DoesNotExist):
        fastload.get(Patient, mrn="nobody")


def test_for_update_outside_a_transaction_is_refused(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each test runs inside a transaction; the connection is told it is in autocommit, as outside one.
    monkeypatch.setattr(connection, "get_autocommit", lambda: True)
    with pytest.raises(TransactionManagementError, match="outside a transaction"):
        fastload.fetch_one(ClinicLocation, id=1, for_update=True)


def test_for_update_locks_as_select_for_update_does(world: World) -> None:
    patient = world.patient("south")
    with transaction.atomic(), CaptureQueriesContext(connection) as seen:
        assert fastload.get(Patient, id=patient.pk, for_update=True) == patient
    sql = seen.captured_queries[-1]["sql"]
    assert sql.endswith(" FOR UPDATE") == connection.features.has_select_for_update, sql


def test_held_rows_answer_the_related_manager_without_a_query(world: World) -> None:
    _fill(world)
    patient = fastload.get(Patient, id=world.patient("north").pk)
    rows = fastload.fetch(SubstanceUse, patient=patient, order_by=("id",))
    assert rows
    fastload.hold(patient, "substance_use", rows)
    with CaptureQueriesContext(connection) as seen:
        assert list(patient.substance_use.all()) == rows
        assert all(row.patient is patient for row in rows)
    assert seen.captured_queries == []
    with pytest.raises(ValueError, match="not a reverse foreign key"):
        fastload.hold(patient, "location", rows)


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"mrn__icontains": "x"}, "only equality, __ne, __in and __lte"),
        ({"mrn__in": []}, "needs a non-empty list"),
        ({"mrn__in": "KC-000001"}, "needs a non-empty list"),
        ({"location__name": "North"}, "only equality, __ne, __in and __lte"),
        ({"date_of_birth__lte": None}, "needs a value, not None"),
        ({"nickname": "x"}, "has no field 'nickname'"),
        ({"measurements": 1}, "is not a column"),
    ],
)
def test_anything_but_the_supported_filters_is_refused(
    db: None, filters: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        fastload.fetch(Patient, **filters)


def test_orders_are_field_names_not_sql(db: None) -> None:
    with pytest.raises(TypeError):
        fastload.fetch(Patient, order_by="mrn DESC")
    with pytest.raises(ValueError, match="cannot be ordered by"):
        fastload.fetch(Patient, order_by=("mrn; DROP TABLE x",))


class _Shouting(models.CharField):  # type: ignore[type-arg]
    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return value.upper() if value else value


@pytest.mark.parametrize(
    ("field", "why"),
    [
        (models.DurationField(), "DurationField\\) has no converter"),
        (_Shouting(max_length=5), "_Shouting\\) defines from_db_value"),
        (models.JSONField(decoder=type("Decoder", (), {})), "JSONField\\) defines from_db_value"),
    ],
)
def test_a_field_it_cannot_convert_is_refused_naming_model_and_field(field: Any, why: str) -> None:
    field.set_attributes_from_name("probe")
    field.model = Patient
    with pytest.raises(fastload.UnsupportedField, match=f"patients.Patient.probe \\({why}"):
        fastload._converter(field)


def test_kept_decimals_and_uuids_are_the_values_the_driver_gave() -> None:
    convert = fastload._decimal(2)
    assert str(convert(0)) == "0.00" and str(convert(-0.0)) == "-0.00" and str(convert(0)) == "0.00"
    assert str(convert(1)) == str(convert(1.0)) == "1.00" and str(convert(71.5)) == "71.50"
    assert convert(200) is convert(200)  # kept: made once
    text = "09ee792907574741aba8f8508bcceb41"
    assert fastload._uuid(text) == uuid.UUID(text) and fastload._uuid(text) is fastload._uuid(text)
