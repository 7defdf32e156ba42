"""The fast paths of a large import (issue 3/5, X-7) give exactly what the plain paths gave: the same rows, the
same search index, the same audit entries and the same error messages."""

import functools
import io

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext_lazy

from houqin.core import bulk, excel, importing, search_index
from houqin.core.entities import registry
from houqin.core.importing import run_import, template_columns
from houqin.core.models import AuditEntry
from houqin.org.models import Room, SchoolClass, Student

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the set-based triggers are SQLite's")

ROWS = bulk.SET_BASED_TRIGGERS_FROM + 150
NAMES = ["王小明", "李晓红", "Zhang Wei", "欧阳娜娜", "赵钢琴", "O'Brien"]


def _xlsx(school, n, *, bad=False):
    classes = list(SchoolClass.objects.filter(school=school, status="active").order_by("pk")
                   .values_list("name", flat=True))
    dorms = list(Room.objects.filter(school=school, kind="dorm").order_by("pk").values_list("code", flat=True)) or [None]
    rows = []
    for i in range(n):
        boarder = i % 3 == 0
        row = [f"Q{i:06d}", NAMES[i % len(NAMES)] + ("" if i % 7 else "同学"), "男" if i % 2 else "女",
               classes[i % len(classes)], "居民身份证", None, "是" if boarder else "否",
               dorms[i % len(dorms)] if boarder else None, "家长", "13900139000" if i % 5 else None]
        if bad and i % 97 == 5:
            row[3] = "没有这个班"  # an unknown class, on many rows
        if bad and i % 89 == 7:
            row[6] = "也许"  # neither 是 nor 否
        if bad and i % 83 == 3:
            row[2] = "未知"  # not a choice
        rows.append(row)
    headers = [c.header for c in template_columns(registry[Student])]
    buf = io.BytesIO()
    excel.write_xlsx(buf, columns=[excel.Column(key=h, header=h) for h in headers], rows=rows, sheet_title="x")
    buf.seek(0)
    buf.name = "x.xlsx"
    return buf


TRIGRAM_COLUMNS = ("student_no", "name", "search_keys")


def _index_entries(table, first, last=2 ** 62):
    """The entries ``(row, column, position, token)`` of rows ``first``..``last`` in the FTS5 index ``table`` (the
    position None where it keeps none): the tables are contentless (``search_index``), their index is all they hold."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.houqin_test_vocab_{table} "
                       f"USING fts5vocab(main, '{table}', 'instance')")
        cursor.execute(f'SELECT doc, col, "offset", term FROM temp.houqin_test_vocab_{table} '  # noqa: S608
                       'WHERE doc BETWEEN %s AND %s ORDER BY doc, col, "offset", term', [first, last])
        return cursor.fetchall()


def _trigram_entries(first, last=2 ** 62):
    """The student trigram index's entries of rows ``first``..``last`` (``_index_entries``)."""
    return _index_entries("org_student_fts", first, last)


def _trigrams_of(rows):
    """The entries a trigram index holds for ``rows`` of ``(rowid, student_no, name, search_keys)``: what a new
    index made of just those rows holds (the oracle ``_trigram_entries`` is compared with)."""
    cols = ", ".join(TRIGRAM_COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS temp.houqin_test_expected_v")
        cursor.execute("DROP TABLE IF EXISTS temp.houqin_test_expected")
        cursor.execute(f"CREATE VIRTUAL TABLE temp.houqin_test_expected USING fts5({cols}, tokenize='trigram', content='')")
        cursor.executemany(f"INSERT INTO temp.houqin_test_expected(rowid, {cols}) VALUES (%s, %s, %s, %s)",  # noqa: S608
                           [tuple(r) for r in rows])
        cursor.execute("CREATE VIRTUAL TABLE temp.houqin_test_expected_v "
                       "USING fts5vocab(temp, 'houqin_test_expected', 'instance')")
        cursor.execute('SELECT doc, col, "offset", term FROM temp.houqin_test_expected_v ORDER BY doc, col, "offset"')
        return cursor.fetchall()


def _plain(monkeypatch):
    """Every fast path off: per-row triggers, no memo, the form's own field cleaning, Model.full_clean."""
    monkeypatch.setattr(bulk, "SET_BASED_TRIGGERS_FROM", 10 ** 9)
    monkeypatch.setattr(bulk, "STAGE_FROM", 10 ** 9)
    monkeypatch.setattr(importing, "_memoised", lambda field: field.clean)
    monkeypatch.setattr(importing, "_fast_clean_fields", lambda form: None)
    monkeypatch.setattr(importing, "_model_cleaner", lambda model, exclude, form=None: lambda obj, cleaned=None: obj.full_clean(
        exclude=exclude, validate_unique=False, validate_constraints=False))


def _snapshot(school):
    students = list(Student.objects.filter(school=school, student_no__startswith="Q").order_by("pk")
                    .values().iterator())
    for row in students:
        row.pop("created_at"), row.pop("updated_at")
    ids = [row["id"] for row in students]
    with connection.cursor() as cursor:
        bigrams = []
        if search_index.index_exists("default", "org_student_fts_bi"):
            for term in ("小明", "钢琴", "br", "ob"):
                cursor.execute("SELECT rowid FROM org_student_fts_bi WHERE org_student_fts_bi MATCH "
                               "'{name search_keys} : \"' || hex(lower(%s)) || '\"' AND rowid >= %s ORDER BY rowid",
                               [term, min(ids)])
                bigrams.append(cursor.fetchall())
    fts = _trigram_entries(min(ids))
    audit = list(AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Student),
                                           object_id__in=[str(i) for i in ids]).order_by("pk").values(
        "object_id", "object_repr", "action", "before", "after", "changed_fields", "actor_id", "school_id",
        "message", "content_type_id"))
    return students, fts, bigrams, audit


