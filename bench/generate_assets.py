"""Top the demo school up to N fixed-asset cards and M journal rows: ``bench/generate_assets.py 100000 1000000``.

Set-based: explicit ids, ``executemany`` on the raw SQLite cursor inside one transaction; the
journal table's secondary indexes are dropped before the insert and rebuilt after it (SQLite builds
an index from sorted rows much faster than it maintains twelve of them row by row; DDL is
transactional, so a failure leaves them as they were).

What it makes, so that lists, filters, searches, stocktakes and door lists see realistic data:

- cards across every room of the school (about 300 in the demo), codes ``ZC<acquired year><6-digit
  index>`` (12 characters; the demo's are 10, numbered ones 11), 85% with a finance code, names,
  specifications, brands, units and values from a pool of what a vocational school owns (computers,
  touch screens, air conditioners, desk sets in batches of 20–50, beds, CNC lathes, training rigs, …)
  mapped to the seeded GB/T 14885 categories, custodians for 70%, departments, pinyin search keys;
- the journal: each card's first row is ``opening`` (acquired before 2016: opening balances booked)
  or ``register``; then issues, transfers, returns, loans and give-backs, repairs, idles,
  stocktake adjustments and, for 5%, a disposal (``disposing`` + ``dispose``), each with its
  before/after state chained from the previous row and increasing dates. The rows are spread so that
  the journal has M rows in all; each card's cached ``room/department/custodian/status`` equals the
  ``*_after`` of its latest row (``journal.state_from_journal``).

Idempotent: run twice, the second run adds nothing. Run ``migrate``, ``sync_roles`` and ``seed_demo``
on the same HOUQIN_VAR_DIR first (``bench/assets.py`` does). HOUQIN_VAR_DIR defaults to /tmp/houqin-bench.
"""

from __future__ import annotations

import argparse
import datetime
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _django  # noqa: E402

GENERATED_LEN = 12  # "ZC" + year + 6-digit index
SYSTEM_START = datetime.date(2016, 1, 1)  # cards acquired before it come in with opening balances
CUTOVER = datetime.date(2015, 12, 31)
DISPOSED_SHARE = 0.05

