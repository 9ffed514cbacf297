"""Chairs and rooms of a location: where a treatment session takes place and the floor board's rows."""

from __future__ import annotations

from django.db import models

from ketaclinic.accounts.models import ClinicLocation


class ChairKind(models.TextChoices):
    CHAIR = "chair", "Chair"
    ROOM = "room", "Room"


class Chair(models.Model):
    """A treatment chair or room at one location; retired ones stay for the sessions that used them."""

    location = models.ForeignKey(ClinicLocation, on_delete=models.PROTECT, related_name="chairs")
    name = models.CharField(max_length=60)
    kind = models.CharField(max_length=10, choices=ChairKind.choices, default=ChairKind.CHAIR)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["location", "name"], name="chair_name_unique")]
        ordering = ["location", "name"]

    def __str__(self) -> str:
        return self.name
