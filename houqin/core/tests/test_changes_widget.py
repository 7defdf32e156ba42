"""The dashboard's changes-per-day widget (core.views.changes_widget) counts a school's audit entries per local
day from the (school, -at) index: the same days and numbers as grouping by the local date, entries just before
and after local midnight on the right day, other schools and older entries left out."""

import datetime
import zoneinfo

import pytest
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.test import RequestFactory
from django.utils import timezone

from houqin.core.models import AuditEntry
from houqin.core.views import changes_widget
from houqin.org.models import School

pytestmark = pytest.mark.django_db


def _entries(school, other, now):
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(School)
    local = zoneinfo.ZoneInfo("Asia/Shanghai")
    today = now.astimezone(local).date()
    moments = []
    for back in range(0, 20):
        day = today - datetime.timedelta(days=back)
        midnight = datetime.datetime.combine(day, datetime.time.min, tzinfo=local)
        # just after midnight, mid-day, just before the next midnight (the next local day for the first)
        moments += [midnight + datetime.timedelta(microseconds=1), midnight + datetime.timedelta(hours=12),
                    midnight - datetime.timedelta(microseconds=1)] * (1 + back % 3)
    entries = [AuditEntry(school=s, content_type=ct, object_id="1", object_repr="x", action="update",
                          changed_fields=[], request_id="r")
               for s in (school, other) for _ in moments]
    AuditEntry.objects.bulk_create(entries)
    for entry, at in zip(entries, moments * 2, strict=True):
        entry.at = at
    AuditEntry.objects.bulk_update(entries, ["at"])


def test_changes_per_day_equal_grouping_by_local_date(school, personas):
    other = School.objects.exclude(pk=school.pk).first() or School.objects.create(name="别校", code="OTHER")
    now = timezone.now()
    _entries(school, other, now)
    user = personas["logistics_director"]
    assert user.school_id == school.pk
    request = RequestFactory().get("/")
    request.user = user
    widget = changes_widget(request)
    today = timezone.localdate()
    start = today - datetime.timedelta(days=13)
    expected = dict(AuditEntry.objects.filter(school=school, at__date__gte=start, at__date__lte=today)
                    .annotate(day=TruncDate("at")).values("day").annotate(n=Count("id")).values_list("day", "n"))
    days = [start + datetime.timedelta(days=i) for i in range(14)]
    assert widget["rows"] == [(d.strftime("%m-%d"), expected.get(d, 0)) for d in days]
    assert sum(n for _day, n in widget["rows"]) > 0
