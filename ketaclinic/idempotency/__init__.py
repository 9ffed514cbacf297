"""Idempotent API writes: a POST sent again with the same `Idempotency-Key` gets the first answer.

The API hooks this in once (`hook.honour_idempotency_keys`, called by ketaclinic/api/app.py); the answer
of each keyed POST is stored whole in the database (`models.IdempotencyKey`), in the same transaction as
what the request wrote, so an acknowledged write and its stored answer commit or vanish together.
"""
