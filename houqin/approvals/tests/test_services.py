"""X-3 approvals, services: steps by role and amount, no approval, reject, resubmit, refusals, once only."""

import re
import threading
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils.translation import gettext

from houqin.approvals import selectors
from houqin.approvals.models import ApprovalRequest, ApprovalStep
from houqin.approvals.services import (
    NotAnApprover,
    approval_decide,
    approval_policy_save,
    approval_request_create,
)
from houqin.core.entities import registry
from houqin.core.models import AuditEntry, StatusChange
from houqin.core.workflow import workflows
from houqin.notifications.models import Notification
from tests.sampleapp.models import SampleRequest

from .conftest import KEY, THREE_LEVELS, submit


def _sample_ct():
    """Documents of other apps (the demo's asset moves) share object ids: always filter by type."""
    return ContentType.objects.get_for_model(SampleRequest)


def _message(msgid: str) -> str:
    """A service message as a regex, in the language the tests run in (the catalogue's wording)."""
    return re.escape(gettext(msgid))


DECIDED = "This step has already been decided; nothing was changed."


def _request_of(doc) -> ApprovalRequest:
    ct = ContentType.objects.get_for_model(SampleRequest)
    return ApprovalRequest.objects.filter(content_type=ct, object_id=str(doc.pk)).order_by("-id").first()


def _pending(req) -> ApprovalStep:
    return req.steps.get(status="pending")


def _changes(doc, transition):
    return StatusChange.objects.filter(object_id=str(doc.pk), transition=transition,
                                       content_type=ContentType.objects.get_for_model(SampleRequest))


def _request_audit(req):
    return AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ApprovalRequest),
                                     object_id=str(req.pk))


@pytest.mark.parametrize("amount,labels", [
    ("0", ["后勤主任审批"]),
    ("999.99", ["后勤主任审批"]),
    ("1000", ["后勤主任审批", "分管副校长审批"]),
    ("49999.99", ["后勤主任审批", "分管副校长审批"]),
    ("50000", ["后勤主任审批", "分管副校长审批", "校长审批"]),
    ("1200000", ["后勤主任审批", "分管副校长审批", "校长审批"]),
])
def test_thresholds_pick_the_right_steps(make_policy, new_request, personas, amount, labels):
    make_policy(THREE_LEVELS)
    doc = submit(new_request(amount), personas["teacher"])
    req = _request_of(doc)
    assert doc.status == "submitted" and req.status == "pending"
    assert req.amount == Decimal(amount) and req.requested_by == personas["teacher"]
    steps = list(req.steps.order_by("order"))
    assert [s.label for s in steps] == labels
    assert [s.order for s in steps] == list(range(1, len(labels) + 1))
    assert [s.status for s in steps] == ["pending"] + ["waiting"] * (len(labels) - 1)
    assert steps[0].role_codes == ["logistics_director"]
    assert _request_audit(req).filter(action="create").count() == 1


def test_no_approval_policy_approves_at_once(make_policy, new_request, personas):
    make_policy([], name="小额内部调拨：无需审批")
    doc = submit(new_request("300"), personas["teacher"])
    assert doc.status == "approved"
    req = _request_of(doc)
    assert req.status == "approved" and not req.steps.exists() and req.decided_at is not None
    assert _changes(doc, "approve").count() == 1
    entry = _request_audit(req).get()
    assert entry.action == "create" and entry.after["status"] == "approved" and entry.actor == personas["teacher"]


def test_steps_below_every_threshold_approve_at_once(make_policy, new_request, personas):
    make_policy([{"label": "校长审批", "kind": "role", "role_codes": ["principal"], "min_amount": "50000"}])
    doc = submit(new_request("20"), personas["teacher"])
    assert doc.status == "approved" and _request_of(doc).status == "approved"


def test_without_any_policy_a_document_needs_no_approval(school, new_request, personas):
    from houqin.approvals.models import ApprovalPolicy

    ApprovalPolicy.objects.filter(school=school, document_type=KEY).update(active=False)
    doc = submit(new_request("99999"), personas["teacher"])
    assert doc.status == "approved" and _request_of(doc).policy is None


