"""The student search's trigram index made contentless (``core.search_index.trigram_index``): the search reads
only the rowids of its matches, so the copy of every student's number, name and pinyin the index kept was never
read. Smaller, and less to write with the lock held when a large import fills it.

On SQLite with FTS5 only; the index is rebuilt from the students. Going back rebuilds it the same way: the
older code reads only rowids too.
"""

from django.db import migrations

from houqin.core.search_index import trigram_index

FORWARDS, _BACKWARDS = trigram_index("org_student", "org_student_fts", ("student_no", "name", "search_keys"),
                                     replace=True)


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0005_student_search_bigrams"),
    ]

    operations = [
        migrations.RunPython(FORWARDS, FORWARDS),
    ]
