"""The demo school: ``seed_demo`` runs the generators apps register (core knows no app)."""

import random

from django.db import transaction

from .registry import registry

DEMO_PASSWORD = "houqin2026"


@transaction.atomic
def seed(*, scale: float = 1.0, seed: int = 2026, stdout=None) -> dict:
    """Run every registered generator in order; they share a context dict and one RNG."""
    context: dict = {"scale": scale, "rng": random.Random(seed), "password": DEMO_PASSWORD}
    for gen in registry.demo_generators:
        gen.func(context)
        if stdout is not None:
            stdout.write(f"demo: {gen.name} done")
    return context