# name, category code, specs, unit, brands, (low, high) unit value in yuan, (min, max) quantity, weight, room kinds
POOL = [
    ("台式计算机", "A02010105", ["联想启天M437", "联想启天M450", "戴尔OptiPlex 3000", "惠普ProDesk 400 G9"], "台",
     ["联想", "戴尔", "惠普"], (3800, 6500), (1, 1), 20, ("office", "training", "function")),
    ("便携式计算机", "A02010108", ["ThinkPad E14", "ThinkPad E15", "华为MateBook D14"], "台",
     ["联想", "华为"], (4500, 8000), (1, 1), 6, ("office",)),
    ("交互式智能平板", "A02000000", ["希沃 86寸 C86EB", "鸿合 75寸 HD-I7590E"], "台", ["希沃", "鸿合"],
     (12000, 22000), (1, 1), 5, ("classroom", "training")),
    ("投影仪", "A02000000", ["爱普生 CB-X06", "明基 MX560"], "台", ["爱普生", "明基"], (3000, 6000), (1, 1), 4,
     ("classroom", "function", "office")),
    ("激光打印机", "A02000000", ["惠普 M405d", "兄弟 HL-5595DN"], "台", ["惠普", "兄弟"], (1500, 3500), (1, 1), 5,
     ("office",)),
    ("空调", "A02000000", ["格力 KFR-72LW 3匹柜机", "美的 KFR-35GW 1.5匹挂机"], "台", ["格力", "美的"],
     (3500, 9000), (1, 1), 12, ("classroom", "office", "training", "dorm", "function", "canteen")),
    ("学生课桌椅", "A05010304", ["单人套", "双人套"], "套", ["科教", "育才"], (150, 350), (20, 50), 6,
     ("classroom",)),
    ("学生床", "A05000000", ["上下铺 钢木", "上床下桌"], "张", ["育才"], (600, 1500), (4, 8), 8, ("dorm",)),
    ("办公桌", "A05000000", ["1.4米 单人位", "1.6米 带侧柜"], "张", ["震旦", "圣奥"], (1000, 2200), (1, 1), 6,
     ("office",)),
    ("文件柜", "A05000000", ["钢制 五节柜", "木质 书柜"], "个", ["震旦", "圣奥"], (1000, 1800), (1, 1), 5,
     ("office", "store")),
    ("数控车床", "A02000000", ["CK6140", "CAK6150"], "台", ["沈阳机床", "大连机床"], (80000, 150000), (1, 1), 1,
     ("training",)),
    ("汽车发动机拆装实训台", "A02000000", ["FDJ-2000", "FDJ-3000"], "台", ["杭州实训"], (30000, 45000), (1, 1), 2,
     ("training",)),
    ("电工实训台", "A02000000", ["DG-1 型", "THWDG-1"], "台", ["天煌", "亚龙"], (8000, 16000), (1, 1), 3,
     ("training",)),
    ("服务器", "A02000000", ["华为 RH2288H V5", "浪潮 NF5280M6"], "台", ["华为", "浪潮"], (25000, 60000), (1, 1), 1,
     ("function", "office")),
    ("网络交换机", "A02000000", ["华为 S5735-L48T4X", "H3C S5130"], "台", ["华为", "H3C"], (2000, 9000), (1, 1), 3,
     ("function", "office", "training")),
    ("监控摄像机", "A02000000", ["海康 DS-2CD3T47", "大华 IPC-HFW2433"], "台", ["海康威视", "大华"], (1000, 2500),
     (1, 1), 5, ("classroom", "canteen", "gatehouse", "dorm", "playground")),
    ("钢琴", "A02000000", ["珠江 UP118", "雅马哈 U1"], "台", ["珠江", "雅马哈"], (18000, 45000), (1, 1), 1,
     ("function",)),
    ("消毒柜", "A02000000", ["康宝 ZTP380", "美的 MXV-ZLP90"], "台", ["康宝", "美的"], (1500, 6000), (1, 1), 2,
     ("canteen",)),
    ("实验台", "A05010304", ["全钢 2.4米", "铝木 2.4米"], "张", ["科教"], (1200, 3000), (1, 6), 3,
     ("training", "function")),
]
SUPPLIERS = ["杭州教育装备有限公司", "浙江华东办公设备有限公司", "杭州实训设备有限公司", "宁波家具制造有限公司",
             "浙江省政府采购中心"]


def _dt(day: datetime.date) -> str:
    return f"{day.isoformat()} 01:00:00.000000"  # 09:00 Beijing time, stored in UTC as Django does


def _spread(total: int, n: int, rng: random.Random, *, minimum: list[int]) -> list[int]:
    """n chain lengths ≥ their minimum adding up to ``total`` (about total / n each, varied)."""
    mean = total / n
    lengths = [max(m, int(rng.uniform(1, 2 * mean - 1) + 0.5)) for m in minimum]
    diff = total - sum(lengths)
    i = 0
    while diff:
        k = rng.randrange(n) if i < 20 * n else i % n
        if diff > 0:
            lengths[k] += 1
            diff -= 1
        elif lengths[k] > minimum[k]:
            lengths[k] -= 1
            diff += 1
        i += 1
    return lengths