def _run(personas, school, source):
    sid = transaction.savepoint()
    try:
        result = run_import(registry[Student], source, actor=personas["logistics_director"], school=school,
                            commit=True)
        return result, (_snapshot(school) if result.ok else None)
    finally:
        transaction.savepoint_rollback(sid)


def test_a_large_import_writes_what_the_plain_paths_wrote(personas, school, monkeypatch):
    fast, fast_rows = _run(personas, school, _xlsx(school, ROWS))
    assert fast.ok and fast.created == ROWS, fast.problems[:3]
    with monkeypatch.context() as m:
        _plain(m)
        plain, plain_rows = _run(personas, school, _xlsx(school, ROWS))
    assert plain.ok and plain.created == ROWS
    students, fts, bigrams, audit = fast_rows
    assert len(students) == ROWS and len(audit) == ROWS
    assert fts == _trigrams_of([(r["id"], r["student_no"], r["name"], r["search_keys"]) for r in students])
    assert fast_rows == plain_rows  # the same ids, rows, index entries and audit entries
    assert all(bigrams) or not bigrams


def test_a_large_import_reports_the_same_problems(personas, school, monkeypatch):
    fast, _rows = _run(personas, school, _xlsx(school, ROWS, bad=True))
    with monkeypatch.context() as m:
        _plain(m)
        plain, _rows = _run(personas, school, _xlsx(school, ROWS, bad=True))
    assert not fast.ok and len(fast.problems) > 30
    assert [(p.row, str(p.column), str(p.message)) for p in fast.problems] == [
        (p.row, str(p.column), str(p.message)) for p in plain.problems]


def _triggers():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'org_student' "
                       "ORDER BY name")
        return cursor.fetchall()


def _students(school, prefix, n):
    cls = SchoolClass.objects.filter(school=school).order_by("pk").first()
    return [Student(school=school, school_class=cls, student_no=f"{prefix}{i:05d}", name=NAMES[i % len(NAMES)],
                    gender="M", search_keys=f"key{i}") for i in range(n)]


def test_set_based_triggers_are_restored_and_an_error_undoes_everything(school):
    before = _triggers()
    assert any(name == "org_student_fts_ai" for name, _sql in before)
    objs = _students(school, "T", ROWS)
    objs[-1].student_no = objs[0].student_no  # refused by the unique constraint at the very end
    count = Student.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_insert(Student, objs)
    assert _triggers() == before and Student.objects.count() == count
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM org_student_fts WHERE org_student_fts MATCH 'student_no : \"T00\"'")
        assert cursor.fetchone()[0] == 0


def _fts_config(table):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT k, v FROM {table}_config WHERE k IN ('automerge', 'crisismerge') ORDER BY k")  # noqa: S608
        return cursor.fetchall()


