from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

class _Huey:
    immediate: bool

HUEY: _Huey

def db_periodic_task(validate_datetime: Callable[[Any], bool], **kwargs: Any) -> Callable[[F], F]: ...
def db_task(*args: Any, **kwargs: Any) -> Callable[[F], F]: ...
def lock_task(lock_name: str) -> Callable[[F], F]: ...
def on_startup(name: str | None = None) -> Callable[[F], F]: ...