class Chain:
    """Random walk over a card's states; every step is one journal row with its before and after."""

    def __init__(self, rng, ctx, home_rooms):
        self.rng, self.ctx, self.home = rng, ctx, home_rooms
        self.doc_no = ctx["doc_no"]

    def _doc(self, kind, day):
        prefix = {"issue": ("领用单", "LY"), "transfer": ("调拨单", "DB"), "return": ("退库单", "LY"),
                  "disposing": ("处置单", "CZ"), "dispose": ("处置单", "CZ"), "undispose": ("处置单", "CZ"),
                  "stocktake": ("盘点单", "PD"), "repair_out": ("维修单", "WX"), "repair_back": ("维修单", "WX"),
                  "lend": ("借用单", "JY"), "give_back": ("借用单", "JY")}.get(kind)
        if prefix is None:
            return ""
        self.doc_no[0] += 1
        return f"{prefix[0]} {prefix[1]}{day.year}-{self.doc_no[0] % 10000:04d}"

    def placed(self, custodian_share=0.7):
        rng, ctx = self.rng, self.ctx
        custodian = rng.choice(ctx["staff"]) if rng.random() < custodian_share else None
        return rng.choice(self.home), rng.choice(ctx["departments"]), custodian

    def rows(self, asset_id, first_kind, first_day, n, dispose, actor, school_id, quantity, value):
        """n journal rows (tuples in MOVEMENT_COLUMNS order) and the final state."""
        rng, ctx = self.rng, self.ctx
        today = ctx["today"]
        span = max(1, (today - first_day).days)
        days = sorted(first_day + datetime.timedelta(days=rng.randrange(span)) for _ in range(n - 1))
        out = []
        if rng.random() < 0.9:
            room, dept, cust = self.placed()
            state = (room, dept, cust, "in_use")
        else:
            state = (ctx["store"], None, None, "in_store")
        out.append((first_kind, first_day, None, None, None, "", state, self._doc(first_kind, first_day),
                    value))
        i = 0
        plain = n - 1 - (2 if dispose else 0)
        while i < plain:
            day = days[i]
            room, dept, cust, status = state
            left = plain - i
            r = rng.random()
            steps = []
            if status == "in_store":
                steps = [("issue", (*self.placed(), "in_use"))]
            elif status == "idle":
                steps = [("transfer", (*self.placed(), "in_use"))] if r < 0.7 else [
                    ("return", (ctx["store"], None, None, "in_store"))]
            elif r < 0.40:
                steps = [("transfer", (*self.placed(), "in_use"))]
            elif r < 0.55:
                steps = [("stocktake", (room, dept, cust, "in_use"))]
            elif r < 0.65:
                steps = [("return", (ctx["store"], None, None, "in_store"))]
            elif r < 0.72:
                steps = [("idle", (room, dept, cust, "idle"))]
            elif r < 0.86 and left >= 2:
                steps = [("lend", (room, dept, cust, "lent")), ("give_back", (room, dept, cust, "in_use"))]
            elif left >= 2:
                steps = [("repair_out", (room, dept, cust, "repair")), ("repair_back", (room, dept, cust, "in_use"))]
            else:
                steps = [("transfer", (*self.placed(), "in_use"))]
            for kind, after in steps:
                day = days[i]
                out.append((kind, day, *state, after, self._doc(kind, day), 0))
                state = after
                i += 1
        if dispose:
            for kind, status in (("disposing", "disposing"), ("dispose", "disposed")):
                day = days[i]
                after = (state[0], state[1], state[2], status)
                out.append((kind, day, *state, after, self._doc(kind, day), -value if kind == "dispose" else 0))
                state = after
                i += 1
        rows = []
        for kind, day, rb, db, cb, sb, after, doc, change in out:
            rows.append((school_id, asset_id, kind, day.isoformat(), quantity, str(change), rb, after[0], db, after[1],
                         cb, after[2], sb, after[3], doc, "", "", actor, _dt(day)))
        return rows, state


MOVEMENT_COLUMNS = ("school_id", "asset_id", "kind", "happened_on", "quantity", "value_change", "room_before_id",
                    "room_after_id", "department_before_id", "department_after_id", "custodian_before_id",
                    "custodian_after_id", "status_before", "status_after", "document", "document_url", "note",
                    "actor_id", "created_at")
ASSET_COLUMNS = ("id", "created_at", "updated_at", "code", "name", "spec", "unit", "quantity", "status",
                 "search_keys", "note", "finance_code", "accounting_class", "brand", "original_value",
                 "valuation_type", "funding_source", "acquisition", "acquired_on", "in_service_on", "supplier",
                 "manufacturer", "invoice_no", "contract_no", "warranty_until", "life_months", "booking", "voucher_no",
                 "booked_on", "opening_on", "opening_depreciation", "opening_net_value", "legacy_category_code",
                 "historic", "historic_warnings", "area", "title_no", "custodian_id", "department_id", "room_id",
                 "school_id", "category_id", "project_id", "life_reason", "accumulated_depreciation",
                 "disposed_on", "rebased_on", "rebased_accumulated")


def _insert(cursor, table: str, columns: tuple, rows: list) -> None:
    sql = f'INSERT INTO "{table}" ({", ".join(columns)}) VALUES ({", ".join("?" * len(columns))})'  # noqa: S608 - names from the models
    cursor.executemany(sql, rows)