def test_three_steps_end_in_one_approval_of_the_document(make_policy, new_request, personas,
                                                         django_capture_on_commit_callbacks):
    make_policy(THREE_LEVELS)
    teacher = personas["teacher"]
    with django_capture_on_commit_callbacks(execute=True):
        doc = submit(new_request("60000", title="更换锅炉"), teacher)
    req = _request_of(doc)
    director_note = Notification.objects.get(recipient=personas["logistics_director"], title__contains="更换锅炉")
    assert director_note.url == f"/approvals/steps/{_pending(req).pk}/"
    for role, following in [("logistics_director", "vice_principal"), ("vice_principal", "principal")]:
        with django_capture_on_commit_callbacks(execute=True):
            approval_decide(step=_pending(req), actor=personas[role], approve=True, comment="同意")
        doc.refresh_from_db()
        assert doc.status == "submitted"
        assert Notification.objects.filter(recipient=personas[following], title__contains="更换锅炉").exists()
        assert not Notification.objects.filter(recipient=teacher, title__contains="更换锅炉").exists()
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(step=_pending(req), actor=personas["principal"], approve=True)
    doc.refresh_from_db()
    req.refresh_from_db()
    assert doc.status == "approved" and req.status == "approved" and req.decided_at is not None
    assert [s.status for s in req.steps.order_by("order")] == ["approved"] * 3
    assert [s.decided_by for s in req.steps.order_by("order")] == [
        personas["logistics_director"], personas["vice_principal"], personas["principal"]]
    change = _changes(doc, "approve").get()
    assert change.actor == personas["principal"]
    owner_note = Notification.objects.get(recipient=teacher, title__contains="更换锅炉")
    assert owner_note.url == f"/sample/samplerequests/{doc.pk}/"
    # every decision audited on the request; the document's transition has its own entry
    assert list(_request_audit(req).order_by("id").values_list("action", flat=True)) == [
        "create", "transition", "transition", "transition"]
    assert _request_audit(req).filter(actor=personas["vice_principal"]).count() == 1
    doc_ct = ContentType.objects.get_for_model(SampleRequest)
    assert AuditEntry.objects.filter(content_type=doc_ct, object_id=str(doc.pk), action="transition",
                                     actor=personas["principal"]).count() == 1


def test_reject_needs_a_comment_and_returns_the_document_to_its_owner(make_policy, new_request, personas,
                                                                      django_capture_on_commit_callbacks):
    make_policy(THREE_LEVELS)
    doc = submit(new_request("5000", title="购买投影仪"), personas["teacher"])
    req = _request_of(doc)
    approval_decide(step=_pending(req), actor=personas["logistics_director"], approve=True)
    with pytest.raises(ValidationError) as info:
        approval_decide(step=_pending(req), actor=personas["vice_principal"], approve=False, comment="  ")
    assert "comment" in info.value.message_dict
    with django_capture_on_commit_callbacks(execute=True):
        approval_decide(step=_pending(req), actor=personas["vice_principal"], approve=False,
                        comment="预算不足，下学期再报")
    doc.refresh_from_db()
    req.refresh_from_db()
    assert doc.status == "rejected" and req.status == "rejected"
    change = _changes(doc, "reject").get()
    assert change.note == "预算不足，下学期再报" and change.actor == personas["vice_principal"]
    steps = list(req.steps.order_by("order"))
    assert [s.status for s in steps] == ["approved", "rejected"]
    assert steps[1].comment == "预算不足，下学期再报"
    note = Notification.objects.get(recipient=personas["teacher"], title__contains="购买投影仪")
    assert "预算不足，下学期再报" in note.body
    assert "rejected" in _request_audit(req).order_by("-id").first().after["status"]
    assert not selectors.approvals_waiting_for(personas["principal"]).filter(request=req).exists()


