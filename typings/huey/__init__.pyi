# The parts of Huey KetaClinic uses (ketaclinic/assessments/tasks.py, ketaclinic/web/.../serve.py).
from collections.abc import Callable
from typing import Any

def crontab(
    minute: str = "*",
    hour: str = "*",
    day: str = "*",
    month: str = "*",
    day_of_week: str = "*",
    strict: bool = False,
) -> Callable[[Any], bool]: ...