@pytest.mark.parametrize("kept", [None, {"automerge": 8, "crisismerge": 20}])
def test_a_bulk_insert_defers_fts5_merges_and_leaves_the_settings_as_they_were(school, kept):
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        for key, value in (kept or {}).items():
            cursor.execute(f"INSERT INTO org_student_fts(org_student_fts, rank) VALUES ('{key}', {value})")
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        bulk.bulk_insert(Student, _students(school, "M", ROWS))
    steps = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT INTO org_student_fts(")]
    wanted = kept or bulk.FTS5_MERGE_DEFAULTS
    assert [s.replace('"', "'") for s in steps if "rank" in s] == [
        "INSERT INTO org_student_fts(org_student_fts, rank) VALUES ('automerge', 0)",
        "INSERT INTO org_student_fts(org_student_fts, rank) VALUES ('crisismerge', 64)",
        f"INSERT INTO org_student_fts(org_student_fts, rank) VALUES ('automerge', {wanted['automerge']})",
        f"INSERT INTO org_student_fts(org_student_fts, rank) VALUES ('crisismerge', {wanted['crisismerge']})",
    ]
    fills = [i for i, s in enumerate(steps) if "rank" not in s]
    assert fills and steps[fills[0] - 1].endswith("64)") and "rank" in steps[fills[-1] + 1]  # the fill in between
    assert dict(_fts_config("org_student_fts")) == wanted
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM org_student_fts WHERE org_student_fts MATCH '\"M00\"'")
        assert cursor.fetchone()[0] == Student.objects.filter(student_no__contains="M00").count() > 0
        cursor.execute("INSERT INTO org_student_fts(org_student_fts) VALUES ('integrity-check')")


def test_fts5_merge_settings_are_rolled_back_with_a_failed_insert(school):
    before = _fts_config("org_student_fts")
    objs = _students(school, "R", ROWS)
    objs[-1].student_no = objs[0].student_no
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_insert(Student, objs)
    assert _fts_config("org_student_fts") == before


def test_trigger_values_worked_out_before_the_transaction_are_the_triggers_own(school):
    objs = _students(school, "P", ROWS)
    bulk.prepare_insert(Student, objs)
    prepared = dict(bulk.prepared_batch(objs).triggers)
    triggers = bulk.insert_triggers(connection, "org_student")
    # The bigram trigger's tokens are worked out before; the trigram trigger's plain columns are not (the
    # transaction copies them from the rows just written with one INSERT … SELECT).
    assert [name for name, sql, *_r in triggers if sql in prepared] == ["org_student_fts_bi_ai"]
    objs[3].name = "改过的名字"  # changed after: its values come from the trigger in the transaction
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
    assert bulk.prepared_batch(objs) is None
    with connection.cursor() as cursor:
        for _name, sql, _insert, _head, values in [t for t in triggers if t[1] in prepared]:
            cursor.execute(f"SELECT {values} FROM org_student AS new WHERE new.id BETWEEN %s AND %s "  # noqa: S608
                           "ORDER BY new.id", [objs[0].pk, objs[-1].pk])
            in_database = cursor.fetchall()
            at, rows_then = prepared[sql]
            for obj, row, values_then in zip(objs, in_database, rows_then, strict=True):
                if obj is not objs[3]:
                    assert (*values_then[:at], obj.pk, *values_then[at:]) == tuple(row)
        assert _trigram_entries(objs[3].pk, objs[3].pk) == _trigrams_of(
            [(objs[3].pk, objs[3].student_no, "改过的名字", objs[3].search_keys)])
        cursor.execute("INSERT INTO org_student_fts(org_student_fts) VALUES ('integrity-check')")


def test_memoised_cleaning_keeps_answers_not_errors():
    from django import forms

    field = forms.DecimalField(max_digits=6, decimal_places=2)
    clean = importing._memoised(field)
    assert str(clean("1.0")) == "1.0" and str(clean("1.00")) == "1.00"
    import decimal

    assert str(clean(decimal.Decimal("2.0"))) == "2.0" and str(clean(decimal.Decimal("2.00"))) == "2.00"
    for _ in range(2):
        with pytest.raises(forms.ValidationError):
            clean("abc")
    many = importing.ManyNaturalKeyField(model=Room, key="code")
    assert importing._memoised(many) == many.clean  # a new list per row: never memoised


def test_label_choice_field_reads_labels_and_keys_as_the_scan_did():
    field = importing.LabelChoiceField(choices=list(Student.Gender.choices) if hasattr(Student, "Gender")
                                       else [("M", "男"), ("F", "女")], required=False)
    for key, label in field.choices:
        assert field.to_python(str(label)) == key and field.to_python(f" {key} ") == key
        assert field.valid_value(key)
    assert field.to_python("") == "" and field.to_python(None) == "" and field.to_python("x") == "x"
    assert not field.valid_value("x")


def _counts():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, table_name, school_id, live, n FROM core_rowcount ORDER BY id")
        rows = cursor.fetchall()
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = 'core_rowcount'")
        return rows, cursor.fetchone()


def _insert_counted(school, other, prefix, *, plain_rows=False):
    """Students of two schools, the second one's first met half-way (a counter row made mid-insert); with
    ``plain_rows`` through ``insert_rows``."""
    objs = _students(school, prefix, ROWS)
    for obj in objs[ROWS // 2::3]:
        obj.school = other
    sid = transaction.savepoint()
    try:
        if plain_rows:
            bulk.insert_rows(Student, [{f.attname: getattr(o, f.attname) for f in Student._meta.concrete_fields
                                        if not f.primary_key and f.attname not in ("created_at", "updated_at")}
                                       for o in objs])
        else:
            bulk.bulk_insert(Student, objs)
        return _counts(), _triggers()
    finally:
        transaction.savepoint_rollback(sid)


def test_counting_triggers_run_set_based_as_they_ran_per_row(school, monkeypatch):
    from houqin.org.models import School

    if not bulk.count_triggers(connection, "org_student"):
        pytest.skip("no row-count triggers on org_student in this database")  # pragma: no cover
    other = School.objects.create(name="第二职业学校", short_name="二职", code="OTHER9")
    before = _counts()
    for plain_rows in (False, True):
        fast = _insert_counted(school, other, "C", plain_rows=plain_rows)
        with monkeypatch.context() as m:  # the statement for keys with gaps (row_number) gives the same
            m.setattr(bulk, "_counted", functools.partial(bulk._counted, by_window=True))
            by_window = _insert_counted(school, other, "C", plain_rows=plain_rows)
        with monkeypatch.context() as m:
            m.setattr(bulk, "SET_BASED_TRIGGERS_FROM", 10 ** 9)
            plain = _insert_counted(school, other, "C", plain_rows=plain_rows)
        assert fast == by_window == plain  # the same counter rows (ids too), the same AUTOINCREMENT sequence, the triggers back
        assert fast[0] != before and any(row[2] == other.pk for row in fast[0][0])


def test_audit_snapshots_worked_out_before_the_transaction_are_the_writes_own(personas, school):
    from houqin.core import audit

    objs = _students(school, "S", ROWS)
    audit.prepare_snapshots(objs)
    assert all(audit.PREPARED_SNAPSHOT in o.__dict__ for o in objs)
    objs[5].name = "改过的名字"  # changed after: its snapshot and repr are taken in the transaction
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
        expected = [(str(o.pk), str(o), audit.serialize_for_audit(o)) for o in objs]
        audit.audit_bulk([(o, AuditEntry.Action.IMPORT, None, audit.SNAPSHOT) for o in objs],
                         actor=personas["logistics_director"], message="x")
    assert not any(audit.PREPARED_SNAPSHOT in o.__dict__ for o in objs)
    found = list(AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Student),
                                           object_id__in=[str(o.pk) for o in objs]).order_by("pk")
                 .values_list("object_id", "object_repr", "after", "changed_fields", "before"))
    assert [(i, r, a) for i, r, a, _c, _b in found] == expected
    assert all(c == [] and b is None for _i, _r, _a, c, b in found)
    assert found[5][1] == str(objs[5]) and "改过的名字" in found[5][1]
    with connection.cursor() as cursor:  # the text stored is the JSON the plain path stores
        cursor.execute("SELECT after FROM core_auditentry WHERE object_id = %s AND content_type_id = %s",
                       [str(objs[0].pk), ContentType.objects.get_for_model(Student).pk])
        stored = cursor.fetchone()[0]
    field = AuditEntry._meta.get_field("after")
    assert stored == field.get_db_prep_save(audit.serialize_for_audit(objs[0]), connection)


