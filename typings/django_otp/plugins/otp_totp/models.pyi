from typing import ClassVar, Self

from django.db import models
from django.db.models.expressions import Combinable
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin

def default_key() -> str: ...

class TOTPDevice(TimestampMixin, ThrottlingMixin, Device):
    key: models.CharField[str | int | Combinable, str]
    step: models.PositiveSmallIntegerField[float | int | str | Combinable, int]
    t0: models.BigIntegerField[float | int | str | Combinable, int]
    digits: models.PositiveSmallIntegerField[float | int | str | Combinable, int]
    tolerance: models.PositiveSmallIntegerField[float | int | str | Combinable, int]
    drift: models.SmallIntegerField[float | int | str | Combinable, int]
    last_t: models.BigIntegerField[float | int | str | Combinable, int]
    objects: ClassVar[DeviceManager[Self]]

    @property
    def bin_key(self) -> bytes: ...
    @property
    def config_url(self) -> str: ...
    def verify_token(self, token: str) -> bool: ...
