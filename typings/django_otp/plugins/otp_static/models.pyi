from typing import ClassVar, Self

from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.fields.related_descriptors import RelatedManager
from django_otp.models import Device, DeviceManager, ThrottlingMixin, TimestampMixin

class StaticDevice(TimestampMixin, ThrottlingMixin, Device):
    token_set: RelatedManager[StaticToken]
    objects: ClassVar[DeviceManager[Self]]
    def verify_token(self, token: str) -> bool: ...

class StaticToken(models.Model):
    device: models.ForeignKey[StaticDevice | Combinable, StaticDevice]
    token: models.CharField[str | int | Combinable, str]
    objects: ClassVar[models.Manager[Self]]
    @staticmethod
    def random_token() -> str: ...