def test_a_repr_that_reads_the_key_is_taken_in_the_transaction(school, monkeypatch):
    from houqin.core import audit

    monkeypatch.setattr(Student, "__str__", lambda self: f"{self.name}#{self.pk}")
    objs = _students(school, "K", ROWS)
    audit.prepare_snapshots(objs)
    assert all(o.__dict__[audit.PREPARED_SNAPSHOT][1] is None for o in objs)  # no repr kept
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
        rows = audit.audit_rows([(o, AuditEntry.Action.IMPORT, None, audit.SNAPSHOT) for o in objs], actor=None)
    assert [r["object_repr"] for r in rows] == [f"{o.name}#{o.pk}" for o in objs]


def test_whole_column_conversions_give_what_each_field_gives():
    import datetime
    import decimal

    from django.db import models

    date_field, money = models.DateField(), models.DecimalField(max_digits=12, decimal_places=2)
    columns = [
        (date_field, [datetime.date(2026, 9, 1), datetime.date(1999, 12, 31)]),
        (date_field, [datetime.date(2026, 9, 1), None]),
        (money, [decimal.Decimal("1.50"), decimal.Decimal("2"), decimal.Decimal("0.0")]),
        (money, [decimal.Decimal("1.50"), None]),
        (money, [decimal.Decimal("1.5"), 3]),
        # a choices member (a str enum), a lazy text and a number in a text column
        (models.CharField(max_length=20), [Student.Gender.choices[0][0] if hasattr(Student, "Gender") else "M",
                                          AuditEntry.Action.IMPORT, gettext_lazy("Import"), 7, None]),
    ]
    for field, column in columns:
        convert = bulk._converter(field, connection)
        done = bulk._convert_column(column, convert, bulk._ready_types(field), set(map(type, column)))
        assert list(done) == [field.get_db_prep_save(v, connection) for v in column]
        assert [str(v) for v in done] == [str(field.get_db_prep_save(v, connection)) for v in column]
        assert [type(v) for v in done] == [type(field.get_db_prep_save(v, connection)) for v in column]


def test_memoised_cleaning_tells_equal_values_of_different_types_apart():
    """1, 1.0 and True are equal dict keys: a memoised clean answers each as the field does."""
    import datetime

    from django import forms

    clean = importing._memoised(forms.CharField(required=False))
    for _ in range(2):
        assert [clean(1), clean(1.0), clean(True), clean("1")] == ["1", "1.0", "True", "1"]
    model_clean = importing._memoised(Student._meta.get_field("name"))
    assert model_clean("张三", None) == "张三" and model_clean("张三", None) == "张三"
    dates = importing._memoised(forms.DateField(required=False))
    moment = datetime.datetime(2026, 1, 2, 3, 4)
    assert dates(datetime.date(2026, 1, 2)) == datetime.date(2026, 1, 2) and dates(moment) == datetime.date(2026, 1, 2)


def test_bigram_tokens_worked_out_in_python_are_sqlites():
    """search_index.bigrams_text equals SQLite's bigrams_sql for any text: ASCII case folded, other case kept,
    pairs across scripts; a text SQLite reads differently (NUL, a lone surrogate) is left to SQLite."""
    import sqlite3

    from hypothesis import given, settings
    from hypothesis import strategies as st

    db = sqlite3.connect(":memory:")
    db.execute("SELECT count(*) FROM json_each('[0]')")
    sql = f"SELECT {search_index.bigrams_sql('?')}"

    def sqlite_tokens(value):
        return db.execute(sql.replace("?", "?1"), [value]).fetchone()[0]

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(st.none(), st.text(max_size=12), st.text(alphabet="aZ张ÉéİıK\u212a😀 -_'\"", max_size=8)))
    def check(value):
        ours = search_index.bigrams_text(value)
        if ours is not NotImplemented:  # a NUL: SQLite is asked instead
            assert ours == sqlite_tokens(value)

    check()
    for value in ("", "a", "ab", "AB", "Zhang San", "钢琴", "ÉCOLE", "😀x"):
        assert search_index.bigrams_text(value) == sqlite_tokens(value), value
    assert search_index.bigrams_text("a\x00b") is NotImplemented
    assert search_index.bigrams_text("a\ud800b") is NotImplemented
    db.close()


def test_trigger_values_are_worked_out_in_python_without_sqlite(school, monkeypatch):
    """The bigram trigger's values for mixed-case and non-Chinese names come from Python (no in-memory SQLite)
    and equal what the trigger stores."""
    objs = _students(school, "Q", ROWS)
    for i, obj in enumerate(objs):
        obj.name = ("Zhang WEI", "ÉCOLE Ångström", "钢琴Piano", "x")[i % 4]
        obj.search_keys = ("ZW zhangwei", "", "gangqin GQ", "X")[i % 4]

    def no_sqlite(*args, **kwargs):
        raise AssertionError("the values were to be worked out in Python")

    monkeypatch.setattr(bulk.sqlite3, "connect", no_sqlite)
    bulk.prepare_insert(Student, objs)
    monkeypatch.undo()
    prepared = dict(bulk.prepared_batch(objs).triggers)
    assert len(prepared) == 1  # the bigram trigger (the trigram one copies the row's columns in the transaction)
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
    with connection.cursor() as cursor:
        for _name, sql, _insert, _head, values in bulk.insert_triggers(connection, "org_student"):
            if sql not in prepared:
                continue
            cursor.execute(f"SELECT {values} FROM org_student AS new WHERE new.id BETWEEN %s AND %s "  # noqa: S608
                           "ORDER BY new.id", [objs[0].pk, objs[-1].pk])
            at, rows_then = prepared[sql]
            for obj, row, values_then in zip(objs, cursor.fetchall(), rows_then, strict=True):
                assert (*values_then[:at], obj.pk, *values_then[at:]) == tuple(row)


