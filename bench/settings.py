"""The product's settings, unchanged, plus the two baseline routes (so baselines share the server setup)."""

from ketaclinic.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
