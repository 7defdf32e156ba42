"""Workflows (X-3 engine, architecture §4.6): every state × transition of every registered workflow,
refusals with messages, one StatusChange + audit entry per transition, buttons, URLs, API, concurrency."""

import threading

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.urls import reverse

from houqin.core.entities import registry
from houqin.core.models import AuditEntry, StatusChange
from houqin.core.workflow import TransitionNotAllowed, workflows
from tests.sampleapp.models import SampleRequest

from .test_entity_matrix import _factories

PAIRS = [(wf, state, t) for wf in workflows.values() for state in wf.states for t in wf.transitions]
IDS = [f"{wf.model._meta.label_lower}:{state}:{t.name}" for wf, state, t in PAIRS]


@pytest.fixture
def superuser(school):
    from houqin.org.models import User

    return User.objects.create_superuser("wf-root", password="x", school=school)


@pytest.mark.parametrize("wf,state,t", PAIRS, ids=IDS)
def test_every_state_and_transition(wf, state, t, superuser):
    """Allowed exactly when the state is a source and the guard passes; refused with a message otherwise."""
    obj = _factories()[wf.model](**{wf.field: state})
    guard_message = t.guard(obj, superuser) if t.guard else None
    allowed = state in t.sources(wf.states) and not guard_message
    changes = StatusChange.objects.count()
    if allowed:
        wf.apply(obj, t.name, actor=superuser, note="测试")
        obj.refresh_from_db()
        assert getattr(obj, wf.field) == t.target
        change = StatusChange.objects.order_by("-id").first()
        assert (change.from_state, change.to_state, change.transition) == (state, t.target, t.name)
        assert change.actor == superuser and change.note == "测试"
        ct = ContentType.objects.get_for_model(obj)
        assert AuditEntry.objects.filter(content_type=ct, object_id=str(obj.pk), action="transition").count() == 1
    else:
        with pytest.raises(TransitionNotAllowed) as info:
            wf.apply(obj, t.name, actor=superuser, note="测试")
        assert str(info.value)
        obj.refresh_from_db()
        assert getattr(obj, wf.field) == state
        assert StatusChange.objects.count() == changes


def test_refusals_name_the_reason(personas, school):
    from tests.sampleapp.workflows import request_flow

    req = SampleRequest.objects.create(school=school, title="买粉笔", amount=10)
    with pytest.raises(TransitionNotAllowed, match="无权|not allowed"):
        request_flow.apply(req, "submit", actor=personas["guard"])
    with pytest.raises(TransitionNotAllowed, match="原因|reason"):
        request_flow.apply(req, "cancel", actor=personas["teacher"], note="  ")
    with pytest.raises(TransitionNotAllowed):
        request_flow.apply(req, "nonsense", actor=personas["teacher"])
    request_flow.apply(req, "submit", actor=personas["teacher"])
    with pytest.raises(TransitionNotAllowed, match="审批中"):
        request_flow.apply(req, "submit", actor=personas["teacher"])
    zero = SampleRequest.objects.create(school=school, title="零元", amount=0, status="approved")
    with pytest.raises(TransitionNotAllowed, match="金额为零"):
        request_flow.apply(zero, "complete", actor=personas["logistics_director"])


def test_buttons_urls_and_api_come_from_the_table(client, personas, school):
    teacher = personas["teacher"]
    client.force_login(teacher)
    response = client.post(reverse("sampleapp:samplerequest_add"), {"title": "借投影仪", "amount": "0"})
    req = SampleRequest.objects.get(title="借投影仪")
    assert response.status_code == 302 and req.requested_by == teacher
    html = client.get(reverse("sampleapp:samplerequest", args=[req.pk])).content.decode()
    assert 'data-testid="transition-submit"' in html and 'data-testid="transition-cancel"' in html
    assert 'data-testid="transition-complete"' not in html  # not in this state
    assert "transition-approve" not in html  # system transition: the approval fires it, never a button
    client.post(reverse("sampleapp:samplerequest_submit", args=[req.pk]))
    req.refresh_from_db()
    assert req.status == "submitted"
    # a refused transition through the page: message, state unchanged
    client.post(reverse("sampleapp:samplerequest_revise", args=[req.pk]))
    req.refresh_from_db()
    assert req.status == "submitted"
    # the API action
    api = f"/api/sampleapp/samplerequests/{req.pk}/"
    bad = client.post(api + "revise/", {}, content_type="application/json")
    assert bad.status_code == 400 and "审批中" in bad.json()["errors"]["non_field_errors"][0]
    response = client.post(api + "cancel/", {"note": "不需要了"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    client.force_login(personas["guard"])  # no permission on the document type at all
    assert client.post(api + "cancel/", {"note": "x"}, content_type="application/json").status_code == 403
    assert client.post(reverse("sampleapp:samplerequest_cancel", args=[req.pk]), {"note": "x"}).status_code == 403


def test_docs_page_draws_every_workflow(client, personas):
    client.force_login(personas["teacher"])
    html = client.get(reverse("core:workflow_docs")).content.decode()
    assert "<svg" in html and "申请单" in html and "审批中" in html and "修改后重新提交" in html


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_concurrent_transitions_of_one_row_cannot_both_succeed():
    """Two people submitting the same draft at once: one wins, the other is refused (row lock)."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"] in (":memory:", "") or \
            "mode=memory" in str(connection.settings_dict.get("NAME")):
        pytest.skip("threads need a shared database: runs on PostgreSQL (make test) and file SQLite")
    from conftest import _seed_if_empty
    from houqin.org.models import School, User
    from tests.sampleapp.workflows import request_flow

    _seed_if_empty()
    school = School.objects.get(code="3301001")
    teacher = User.objects.get(username="teacher")
    req = SampleRequest.objects.create(school=school, title="并发", amount=5)
    results, barrier = [], threading.Barrier(2)

    def submit():
        from django.db import connection as conn

        barrier.wait()
        try:
            request_flow.apply(SampleRequest.objects.get(pk=req.pk), "submit", actor=teacher)
            results.append("ok")
        except TransitionNotAllowed:
            results.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["ok", "refused"]
    assert StatusChange.objects.filter(object_id=str(req.pk), transition="submit").count() == 1


def test_entity_registry_exposes_workflow():
    entity = registry[SampleRequest]
    assert entity.workflow is workflows[SampleRequest]
    assert "submit" in entity.views and "approve" not in entity.views