def test_an_unchanged_prepared_list_is_inserted_from_its_prepared_values(school, monkeypatch):
    """``prepare_insert`` worked out every value: the write converts nothing (``_column_values`` is not called),
    and the rows stored are those the plain insert stores."""
    objs = _students(school, "U", ROWS)
    plain = _students(school, "V", ROWS)
    bulk.prepare_insert(Student, objs)
    assert bulk.prepared_batch(objs).columns is not None

    def no_conversion(*args, **kwargs):
        raise AssertionError("the values were to come from prepare_insert")

    with monkeypatch.context() as m, transaction.atomic():
        m.setattr(bulk, "_column_values", no_conversion)
        bulk.bulk_insert(Student, objs)
    with transaction.atomic():
        bulk.bulk_insert(Student, plain)
    fields = [f.attname for f in Student._meta.concrete_fields if f.attname not in ("id", "created_at", "updated_at")]
    stored = list(Student.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk").values_list(*fields))
    stored_plain = list(Student.objects.filter(pk__in=[o.pk for o in plain]).order_by("pk").values_list(*fields))
    at = fields.index("student_no")
    assert [r[:at] + r[at + 1:] for r in stored] == [r[:at] + r[at + 1:] for r in stored_plain]
    assert [r[at] for r in stored] == [o.student_no for o in objs]
    assert all(o.created_at is not None and o.pk for o in objs)


def test_a_value_replaced_by_an_equal_one_is_converted_again(school, monkeypatch):
    """Values are compared by identity (1.0 never stands for 1.00): a name replaced by an equal text after the
    preparation makes the write convert the rows itself."""
    objs = _students(school, "E", ROWS)
    bulk.prepare_insert(Student, objs)
    objs[7].name = "".join(list(objs[7].name))
    assert objs[7].name is not bulk.prepared_batch(objs).values[7][bulk.prepared_batch(objs).attnames.index("name")]
    calls = []
    convert = bulk._column_values

    def spy(*args, **kwargs):
        calls.append(1)
        return convert(*args, **kwargs)

    monkeypatch.setattr(bulk, "_column_values", spy)
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
    assert calls  # equal is not enough
    assert Student.objects.get(pk=objs[7].pk).name == objs[7].name
    assert _trigram_entries(objs[7].pk, objs[7].pk) == _trigrams_of(
        [(objs[7].pk, objs[7].student_no, objs[7].name, objs[7].search_keys)])


def test_a_large_import_takes_the_column_paths_and_times_its_phases(personas, school, monkeypatch):
    """The 100k-row paths are the ones a large import runs: the audit entries go in by column, the rows from
    the prepared batch; the cycle collector is off while it runs and on again after; ``timings`` has each phase."""
    import gc

    from houqin.core import audit

    taken, collector = [], []
    columns = audit._prepared_columns

    def spy(*args, **kwargs):
        found = columns(*args, **kwargs)
        taken.append(found is not None)
        collector.append(gc.isenabled())
        return found

    monkeypatch.setattr(audit, "_prepared_columns", spy)
    timings: dict = {}
    sid = transaction.savepoint()
    try:
        result = run_import(registry[Student], _xlsx(school, ROWS), actor=personas["logistics_director"],
                            school=school, commit=True, timings=timings)
    finally:
        transaction.savepoint_rollback(sid)
    assert result.ok and result.created == ROWS
    assert taken == [True] and collector == [False] and gc.isenabled()
    assert {"validate", "prepare", "write", "analyze"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())


@pytest.mark.django_db(transaction=True)
def test_the_checkpoint_runs_after_the_transaction_and_the_setting_is_restored():
    from houqin.core.importing import checkpoint_after

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        (before,) = cursor.fetchone()
    timings: dict = {}
    with checkpoint_after(Student, timings), connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 0  # no checkpoint inside the commit
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == before
    assert timings["checkpoint"] >= 0


def test_the_audit_of_rows_inserted_from_the_preparation_records_what_was_written(personas, school):
    """Rows bulk_insert took from prepare_insert's batch are audited with the values they were inserted with —
    the row in the database — without reading every field again, even if an object is changed afterwards
    without being saved."""
    from houqin.core import audit

    objs = _students(school, "W", ROWS)
    bulk.prepare_insert(Student, objs)
    audit.prepare_snapshots(objs)
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
        objs[4].name = "没有保存的名字"
        audit.audit_bulk([(o, AuditEntry.Action.IMPORT, None, audit.SNAPSHOT) for o in objs],
                         actor=personas["logistics_director"], message="x")
    stored = Student.objects.get(pk=objs[4].pk)
    entry = AuditEntry.objects.get(content_type=ContentType.objects.get_for_model(Student), object_id=str(objs[4].pk))
    assert entry.after["name"] == stored.name != "没有保存的名字"
    assert entry.after == audit.serialize_for_audit(stored)
    assert bulk.INSERTED_AS_PREPARED not in objs[0].__dict__


@pytest.mark.django_db(transaction=True)
def test_bulk_insert_outside_a_transaction_inserts_and_keys_every_row(school):
    """Outside a transaction (autocommit) the rows go in by multi-row statements with their keys returned; a
    batch prepared for them is simply not used."""
    objs = _students(school, "A", 30)
    bulk.prepare_insert(Student, objs)  # fewer rows than the threshold: nothing prepared
    more = _students(school, "B", ROWS)
    bulk.prepare_insert(Student, more)
    assert not connection.in_atomic_block
    bulk.bulk_insert(Student, objs)
    bulk.bulk_insert(Student, more)
    for group in (objs, more):
        assert all(o.pk for o in group) and not any(o._state.adding for o in group)
        assert sorted(Student.objects.filter(pk__in=[o.pk for o in group]).values_list("student_no", flat=True)) == \
            sorted(o.student_no for o in group)
    assert bulk.inserted_values(more) is None
    assert _temp_tables() == []  # the rows bound before (prepare_insert, outside a transaction) are dropped unused


def _outcome(clean, *args):
    try:
        value = clean(*args)
    except ValidationError as exc:
        return ("error", exc.messages)
    return ("ok", type(value), str(value))


def test_the_fast_cleans_give_djangos_answers_and_errors():
    """_fast_clean answers a plain text or decimal value as Django's clean does, and hands anything else to it."""
    import decimal

    from django import forms
    from django.core.validators import RegexValidator
    from django.db import models as m
    from hypothesis import given, settings
    from hypothesis import strategies as st

    form_fields = [forms.CharField(max_length=5), forms.CharField(max_length=5, required=False, strip=False),
                   forms.CharField(min_length=2, required=False), forms.DecimalField(max_digits=6, decimal_places=2),
                   forms.DecimalField(max_digits=4, decimal_places=0, required=False)]
    model_fields = [m.CharField(max_length=5), m.CharField(max_length=5, blank=True), m.TextField(),
                    m.DecimalField(max_digits=6, decimal_places=2), m.DecimalField(max_digits=4, decimal_places=1,
                                                                                   null=True, blank=True)]
    for field in [*form_fields, *model_fields]:
        assert importing._fast_clean(field) is not None, field
    for field in (forms.CharField(validators=[RegexValidator("x")]), forms.EmailField(),
                  forms.DecimalField(max_digits=6, decimal_places=2, min_value=0), forms.DecimalField(localize=True),
                  m.CharField(max_length=5, choices=[("a", "A")]), m.CharField(max_length=5, validators=[RegexValidator("x")]),
                  m.DecimalField(max_digits=6, decimal_places=2, validators=[RegexValidator("x")]), m.IntegerField()):
        assert importing._fast_clean(field) is None, field

    texts = st.text(alphabet="ab 张\x00\t", max_size=8)
    numbers = st.one_of(st.decimals(allow_nan=True, allow_infinity=True, places=None),
                        st.decimals(min_value=-99999, max_value=99999, places=3),
                        st.from_regex(r"\A\s?-?\d{0,6}(\.\d{0,4})?(E[+-]?\d)?\s?\Z"))

    def outcome(clean, *args):
        try:
            value = clean(*args)
        except ValidationError as exc:
            return ("error", exc.messages)
        return ("ok", type(value), str(value))

    @settings(max_examples=400, deadline=None)
    @given(st.one_of(st.none(), st.integers(), texts, numbers))
    def check(value):
        for field in form_fields:
            assert outcome(importing._fast_clean(field), value) == outcome(field.clean, value), (field, value)
        for field in model_fields:
            assert outcome(importing._fast_clean(field), value, None) == outcome(field.clean, value, None), (field, value)

    check()
    assert str(importing._fast_clean(form_fields[3])("1.50")) == "1.50"  # the places as written, as Django keeps them
    assert isinstance(importing._fast_clean(model_fields[3])(decimal.Decimal("12.5"), None), decimal.Decimal)


def test_a_number_in_a_date_column_is_read_or_refused_never_a_crash():
    import datetime
    import decimal

    field = importing.ImportDateField(required=False)
    assert field.clean(20260901) == datetime.date(2026, 9, 1)
    assert field.clean(46266) == datetime.date(2026, 9, 1)  # Excel's serial number of 2026-09-01
    assert field.clean(decimal.Decimal("46266")) == datetime.date(2026, 9, 1)
    assert field.clean("2026-09-01") == datetime.date(2026, 9, 1)
    for bad in (20261301, 0, -5, 99999999, decimal.Decimal("46266.5"), 1.5, float("nan")):
        with pytest.raises(ValidationError):
            field.clean(bad)


def _temp_tables():
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_temp_master WHERE type = 'table' AND name LIKE 'houqin_stage_%'")
        return cursor.fetchall()


def test_rows_staged_in_a_temp_table_are_inserted_in_order_and_the_table_goes(school):
    objs = _students(school, "G", ROWS)
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
    stored = list(Student.objects.filter(student_no__startswith="G").order_by("pk").values_list("pk", "student_no"))
    assert stored == [(o.pk, o.student_no) for o in objs] and [o.pk for o in objs] == sorted(o.pk for o in objs)
    assert _temp_tables() == []
    # inside stages_dropped_after the staged table stays until the block ends, then goes
    with bulk.stages_dropped_after():
        with transaction.atomic():
            bulk.bulk_insert(Student, _students(school, "H", ROWS))
        assert len(_temp_tables()) == 1
    assert _temp_tables() == []


def test_a_staged_insert_that_breaks_a_constraint_leaves_nothing(school):
    objs = _students(school, "K", ROWS)
    objs[-1].student_no = objs[0].student_no
    count = Student.objects.count()
    with pytest.raises(IntegrityError), bulk.stages_dropped_after(), transaction.atomic():
        bulk.bulk_insert(Student, objs)
    assert Student.objects.count() == count and _temp_tables() == []
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_insert(Student, _students(school, "K", ROWS) + _students(school, "K", 1))
    assert Student.objects.count() == count and _temp_tables() == []


@pytest.mark.django_db(transaction=True)
def test_an_import_outside_a_transaction_binds_its_rows_before_the_lock_and_writes_the_same(school, personas):
    """In production the import's prepare runs outside any transaction: the new rows are bound into a TEMP table
    then (bulk._stage_columns) and the write copies them. The rows, index entries and audit entries are the ones
    the in-transaction path writes; no TEMP table is left."""
    from django.test.utils import CaptureQueriesContext

    assert not connection.in_atomic_block
    assert _temp_tables() == []
    with CaptureQueriesContext(connection) as captured:
        staged = run_import(registry[Student], _xlsx(school, ROWS), actor=personas["logistics_director"],
                            school=school, commit=True)
    assert staged.ok and staged.created == ROWS, staged.problems[:3]
    sqls = [q["sql"] for q in captured.captured_queries]
    assert any(s.startswith("CREATE TEMP TABLE houqin_stage_") for s in sqls)
    assert any(s.startswith('INSERT INTO "org_student"') and "FROM temp.houqin_stage_" in s for s in sqls)
    assert _temp_tables() == []
    students, fts, _bigrams, audit = _snapshot(school)
    assert len(students) == ROWS and len(audit) == ROWS
    assert fts == _trigrams_of([(r["id"], r["student_no"], r["name"], r["search_keys"]) for r in students])
    # The audit entries too were bound before the lock (audit._stage_entries), their keys put in by SQL.
    assert any(s.startswith('INSERT INTO "core_auditentry"') and "FROM temp.houqin_stage_" in s for s in sqls)
    assert [a["object_id"] for a in audit] == [str(a["after"]["id"]) for a in audit] == [str(r["id"]) for r in students]
    # the same file again through the path that binds in the transaction gives the same rows (but their keys)
    Student.objects.filter(school=school, student_no__startswith="Q").delete()
    bulk_stage_from = bulk.STAGE_FROM
    try:
        bulk.STAGE_FROM = 10 ** 9
        plain = run_import(registry[Student], _xlsx(school, ROWS), actor=personas["logistics_director"],
                           school=school, commit=True)
    finally:
        bulk.STAGE_FROM = bulk_stage_from
    assert plain.ok
    again, fts_again, _b, audit_again = _snapshot(school)

    def without_keys(rows):
        return [{k: v for k, v in r.items() if k != "id"} for r in rows]

    assert without_keys(again) == without_keys(students)
    assert [r[1:] for r in fts_again] == [r[1:] for r in fts]
    assert [{k: v for k, v in a.items() if k != "object_id"} | {"after": {**a["after"], "id": None}}
            for a in audit_again[-ROWS:]] == [
        {k: v for k, v in a.items() if k != "object_id"} | {"after": {**a["after"], "id": None}} for a in audit]


@pytest.mark.django_db(transaction=True)
def test_staged_audit_rows_are_used_only_for_the_same_objects_in_the_same_order(school, personas):
    """Entries for the prepared objects in another order (inserted in that order, so their keys run on in it) are
    worked out row by row: the staged rows' keys are given by their position (audit._insert_staged)."""
    from houqin.core import audit

    objs = _students(school, "R", ROWS)
    with bulk.stages_dropped_after():  # as run_import: the TEMP tables go after the write
        bulk.prepare_insert(Student, objs)
        audit.prepare_snapshots(objs)
        assert audit.AUDIT_STAGE in objs[0].__dict__
        with transaction.atomic():
            reordered = [objs[0], *reversed(objs[1:])]
            bulk.bulk_insert(Student, reordered)  # keys consecutive in this order, not in the prepared one
            audit.audit_bulk([(o, AuditEntry.Action.IMPORT, None, audit.SNAPSHOT) for o in reordered],
                             actor=personas["logistics_director"], message="x")
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Student),
                                        object_id__in=[str(o.pk) for o in objs])
    assert entries.count() == ROWS
    assert all(e.after["id"] == int(e.object_id) and e.after["student_no"] == Student.objects.get(pk=e.object_id).student_no
               for e in entries)
    assert _temp_tables() == []


