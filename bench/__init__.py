"""`make bench`: the hot paths against same-run baselines, served exactly as `make run` serves the app."""