def generate(assets_target: int, movements_target: int, *, seed: int = 2026, batch: int = 5000,
             out=sys.stdout) -> dict:
    """Return {"assets": cards in the school, "movements": journal rows, "added_assets", "added_movements", "s"}."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from houqin.assets.models import Asset, AssetCategory, AssetMovement
    from houqin.core.pinyin import search_keys
    from houqin.org.models import Department, Room, School, Staff

    school = School.objects.order_by("pk").first()
    if school is None:
        raise SystemExit("No school: run manage.py seed_demo on this HOUQIN_VAR_DIR first.")
    have_assets = Asset.objects.filter(school=school).count()
    have_moves = AssetMovement.objects.filter(school=school).count()
    result = {"assets": have_assets, "movements": have_moves, "added_assets": 0, "added_movements": 0, "s": 0.0}
    if have_assets >= assets_target:
        if have_moves < movements_target:
            out.write(f"generate_assets: {have_assets} cards already, but only {have_moves} journal rows; journal rows "
                      "are added with new cards only (start from a fresh var dir)\n")
        return result
    todo = assets_target - have_assets
    moves_todo = max(movements_target - have_moves, todo)  # at least one row (the first) per card
    minimum_rows = 3  # register + disposing + dispose for the disposed ones

    codes = Asset.objects.filter(school=school).values_list("code", flat=True)
    start = 1 + max((int(c[6:]) for c in codes if len(c) == GENERATED_LEN and c[2:].isdigit()), default=-1)
    next_id = 1 + (Asset.objects.order_by("-pk").values_list("pk", flat=True).first() or 0)
    rng = random.Random(seed + start)
    categories = {c.code: c for c in AssetCategory.objects.filter(school=school)}
    missing = {p[1] for p in POOL} - set(categories)
    if missing:
        raise SystemExit(f"categories {sorted(missing)} missing: run seed_demo (assets) first")
    rooms_by_kind: dict[str, list[int]] = {}
    for pk, kind in Room.objects.filter(school=school).order_by("pk").values_list("pk", "kind"):
        rooms_by_kind.setdefault(kind, []).append(pk)
    all_rooms = [pk for pks in rooms_by_kind.values() for pk in pks]
    store = (rooms_by_kind.get("store") or all_rooms)[0]
    user_model = get_user_model()
    actor = (user_model.objects.filter(school=school, username="keeper").values_list("pk", flat=True).first()
             or user_model.objects.filter(school=school).values_list("pk", flat=True).first())
    ctx = {
        "today": timezone.localdate(), "store": store, "doc_no": [0],
        "staff": list(Staff.objects.filter(school=school, status=Staff.Status.ACTIVE).values_list("pk", flat=True)),
        "departments": list(Department.objects.filter(school=school).values_list("pk", flat=True)),
    }
    keys = {p[0]: search_keys(p[0]) for p in POOL}
    weights = [p[7] for p in POOL]
    picks = rng.choices(range(len(POOL)), weights=weights, k=todo)
    disposed = [rng.random() < DISPOSED_SHARE for _ in range(todo)]
    lengths = _spread(moves_todo, todo, rng, minimum=[minimum_rows if d else 1 for d in disposed])
    now = _dt(ctx["today"])
    today = ctx["today"]

    t0 = time.perf_counter()
    added_moves = 0
    with transaction.atomic():
        cursor = connection.connection.cursor()
        # This connection only: 512 MB of page cache, so that rebuilding the indexes sorts in memory.
        cursor.execute("PRAGMA cache_size = -524288")
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                       [AssetMovement._meta.db_table])
        indexes = cursor.fetchall()
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        asset_rows, move_rows = [], []
        for n in range(todo):
            index = start + n
            name, cat_code, specs, unit, brands, (lo, hi), (qmin, qmax), _w, kinds = POOL[picks[n]]
            category = categories[cat_code]
            acquired = datetime.date(2008, 1, 1) + datetime.timedelta(days=rng.randrange((today - datetime.date(2008, 1, 1)).days))
            quantity = rng.randint(qmin, qmax)
            value = Decimal(rng.randint(lo * 100, hi * 100)) / 100 * quantity
            value = value.quantize(Decimal("0.01"))
            home = [pk for k in kinds for pk in rooms_by_kind.get(k, [])] or all_rooms
            opening = acquired < SYSTEM_START
            first_kind, first_day = ("opening", CUTOVER) if opening else ("register", acquired)
            chain = Chain(rng, ctx, home)
            asset_id = next_id + n
            rows, (room, dept, cust, status) = chain.rows(asset_id, first_kind, first_day, lengths[n], disposed[n],
                                                          actor, school.pk, quantity, value)
            move_rows.extend(rows)
            life = category.default_life_years
            if opening and life:
                months = (CUTOVER.year - acquired.year) * 12 + CUTOVER.month - acquired.month
                dep = min(value, (value * months / (life * 12)).quantize(Decimal("0.01")))
                opening_fields = (CUTOVER.isoformat(), str(dep), str(value - dep))
            else:
                opening_fields = (None, None, None)
            booked = opening or acquired < today - datetime.timedelta(days=60)
            asset_rows.append((
                asset_id, now, now, f"ZC{acquired.year}{index:06d}", name, rng.choice(specs), unit, quantity, status,
                keys[name], "", f"3302{index:08d}" if rng.random() < 0.85 else "", category.accounting_class,
                rng.choice(brands), str(value), "cost", "fiscal" if rng.random() < 0.8 else "special", "purchase",
                acquired.isoformat(), acquired.isoformat(), rng.choice(SUPPLIERS), "",
                f"{rng.randrange(10**7, 10**8)}", "", None, life * 12 if life else None,
                "booked" if booked else "pending", ("期初" if opening else f"记-{acquired.month:02d}-{index % 1000:03d}")
                if booked else "", (CUTOVER if opening else acquired).isoformat() if booked else None, *opening_fields,
                "", False, "", None, "", cust, dept, room, school.pk, category.pk, None,
                # Fixed assets II caches: accumulated depreciation starts at the opening balance (as
                # assets.0005 backfills it), the disposal date is the journal's disposal row.
                "", opening_fields[1] or "0",
                next((r[3] for r in rows if r[2] == "dispose"), None), None, None,
            ))
            if len(asset_rows) >= batch:
                _insert(cursor, Asset._meta.db_table, ASSET_COLUMNS, asset_rows)
                _insert(cursor, AssetMovement._meta.db_table, MOVEMENT_COLUMNS, move_rows)
                added_moves += len(move_rows)
                asset_rows, move_rows = [], []
        if asset_rows:
            _insert(cursor, Asset._meta.db_table, ASSET_COLUMNS, asset_rows)
            _insert(cursor, AssetMovement._meta.db_table, MOVEMENT_COLUMNS, move_rows)
            added_moves += len(move_rows)
        insert_s = time.perf_counter() - t0
        for _name, sql in indexes:
            cursor.execute(sql)
    # The planner's statistics of the card table, as the cut-over import leaves them
    # (core.importing.analyze_after_import); the journal grows by postings and is never analysed.
    cursor.execute(f'ANALYZE "{Asset._meta.db_table}"')
    elapsed = time.perf_counter() - t0
    out.write(f"generate_assets: added {todo} cards and {added_moves} journal rows in {elapsed:.1f} s "
              f"(rows {insert_s:.1f} s, {len(indexes)} journal indexes rebuilt {elapsed - insert_s:.1f} s)\n")
    return {"assets": have_assets + todo, "movements": have_moves + added_moves, "added_assets": todo,
            "added_movements": added_moves, "s": elapsed}


def check(sample: int = 2000, seed: int = 1) -> int:
    """Cards (a random sample) whose cached state differs from their latest journal row; 0 expected."""
    from houqin.assets.models import Asset
    from houqin.assets.services.journal import cached_state, state_from_journal

    ids = list(Asset.objects.values_list("pk", flat=True))
    picked = random.Random(seed).sample(ids, min(sample, len(ids)))
    return sum(state_from_journal(a) != cached_state(a) for a in Asset.objects.filter(pk__in=picked))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assets", type=int, help="fixed-asset cards the school should have")
    parser.add_argument("movements", type=int, help="journal rows the school should have")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--check", type=int, default=2000, help="cards to check against the journal (0: none)")
    args = parser.parse_args(argv)
    _django.setup()
    r = generate(args.assets, args.movements, seed=args.seed)
    print(f"generate_assets: the school has {r['assets']} cards and {r['movements']} journal rows "
          f"({r['added_assets']} and {r['added_movements']} added)")
    if args.check:
        bad = check(args.check)
        print(f"generate_assets: {bad} of {args.check} sampled cards differ from their latest journal row")
        if bad:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