@pytest.mark.django_db(transaction=True)
def test_snapshots_made_in_sql_are_the_snapshots_python_makes(school, personas):
    """Before the lock, a large batch's audit snapshots are made by SQLite's json_object from the staged insert
    rows (audit._snapshot_sql): every entry's JSON value is serialize_for_audit of the row as stored — text with
    quotes and Chinese, booleans, dates, empty keys — and its repr and school are the row's."""
    import datetime
    import json

    from houqin.core import audit

    objs = _students(school, "J", ROWS)
    dorm = Room.objects.filter(school=school).order_by("pk").first()
    for i, obj in enumerate(objs):
        obj.is_boarder = i % 2 == 0
        obj.birth_date = datetime.date(2010, 1 + i % 12, 1 + i % 28) if i % 3 else None
        obj.guardian_name = ['O\'Brien "老王"', "欧阳\\娜", ""][i % 3]
        obj.dorm_room = None if i % 5 == 0 else dorm
    with bulk.stages_dropped_after():
        bulk.prepare_insert(Student, objs)
        audit.prepare_snapshots(objs)
        stage, staged = objs[0].__dict__[audit.AUDIT_STAGE]
        assert staged == objs and all(o.__dict__[audit.PREPARED_SNAPSHOT][2] is None for o in objs)  # in SQL
        with transaction.atomic():
            bulk.bulk_insert(Student, objs)
            audit.audit_bulk([(o, AuditEntry.Action.IMPORT, None, audit.SNAPSHOT) for o in objs],
                             actor=personas["logistics_director"], message="x")
    stored = {s.pk: s for s in Student.objects.filter(pk__in=[o.pk for o in objs])}
    entries = list(AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Student),
                                             object_id__in=[str(o.pk) for o in objs]).order_by("pk"))
    assert [e.object_id for e in entries] == [str(o.pk) for o in objs]
    for entry in entries:
        row = stored[int(entry.object_id)]
        assert entry.after == json.loads(json.dumps(audit.serialize_for_audit(row)))
        assert entry.object_repr == str(row)[:200] and entry.school_id == row.school_id
    assert {type(e.after["is_boarder"]) for e in entries} == {bool}
    assert {e.after["dorm_room"] is None for e in entries} == {True, False}
    assert _temp_tables() == []


