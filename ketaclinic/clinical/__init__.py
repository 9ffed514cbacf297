"""The medicine of KetaClinic as a pure, typed library.

Nothing here imports Django or does I/O; the clock and the clinic's policy are passed in. Every fact comes
from shared/clinical/reference.md and carries the source tags it rests on.
"""
