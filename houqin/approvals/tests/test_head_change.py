"""X-3: a "head of department" step follows the department's head when the head changes mid-approval."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils.translation import gettext

from houqin.approvals import selectors
from houqin.approvals.models import ApprovalRequest, ApprovalStep
from houqin.approvals.services import NotAnApprover, approval_decide
from houqin.core.crud import object_update
from houqin.core.models import AuditEntry
from houqin.notifications.models import Notification
from tests.sampleapp.models import SampleRequest

from .conftest import THREE_LEVELS, submit

HEAD_STEP = {"label": "部门负责人审核", "kind": "department_head", "role_codes": [], "min_amount": None}


@pytest.fixture
def department(school, personas):
    from houqin.org.models import Department

    dept = Department.objects.create(school=school, name="数学教研组测试", kind=Department.Kind.TEACHING,
                                     head=personas["group_head"].staff)
    personas["teacher"].staff.departments.set([dept])
    return dept


def _request_of(doc) -> ApprovalRequest:
    ct = ContentType.objects.get_for_model(SampleRequest)
    return ApprovalRequest.objects.filter(content_type=ct, object_id=str(doc.pk)).order_by("-id").first()


def _change_head(department, staff, actor):
    """What the department's edit page does: the generic update service."""
    return object_update(obj=department, data={"head": staff}, actor=actor)


def _told(user, title_part) -> bool:
    return Notification.objects.filter(recipient=user, title__contains=title_part).exists()


def test_a_pending_head_step_moves_to_the_new_head(make_policy, new_request, personas, department,
                                                   django_capture_on_commit_callbacks):
    make_policy([HEAD_STEP, THREE_LEVELS[0]])
    old, new = personas["group_head"], personas["logistics_clerk"]
    with django_capture_on_commit_callbacks(execute=True):
        doc = submit(new_request("800", title="期中试卷印刷"), personas["teacher"])
    req = _request_of(doc)
    step = req.steps.get(status="pending")
    assert step.department == department and step.assignee == old
    assert list(selectors.approvals_waiting_for(old)) == [step]

    with django_capture_on_commit_callbacks(execute=True):
        _change_head(department, new.staff, personas["sysadmin"])

    step.refresh_from_db()
    assert step.assignee == new and step.status == "pending"
    assert list(selectors.approvals_waiting_for(new)) == [step]  # 待我审批 of the new head
    assert selectors.approvals_waiting_count(new) == 1
    assert not selectors.approvals_waiting_for(old).exists()
    assert _told(new, "期中试卷印刷")  # the new head is told
    entry = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ApprovalRequest),
                                      object_id=str(req.pk), action="update").get()
    assert str(new) in entry.message and str(old) in entry.message

    with pytest.raises(NotAnApprover, match=str(new)):  # the old head can no longer decide
        approval_decide(step=step, actor=old, approve=True)
    approval_decide(step=step, actor=new, approve=True)
    step.refresh_from_db()
    assert (step.status, step.decided_by, step.assignee) == ("approved", new, new)
    assert req.steps.get(status="pending").label == "后勤主任审批"


def test_the_old_head_is_refused_on_the_decision_page_and_the_new_head_decides_there(
        client, make_policy, new_request, personas, department):
    make_policy([HEAD_STEP])
    old, new = personas["group_head"], personas["logistics_clerk"]
    doc = submit(new_request("800"), personas["teacher"])
    step = _request_of(doc).steps.get(status="pending")
    _change_head(department, new.staff, personas["sysadmin"])
    url = reverse("approvals:step_decide", args=[step.pk])
    client.force_login(old)
    assert client.post(url, {"decision": "approve"}).status_code == 403
    step.refresh_from_db()
    assert step.status == "pending"
    client.force_login(new)
    inbox = client.get(reverse("approvals:waiting")).content.decode()
    assert url in inbox
    client.post(url, {"decision": "approve", "comment": ""})
    step.refresh_from_db()
    doc.refresh_from_db()
    assert step.status == "approved" and step.decided_by == new and doc.status == "approved"


