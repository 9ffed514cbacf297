"""The `ketaclinic` console command: Django's manage.py under the package's name."""

from __future__ import annotations

import os
import sys

from ketaclinic.config import PRIVATE_UMASK


def main() -> None:
    # Whatever a command or the server it starts creates (static files, exports) is this user's only.
    os.umask(PRIVATE_UMASK)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ketaclinic.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
