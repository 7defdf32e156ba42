"""Profile one request in-process: ``bench/profile_request.py /org/students/ [--api] [--top 30]``.

Uses Django's test Client as the logged-in director (or his API token with --api) against the
bench database (HOUQIN_VAR_DIR, default /tmp/houqin-bench); the request is made once to warm up,
then N times under cProfile. Prints the functions with the most cumulative and own time.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django  # noqa: E402


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path")
    parser.add_argument("--api", action="store_true")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="cumulative")
    args = parser.parse_args(argv)
    import os

    os.environ.setdefault("HOUQIN_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    _django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.get(username="director")
    client = Client()
    headers = {}
    if args.api:
        headers["HTTP_AUTHORIZATION"] = f"Token {Token.objects.get_or_create(user=user)[0].key}"
    else:
        client.force_login(user)
    response = client.get(args.path, **headers)
    assert response.status_code == 200, response.status_code
    t0 = time.perf_counter()
    for _ in range(args.repeat):
        client.get(args.path, **headers)
    print(f"{args.path}: {(time.perf_counter() - t0) / args.repeat * 1000:.1f} ms per request (unprofiled)")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(args.repeat):
        client.get(args.path, **headers)
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats(args.sort).print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