def test_a_waiting_head_step_follows_too_and_the_new_head_is_told_when_it_is_reached(
        make_policy, new_request, personas, department, django_capture_on_commit_callbacks):
    make_policy([THREE_LEVELS[0], HEAD_STEP])
    old, new = personas["group_head"], personas["accountant"]
    with django_capture_on_commit_callbacks(execute=True):
        doc = submit(new_request("800", title="实验耗材补充"), personas["teacher"])
    req = _request_of(doc)
    head_step = req.steps.get(label=HEAD_STEP["label"])
    assert head_step.status == "waiting"
    with django_capture_on_commit_callbacks(execute=True):
        _change_head(department, new.staff, personas["sysadmin"])
    head_step.refresh_from_db()
    assert head_step.assignee == new
    assert not _told(new, "实验耗材补充")  # not their turn yet
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(step=req.steps.get(status="pending"), actor=personas["logistics_director"], approve=True)
    assert _told(new, "实验耗材补充") and not _told(old, "实验耗材补充")
    assert list(selectors.approvals_waiting_for(new)) == [ApprovalStep.objects.get(pk=head_step.pk)]


def test_without_a_head_nobody_decides_until_one_is_set(make_policy, new_request, personas, department):
    make_policy([HEAD_STEP])
    old, new = personas["group_head"], personas["logistics_clerk"]
    step = _request_of(submit(new_request("800"), personas["teacher"])).steps.get(status="pending")
    _change_head(department, None, personas["sysadmin"])
    step.refresh_from_db()
    assert step.assignee is None and not selectors.approvals_waiting_for(old).exists()
    message = gettext("%(department)s has no head at the moment: ask the office to set one.") % {
        "department": department}
    with pytest.raises(NotAnApprover) as refused:
        approval_decide(step=step, actor=old, approve=True)
    assert str(refused.value) == message
    _change_head(department, new.staff, personas["sysadmin"])
    approval_decide(step=step, actor=new, approve=True)
    step.refresh_from_db()
    assert step.status == "approved"


def test_a_head_who_has_left_is_no_head(make_policy, new_request, personas, department):
    """Even without a save of the department (a head's staff record set to left), deciding asks for the
    current head, who must be an active staff member."""
    make_policy([HEAD_STEP])
    old = personas["group_head"]
    step = _request_of(submit(new_request("800"), personas["teacher"])).steps.get(status="pending")
    type(old.staff).objects.filter(pk=old.staff.pk).update(status="left")
    assert not selectors.approvals_waiting_for(old).exists()
    with pytest.raises(NotAnApprover):
        approval_decide(step=step, actor=old, approve=True)


def test_saving_a_department_without_a_new_head_changes_nothing(make_policy, new_request, personas, department):
    make_policy([HEAD_STEP])
    step = _request_of(submit(new_request("800"), personas["teacher"])).steps.get(status="pending")
    object_update(obj=department, data={"name": "数学组"}, actor=personas["sysadmin"])
    step.refresh_from_db()
    assert step.assignee == personas["group_head"]
    assert not AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ApprovalRequest),
                                         action="update").exists()


def test_decided_steps_keep_the_head_who_decided(make_policy, new_request, personas, department):
    make_policy([HEAD_STEP, THREE_LEVELS[0]])
    old, new = personas["group_head"], personas["logistics_clerk"]
    req = _request_of(submit(new_request("800"), personas["teacher"]))
    step = req.steps.get(status="pending")
    approval_decide(step=step, actor=old, approve=True)
    _change_head(department, new.staff, personas["sysadmin"])
    step.refresh_from_db()
    assert (step.assignee, step.decided_by) == (old, old)


def test_a_step_from_before_departments_were_kept_stays_with_its_head(make_policy, new_request, personas,
                                                                      department):
    make_policy([HEAD_STEP])
    old = personas["group_head"]
    step = _request_of(submit(new_request("800"), personas["teacher"])).steps.get(status="pending")
    ApprovalStep.objects.filter(pk=step.pk).update(department=None)
    assert list(selectors.approvals_waiting_for(old)) == [step]
    approval_decide(step=step, actor=old, approve=True)