def test_rejection_skips_the_steps_not_reached(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    req = _request_of(submit(new_request("70000"), personas["teacher"]))
    approval_decide(step=_pending(req), actor=personas["logistics_director"], approve=False, comment="重复申请")
    assert [s.status for s in req.steps.order_by("order")] == ["rejected", "skipped", "skipped"]


def test_resubmitting_after_a_rejection_creates_a_new_request(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    teacher = personas["teacher"]
    doc = submit(new_request("800"), teacher)
    first = _request_of(doc)
    approval_decide(step=_pending(first), actor=personas["logistics_director"], approve=False, comment="写清用途")
    entity = registry[SampleRequest]
    doc.refresh_from_db()
    entity.transition(obj=doc, name="revise", actor=teacher)
    doc = submit(doc, teacher)
    second = _request_of(doc)
    assert second.pk != first.pk and second.status == "pending" and doc.status == "submitted"
    first.refresh_from_db()
    assert first.status == "rejected"
    assert ApprovalRequest.objects.filter(content_type=_sample_ct(), object_id=str(doc.pk), status="pending").count() == 1
    approval_decide(step=_pending(second), actor=personas["logistics_director"], approve=True)
    doc.refresh_from_db()
    assert doc.status == "approved"


def test_one_pending_request_per_document(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    doc = submit(new_request("800"), personas["teacher"])
    with pytest.raises(ValidationError, match=_message("This document is already waiting for approval.")):
        approval_request_create(document=doc, actor=personas["teacher"])
    assert ApprovalRequest.objects.filter(content_type=_sample_ct(), object_id=str(doc.pk)).count() == 1


@pytest.mark.dbsensitive
def test_the_database_refuses_a_second_pending_request(make_policy, new_request, personas, school):
    from django.db import IntegrityError, transaction

    make_policy(THREE_LEVELS)
    doc = submit(new_request("800"), personas["teacher"])
    req = _request_of(doc)
    with pytest.raises(IntegrityError), transaction.atomic():
        ApprovalRequest.objects.create(school=school, content_type=req.content_type, object_id=req.object_id,
                                       document_label="重复")


@pytest.mark.parametrize("role", ["teacher", "guard", "vice_principal", "principal", "class_teacher"])
def test_a_person_without_the_role_is_refused(make_policy, new_request, personas, role):
    make_policy(THREE_LEVELS)
    doc = submit(new_request("800", by=personas["logistics_clerk"]), personas["logistics_clerk"])
    step = _pending(_request_of(doc))
    with pytest.raises(NotAnApprover, match="后勤主任"):
        approval_decide(step=step, actor=personas[role], approve=True)
    step.refresh_from_db()
    doc.refresh_from_db()
    assert step.status == "pending" and doc.status == "submitted"
    assert not selectors.approvals_waiting_for(personas[role]).exists()


def test_nobody_decides_their_own_request(make_policy, new_request, personas, school):
    """The director's own purchase is not decided by the director: another holder of the role must exist."""
    make_policy(THREE_LEVELS)
    director = personas["logistics_director"]
    doc = new_request("800", by=director)
    with pytest.raises(ValidationError, match="后勤主任"):
        submit(doc, director)
    doc.refresh_from_db()
    assert doc.status == "draft" and not ApprovalRequest.objects.filter(content_type=_sample_ct(), object_id=str(doc.pk)).exists()
    # With a second 后勤主任 the request goes to them, and the director still may not decide it.
    from django.contrib.auth.models import Group

    from houqin.org.models import User

    deputy = User.objects.create_user("deputy-director", password="x", school=school, display_name="副主任")
    deputy.groups.add(Group.objects.get(name="logistics_director"))
    doc = submit(doc, director)
    step = _pending(_request_of(doc))
    with pytest.raises(NotAnApprover):
        approval_decide(step=step, actor=director, approve=True)
    assert not selectors.approvals_waiting_for(director).exists()
    assert list(selectors.approvals_waiting_for(User.objects.get(pk=deputy.pk))) == [step]
    approval_decide(step=step, actor=User.objects.get(pk=deputy.pk), approve=True)


def test_a_second_click_is_refused_and_approves_once(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    doc = submit(new_request("800"), personas["teacher"])
    step = _pending(_request_of(doc))
    director = personas["logistics_director"]
    approval_decide(step=step, actor=director, approve=True)
    with pytest.raises(ValidationError, match=_message(DECIDED)):
        approval_decide(step=step, actor=director, approve=True)
    with pytest.raises(ValidationError, match=_message(DECIDED)):
        approval_decide(step=step, actor=director, approve=False, comment="点错了")
    doc.refresh_from_db()
    assert doc.status == "approved"
    assert _changes(doc, "approve").count() == 1 and not _changes(doc, "reject").exists()
    assert _request_audit(_request_of(doc)).filter(action="transition").count() == 1


@pytest.mark.dbsensitive
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_final_approvals_approve_the_document_once():
    """Two 后勤主任 clicking at the same moment: the request row lock lets one through, the other is refused."""
    if connection.vendor == "sqlite" and (connection.settings_dict["NAME"] in (":memory:", "")
                                          or "mode=memory" in str(connection.settings_dict.get("NAME"))):
        pytest.skip("threads need a shared database: runs on PostgreSQL (make test) and file SQLite")
    from django.contrib.auth.models import Group

    from conftest import _seed_if_empty
    from houqin.approvals.models import ApprovalPolicy
    from houqin.org.models import School, User

    _seed_if_empty()
    school = School.objects.get(code="3301001")
    teacher = User.objects.get(username="teacher")
    director = User.objects.get(username="director")
    second = User.objects.create_user("director2", password="x", school=school)
    second.groups.add(Group.objects.get(name="logistics_director"))
    ApprovalPolicy.objects.filter(school=school, document_type=KEY).update(active=False)
    approval_policy_save(school=school, actor=director, name="并发测试", document_type=KEY, active=True,
                         steps=[THREE_LEVELS[0]])
    doc = submit(SampleRequest.objects.create(school=school, title="并发审批", amount=Decimal("10"),
                                              requested_by=teacher), teacher)
    step = ApprovalStep.objects.get(request=_request_of(doc), status="pending")
    results, barrier = [], threading.Barrier(2)

    def decide(user):
        from django.db import connection as conn

        barrier.wait()
        try:
            approval_decide(step=ApprovalStep.objects.get(pk=step.pk), actor=User.objects.get(pk=user.pk),
                            approve=True)
            results.append("ok")
        except ValidationError:
            results.append("refused")
        finally:
            conn.close()

    threads = [threading.Thread(target=decide, args=(u,)) for u in (director, second)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == ["ok", "refused"]
    doc.refresh_from_db()
    assert doc.status == "approved"
    assert _changes(doc, "approve").count() == 1
    assert _request_audit(_request_of(doc)).filter(action="transition").count() == 1


def test_any_of_step_is_decided_by_anyone_holding_one_of_the_roles(make_policy, new_request, personas):
    make_policy([{"label": "财务或分管副校长审核", "kind": "any_of",
                  "role_codes": ["accountant", "vice_principal"], "min_amount": None}])
    first = _pending(_request_of(submit(new_request("800"), personas["teacher"])))
    second = _pending(_request_of(submit(new_request("900", title="买拖把"), personas["teacher"])))
    assert set(selectors.approvals_waiting_for(personas["accountant"])) == {first, second}
    assert set(selectors.approvals_waiting_for(personas["vice_principal"])) == {first, second}
    assert not selectors.approvals_waiting_for(personas["principal"]).exists()
    with pytest.raises(NotAnApprover, match="会计|Accountant"):
        approval_decide(step=first, actor=personas["principal"], approve=True)
    approval_decide(step=first, actor=personas["accountant"], approve=True)
    approval_decide(step=second, actor=personas["vice_principal"], approve=True)
    assert set(SampleRequest.objects.filter(pk__in=[first.request.object_id, second.request.object_id])
               .values_list("status", flat=True)) == {"approved"}
    assert selectors.approvals_waiting_count(personas["accountant"]) == 0


@pytest.fixture
def department_of_teacher(school, personas):
    from houqin.org.models import Department

    dept = Department.objects.create(school=school, name="语文教研组测试", kind=Department.Kind.TEACHING,
                                     head=personas["group_head"].staff)
    personas["teacher"].staff.departments.set([dept])
    return dept


def test_department_head_step_goes_to_the_head_of_the_documents_department(
        make_policy, new_request, personas, department_of_teacher, django_capture_on_commit_callbacks):
    make_policy([{"label": "部门负责人审核", "kind": "department_head", "role_codes": [], "min_amount": None},
                 THREE_LEVELS[0]])
    with django_capture_on_commit_callbacks(execute=True):
        doc = submit(new_request("800", title="教研活动用纸"), personas["teacher"])
    req = _request_of(doc)
    step = _pending(req)
    head = personas["group_head"]
    assert step.assignee == head and step.role_codes == []
    assert Notification.objects.filter(recipient=head, title__contains="教研活动用纸").exists()
    assert list(selectors.approvals_waiting_for(head)) == [step]
    assert not selectors.approvals_waiting_for(personas["logistics_director"]).exists()
    with pytest.raises(NotAnApprover):
        approval_decide(step=step, actor=personas["logistics_director"], approve=True)
    approval_decide(step=step, actor=head, approve=True)
    assert _pending(req).label == "后勤主任审批"


def test_department_head_step_is_skipped_for_the_head_and_refused_without_a_head(
        make_policy, new_request, personas, department_of_teacher, school):
    make_policy([{"label": "部门负责人审核", "kind": "department_head", "role_codes": [], "min_amount": None},
                 THREE_LEVELS[0]])
    teacher = personas["teacher"]
    department_of_teacher.head = teacher.staff  # the requester heads the department: no need to ask
    department_of_teacher.save()
    req = _request_of(submit(new_request("800"), teacher))
    steps = list(req.steps.order_by("order"))
    assert [s.status for s in steps] == ["skipped", "pending"] and steps[0].assignee == teacher
    department_of_teacher.head = None
    department_of_teacher.save()
    doc = new_request("800")
    with pytest.raises(ValidationError, match="语文教研组测试"):
        submit(doc, personas["teacher"])
    doc.refresh_from_db()
    assert doc.status == "draft"


def test_cancelling_a_submitted_document_withdraws_its_request(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    doc = submit(new_request("800"), personas["teacher"])
    registry[SampleRequest].transition(obj=doc, name="cancel", actor=personas["teacher"], note="不买了")
    req = _request_of(doc)
    assert req.status == "withdrawn" and [s.status for s in req.steps.all()] == ["skipped"]
    assert not selectors.approvals_waiting_for(personas["logistics_director"]).exists()


def test_a_document_changed_behind_the_approvals_back_closes_its_request(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    doc = submit(new_request("800"), personas["teacher"])
    workflows[SampleRequest].apply(doc, "cancel", actor=personas["teacher"], note="直接取消")
    step = _pending(_request_of(doc))
    stale = _message("The document is no longer waiting for approval (it was changed or cancelled); "
                     "the request has been closed.")
    with pytest.raises(ValidationError, match=stale):
        approval_decide(step=step, actor=personas["logistics_director"], approve=True)
    assert _request_of(doc).status == "withdrawn"
    doc.refresh_from_db()
    assert doc.status == "cancelled" and not _changes(doc, "approve").exists()


def test_inbox_counts(make_policy, new_request, personas):
    make_policy(THREE_LEVELS)
    director, vice = personas["logistics_director"], personas["vice_principal"]
    assert selectors.approvals_waiting_count(director) == 0
    docs = [submit(new_request(a, title=f"申请{a}"), personas["teacher"]) for a in ("100", "2000", "80000")]
    assert selectors.approvals_waiting_count(director) == 3
    assert selectors.approvals_waiting_count(vice) == 0  # not reached yet
    approval_decide(step=_pending(_request_of(docs[1])), actor=director, approve=True)
    approval_decide(step=_pending(_request_of(docs[2])), actor=director, approve=True)
    assert selectors.approvals_waiting_count(director) == 1
    assert selectors.approvals_waiting_count(vice) == 2
    assert selectors.approvals_waiting_by_type(vice) == [{"key": KEY, "label": "申请单", "count": 2}]
    assert [s.request.document_label for s in selectors.approvals_waiting_for(vice)] == ["申请2000", "申请80000"]
    assert selectors.approvals_waiting_count(personas["teacher"]) == 0


def test_policy_rules_are_checked(school, personas):
    admin = personas["sysadmin"]

    def save(steps, **kw):
        return approval_policy_save(school=school, actor=admin, name=kw.get("name", "规则"),
                                    document_type=kw.get("document_type", KEY), active=kw.get("active", False),
                                    steps=steps)

    with pytest.raises(ValidationError) as info:
        save([{"label": "审批", "kind": "role", "role_codes": ["principal", "vice_principal"]},
              {"label": "会签", "kind": "any_of", "role_codes": ["principal"]},
              {"label": "", "kind": "role", "role_codes": ["nobody"]},
              {"label": "金额", "kind": "role", "role_codes": ["principal"], "min_amount": Decimal("-1")}])
    messages = info.value.message_dict["steps"]
    assert len(messages) == 5, messages
    with pytest.raises(ValidationError) as info:
        save([], document_type="nothing.here")
    assert "document_type" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        save([], active=True)  # the demo policy is in use for this document type
    assert "active" in info.value.message_dict
    policy = save([{"label": "负责人", "kind": "department_head", "role_codes": ["principal"]}])
    assert list(policy.steps.values_list("role_codes", flat=True)) == [[]]


def test_policy_changes_are_audited_with_their_steps(make_policy, personas):
    policy = make_policy(THREE_LEVELS)
    ct = ContentType.objects.get_for_model(policy)
    created = AuditEntry.objects.get(content_type=ct, object_id=str(policy.pk), action="create")
    assert [s["label"] for s in created.after["steps"]] == ["后勤主任审批", "分管副校长审批", "校长审批"]
    assert created.after["steps"][1]["min_amount"] == "1000.00"
    approval_policy_save(school=policy.school, actor=personas["logistics_director"], policy=policy,
                         name=policy.name, document_type=KEY, active=True,
                         steps=[{**THREE_LEVELS[0], "order": 2}, {**THREE_LEVELS[2], "order": 1}])
    updated = AuditEntry.objects.get(content_type=ct, object_id=str(policy.pk), action="update")
    assert updated.changed_fields == ["steps"] and updated.actor == personas["logistics_director"]
    assert [s.label for s in policy.steps.all()] == ["校长审批", "后勤主任审批"]
    assert [s.order for s in policy.steps.all()] == [1, 2]
