import datetime as dt
import enum
from typing import Any, ClassVar, Self, TypeVar

from django.contrib.auth.models import _User
from django.db import models
from django.db.models.expressions import Combinable

_D = TypeVar("_D", bound=Device)

class DeviceManager(models.Manager[_D]):
    def devices_for_user(self, user: Any, confirmed: bool | None = None) -> models.QuerySet[_D]: ...

class Device(models.Model):
    user: models.ForeignKey[_User | Combinable, _User]
    name: models.CharField[str | int | Combinable, str]
    confirmed: models.BooleanField[bool | Combinable, bool]
    objects: ClassVar[DeviceManager[Self]]

    class Meta:
        abstract: ClassVar[bool]

    @property
    def persistent_id(self) -> str: ...
    @classmethod
    def model_label(cls) -> str: ...
    @classmethod
    def from_persistent_id(cls, persistent_id: str, for_verify: bool = False) -> Device | None: ...
    def is_interactive(self) -> bool: ...
    def verify_is_allowed(self) -> tuple[bool, dict[str, Any] | None]: ...
    def verify_token(self, token: str) -> bool: ...

class VerifyNotAllowed(enum.Enum):
    N_FAILED_ATTEMPTS = "N_FAILED_ATTEMPTS"

class ThrottlingMixin(models.Model):
    throttling_failure_timestamp: models.DateTimeField[
        str | dt.datetime | dt.date | Combinable | None, dt.datetime | None
    ]
    throttling_failure_count: models.PositiveIntegerField[float | int | str | Combinable, int]

    class Meta:
        abstract: ClassVar[bool]

    def verify_is_allowed(self) -> tuple[bool, dict[str, Any] | None]: ...
    def throttle_reset(self, commit: bool = True) -> None: ...
    def throttle_increment(self, commit: bool = True) -> None: ...
    def get_throttle_factor(self) -> int: ...

class TimestampMixin(models.Model):
    created_at: models.DateTimeField[str | dt.datetime | dt.date | Combinable | None, dt.datetime | None]
    last_used_at: models.DateTimeField[str | dt.datetime | dt.date | Combinable | None, dt.datetime | None]

    class Meta:
        abstract: ClassVar[bool]

    def set_last_used_timestamp(self, commit: bool = True) -> None: ...