def test_bulk_update_stores_what_djangos_bulk_update_stores(school):
    """bulk.bulk_update (one UPDATE … FROM a staged TEMP table, the search-index update triggers run once for all
    the rows) leaves the rows and both search indexes as Django's bulk_update (the triggers per row) leaves them."""
    import datetime

    dorm = Room.objects.filter(school=school).order_by("pk").first()

    def run(prefix, update):
        objs = _students(school, prefix, ROWS)  # enough rows for the search-index triggers to run set-based
        with transaction.atomic():
            bulk.bulk_insert(Student, objs)
        for i, obj in enumerate(objs):
            if i % 7:  # every seventh row keeps its searched columns: its index entries must stay as they are
                obj.name = ["王小明", "O'Brien", "欧阳\\娜娜"][i % 3] + prefix
                obj.search_keys = f"new{i}"
            obj.is_boarder = i % 2 == 0
            obj.dorm_room_id = dorm.pk if i % 4 == 0 else None
            obj.birth_date = datetime.date(2010, 1 + i % 12, 3) if i % 5 else None
        fields = ["name", "is_boarder", "dorm_room", "birth_date", "search_keys"]
        with transaction.atomic():
            count = update(objs, fields)
        ids = [o.pk for o in objs]
        rows = list(Student.objects.filter(pk__in=ids).order_by("pk").values_list(
            "name", "is_boarder", "dorm_room_id", "birth_date", "search_keys", "student_no"))
        fts = _trigram_entries(min(ids), max(ids))
        with connection.cursor() as cursor:
            bigrams = []
            if search_index.index_exists("default", "org_student_fts_bi"):
                for term in ("小明", "br", "娜娜", "ew", "钢琴"):  # 钢琴: only in the names before the update
                    cursor.execute("SELECT rowid FROM org_student_fts_bi WHERE org_student_fts_bi MATCH "
                                   "'{name search_keys} : \"' || hex(lower(%s)) || '\"' AND rowid >= %s AND rowid <= %s "
                                   "ORDER BY rowid", [term, min(ids), max(ids)])
                    bigrams.append([ids.index(rowid) for (rowid,) in cursor.fetchall()])  # positions, not keys
        stored = list(Student.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "student_no", "name",
                                                                                       "search_keys"))
        return (count, [(n.removesuffix(prefix), *rest[:-1]) for n, *rest in rows], fts == _trigrams_of(stored),
                bigrams)

    from django.test.utils import CaptureQueriesContext

    def staged(objs, fields):
        with CaptureQueriesContext(connection) as captured:
            count = bulk.bulk_update(Student, objs, fields)
        updates = [q["sql"] for q in captured.captured_queries if q["sql"].startswith('UPDATE "org_student"')]
        assert len(updates) == 1 and "FROM temp.houqin_stage_" in updates[0]  # one statement
        dropped = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("DROP TRIGGER")]
        assert any("org_student_fts" in sql for sql in dropped)  # the search-index triggers ran set-based
        return count

    ours = run("U", staged)
    django_s = run("V", lambda objs, fields: Student.objects.bulk_update(objs, fields=fields))
    assert ours[0] == django_s[0] == ROWS
    assert ours[1] == django_s[1]
    assert ours[2] and django_s[2]  # the search index follows the rows
    assert ours[3] == django_s[3] and (not ours[3] or all(ours[3][:4]))  # the bigram index too
    assert not ours[3] or ours[3][4] == [i for i in range(0, ROWS, 7) if i % 6 == 4]  # 赵钢琴: kept rows only
    assert _temp_tables() == []


def test_bulk_update_falls_back_to_django_where_it_cannot_stage(school):
    objs = _students(school, "F", 60)
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
    objs[1].pk = objs[0].pk  # a key twice: Django's way (the first value wins there)
    objs[0].name, objs[1].name = "甲", "乙"
    with transaction.atomic():
        bulk.bulk_update(Student, objs, ["name"])
    assert Student.objects.get(pk=objs[0].pk).name == "甲"


def test_bulk_update_refused_by_the_database_leaves_rows_and_triggers_as_they_were(school):
    objs = _students(school, "E", ROWS)
    with transaction.atomic():
        bulk.bulk_insert(Student, objs)
    before = _triggers()
    for obj in objs:
        obj.name = obj.name + "改"
    objs[-1].student_no = objs[0].student_no  # unique (school, student number): refused at the very end
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.bulk_update(Student, objs, ["name", "student_no"])
    assert _triggers() == before
    assert not Student.objects.filter(pk__in=[o.pk for o in objs], name__endswith="改").exists()
