"""Add students to the demo school until it has N (idempotent): ``bench/generate.py 100000``.

Bulk inserts in batches inside one transaction, pinyin keys from a precomputed name pool, valid
class and dorm-room foreign keys, 90% with a unique valid identity number, 30% boarders.
Generated student numbers are 11 characters, ``<intake year><7-digit index>`` (the demo's are 9).
Run ``manage.py migrate`` and ``manage.py seed_demo`` on the same HOUQIN_VAR_DIR first
(``bench/run.py`` does all of it). HOUQIN_VAR_DIR defaults to /tmp/houqin-bench.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django  # noqa: E402

GENERATED_LEN = 11
STATUSES = ["enrolled"] * 94 + ["suspended"] * 3 + ["transferred"] * 3


def generate(target: int, *, seed: int = 2026, batch: int = 5000, out=sys.stdout) -> tuple[int, int]:
    """Return (students in the school now, rows added)."""
    from django.db import transaction

    from bench.data import identity, mobile, name_pool
    from houqin.org.models import Room, School, SchoolClass, Student

    school = School.objects.order_by("pk").first()
    if school is None:
        raise SystemExit("No school: run manage.py seed_demo on this HOUQIN_VAR_DIR first.")
    have = Student.objects.filter(school=school).count()
    if have >= target:
        return have, 0
    numbers = Student.objects.filter(school=school).values_list("student_no", flat=True)
    start = 1 + max((int(n[4:]) for n in numbers if len(n) == GENERATED_LEN and n.isdigit()), default=-1)
    classes = list(SchoolClass.objects.filter(school=school, status=SchoolClass.Status.ACTIVE).order_by("pk"))
    dorms = list(Room.objects.filter(school=school, kind=Room.Kind.DORM).order_by("pk"))
    rng = random.Random(seed + start)
    pool = name_pool(rng)
    todo = target - have
    t0 = time.perf_counter()
    with transaction.atomic():
        rows = []
        for index in range(start, start + todo):
            cls = classes[index % len(classes)]
            male = rng.random() < 0.6
            name, keys = rng.choice(pool)
            boarder = rng.random() < 0.3
            id_number, birth = identity(index, male) if rng.random() < 0.9 else ("", None)
            rows.append(Student(
                school=school, student_no=f"{cls.intake_year}{index:07d}", name=name, gender="M" if male else "F",
                school_class=cls, id_number=id_number, birth_date=birth, is_boarder=boarder,
                dorm_room=rng.choice(dorms) if boarder and dorms else None, status=rng.choice(STATUSES),
                guardian_name=name[0] + rng.choice(pool)[0][1:], guardian_phone=mobile(rng), search_keys=keys,
            ))
            if len(rows) >= batch:
                Student.objects.bulk_create(rows)
                rows = []
        if rows:
            Student.objects.bulk_create(rows)
    out.write(f"generate: added {todo} students in {time.perf_counter() - t0:.1f} s\n")
    return have + todo, todo


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, help="students the school should have")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    _django.setup()
    total, added = generate(args.rows, seed=args.seed)
    print(f"generate: the school has {total} students ({added} added)")


if __name__ == "__main__":
    main()
