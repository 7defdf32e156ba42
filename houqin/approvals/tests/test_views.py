"""X-3 approvals, pages and API: inbox, decision page, my requests, policies, menu, widget, trail tag."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from houqin.approvals.models import ApprovalPolicy, ApprovalRequest
from houqin.core.models import AuditEntry, StatusChange
from tests.sampleapp.models import SampleRequest

from .conftest import KEY, THREE_LEVELS, submit


def _sample_ct():
    """Documents of other apps (the demo's asset moves) share object ids: always filter by type."""
    return ContentType.objects.get_for_model(SampleRequest)


def _step(doc):
    ct = ContentType.objects.get_for_model(SampleRequest)
    return ApprovalRequest.objects.filter(content_type=ct, object_id=str(doc.pk)).latest("id").steps.get(
        status="pending")


@pytest.fixture
def waiting(make_policy, new_request, personas):
    """Two documents waiting for the 后勤主任: ¥800 and ¥2,000."""
    make_policy(THREE_LEVELS)
    return [submit(new_request("800", title="买粉笔"), personas["teacher"]),
            submit(new_request("2000", title="修理课桌"), personas["teacher"])]


def test_submitting_on_the_document_page_starts_the_approval(client, make_policy, personas):
    make_policy(THREE_LEVELS)
    client.force_login(personas["teacher"])
    client.post(reverse("sampleapp:samplerequest_add"), {"title": "借音响", "amount": "120"})
    doc = SampleRequest.objects.get(title="借音响")
    response = client.post(reverse("sampleapp:samplerequest_submit", args=[doc.pk]), follow=True)
    doc.refresh_from_db()
    assert response.status_code == 200 and doc.status == "submitted"
    assert _step(doc).label == "后勤主任审批"


def test_a_submission_nobody_could_decide_is_refused_with_a_message(client, make_policy, new_request, personas):
    make_policy([{"label": "总会计师审批", "kind": "role", "role_codes": ["cashier"], "min_amount": None}])
    from django.contrib.auth.models import Group

    Group.objects.get(name="cashier").user_set.clear()
    doc = new_request("500")
    client.force_login(personas["teacher"])
    response = client.post(reverse("sampleapp:samplerequest_submit", args=[doc.pk]), follow=True)
    doc.refresh_from_db()
    assert doc.status == "draft" and "总会计师审批" in response.content.decode()
    assert not ApprovalRequest.objects.filter(content_type=_sample_ct(), object_id=str(doc.pk)).exists()


def test_inbox_lists_the_steps_waiting_for_me_with_counts(client, waiting, personas):
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("approvals:inbox")).content.decode()
    assert 'data-testid="inbox-count">2<' in html
    assert html.count('data-testid="inbox-item"') == 2
    assert "买粉笔" in html and "修理课桌" in html and "¥2,000.00" in html and "刘洋" in html
    assert f'href="/sample/samplerequests/{waiting[0].pk}/"' in html
    assert f'href="{reverse("approvals:step_decide", args=[_step(waiting[0]).pk])}"' in html
    assert "申请单 <span" in html  # the count per document type
    filtered = client.get(reverse("approvals:inbox"), {"type": KEY}).content.decode()
    assert filtered.count('data-testid="inbox-item"') == 2
    client.force_login(personas["vice_principal"])
    html = client.get(reverse("approvals:inbox")).content.decode()
    assert 'data-testid="inbox-count">0<' in html and 'data-testid="inbox-item"' not in html


def test_approve_from_the_decision_page(client, waiting, personas):
    step = _step(waiting[0])
    client.force_login(personas["logistics_director"])
    page = client.get(reverse("approvals:step_decide", args=[step.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="decide-form"' in html and 'for="id_comment"' in html
    assert 'data-testid="approval-trail"' in html and "¥800.00" in html
    response = client.post(reverse("approvals:step_decide", args=[step.pk]), {"decision": "approve", "comment": ""})
    assert response.status_code == 302 and response["Location"] == reverse("approvals:waiting")
    waiting[0].refresh_from_db()
    assert waiting[0].status == "approved"
    # the second click: refused with a message, nothing fired twice
    again = client.post(reverse("approvals:step_decide", args=[step.pk]), {"decision": "approve"}, follow=True)
    assert again.status_code == 200
    assert any(m.level_tag == "warning" for m in again.context["messages"])
    assert StatusChange.objects.filter(content_type=_sample_ct(), object_id=str(waiting[0].pk), transition="approve").count() == 1
    decided = client.get(reverse("approvals:step_decide", args=[step.pk])).content.decode()
    assert 'data-testid="decide-form"' not in decided


def test_send_back_needs_a_comment(client, waiting, personas):
    step = _step(waiting[1])
    url = reverse("approvals:step_decide", args=[step.pk])
    client.force_login(personas["logistics_director"])
    response = client.post(url, {"decision": "reject", "comment": " "})
    assert response.status_code == 400 and 'data-testid="comment-error"' in response.content.decode()
    waiting[1].refresh_from_db()
    assert waiting[1].status == "submitted"
    response = client.post(url, {"decision": "reject", "comment": "请附报价单"})
    assert response.status_code == 302
    waiting[1].refresh_from_db()
    assert waiting[1].status == "rejected"
    change = StatusChange.objects.get(content_type=_sample_ct(), object_id=str(waiting[1].pk), transition="reject")
    assert change.note == "请附报价单"
    assert client.post(url, {"decision": "maybe"}).status_code in (302, 400)


def test_a_person_without_the_role_cannot_open_or_post_the_decision(client, waiting, personas):
    url = reverse("approvals:step_decide", args=[_step(waiting[0]).pk])
    for role in ("vice_principal", "teacher", "guard"):
        client.force_login(personas[role])
        page = client.get(url)
        assert page.status_code == 403 and 'data-testid="decide-form"' not in page.content.decode()
        assert client.post(url, {"decision": "approve"}).status_code == 403
    waiting[0].refresh_from_db()
    assert waiting[0].status == "submitted"


def test_my_requests_show_where_each_stands(client, waiting, personas):
    client.force_login(personas["logistics_director"])
    client.post(reverse("approvals:step_decide", args=[_step(waiting[1]).pk]), {"decision": "approve"})
    client.force_login(personas["teacher"])
    html = client.get(reverse("approvals:my_requests")).content.decode()
    assert html.count('data-testid="my-request"') == 2
    assert "分管副校长审批" in html and "修理课桌" in html


def test_the_trail_tag_shows_each_step_and_the_decide_link_to_the_approver(waiting, personas):
    from tests.sampleapp.models import LedgerLine

    template = Template("{% load approval_tags %}{% approval_trail obj %}")

    def render(obj, user):
        request = RequestFactory().get("/")
        request.user = user
        return template.render(Context({"obj": obj, "request": request}))

    html = render(waiting[1], personas["logistics_director"])
    assert 'data-testid="approval-trail"' in html and "后勤主任审批" in html and "分管副校长审批" in html
    assert 'data-testid="trail-decide"' in html
    assert 'data-testid="trail-decide"' not in render(waiting[1], personas["teacher"])
    assert render(LedgerLine(pk=None), personas["teacher"]).strip() == ""
    draft = SampleRequest.objects.create(school=waiting[0].school, title="草稿", amount=1)
    assert render(draft, personas["teacher"]).strip() == ""


def test_menu_and_dashboard_widget(client, waiting, personas):
    client.force_login(personas["logistics_director"])
    html = client.get("/").content.decode()
    assert 'data-widget="approvals.waiting"' in html and 'data-testid="approvals-waiting-count">2<' in html
    assert f'href="{reverse("approvals:waiting")}"' in html and f'href="{reverse("approvals:policy_list")}"' in html
    client.force_login(personas["teacher"])
    html = client.get("/").content.decode()
    assert 'data-widget="approvals.waiting"' not in html  # holds no role any policy asks for
    assert f'href="{reverse("approvals:waiting")}"' in html
    assert f'href="{reverse("approvals:policy_list")}"' not in html


# Policies ---------------------------------------------------------------------------------------------


def _step_rows(rows):
    data = {"steps-TOTAL_FORMS": str(len(rows)), "steps-INITIAL_FORMS": "0", "steps-MIN_NUM_FORMS": "0",
            "steps-MAX_NUM_FORMS": "20"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"steps-{i}-{key}"] = value
    return data


def test_policy_pages_create_edit_and_audit(client, personas, school):
    admin = personas["sysadmin"]
    client.force_login(admin)
    assert client.get(reverse("approvals:policy_list")).status_code == 200
    assert client.get(reverse("approvals:policy_add")).status_code == 200
    ApprovalPolicy.objects.filter(school=school, document_type=KEY).update(active=False)
    rows = [
        {"order": "1", "label": "后勤主任审批", "kind": "role", "role_codes": ["logistics_director"], "min_amount": ""},
        {"order": "2", "label": "分管副校长审批", "kind": "role", "role_codes": ["vice_principal"],
         "min_amount": "1000"},
        {"order": "3", "label": "校长审批", "kind": "role", "role_codes": ["principal"], "min_amount": "50000"},
        {"order": "", "label": "", "kind": "role", "min_amount": ""},  # a blank row is ignored
    ]
    response = client.post(reverse("approvals:policy_add"), {"name": "采购审批", "document_type": KEY, "active": "on",
                                                               **_step_rows(rows)})
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = ApprovalPolicy.objects.get(name="采购审批")
    assert policy.active and policy.school == school
    assert [(s.label, s.min_amount) for s in policy.steps.all()] == [
        ("后勤主任审批", None), ("分管副校长审批", 1000), ("校长审批", 50000)]
    detail = client.get(reverse("approvals:policy", args=[policy.pk])).content.decode()
    assert "校长审批" in detail and "50,000.00" in detail and 'data-testid="history"' in detail
    form = client.get(reverse("approvals:policy_edit", args=[policy.pk])).content.decode()
    assert 'value="分管副校长审批"' in form
    # the director drops the principal's step
    client.force_login(personas["logistics_director"])
    edit = {"name": "采购审批", "document_type": KEY, "active": "on", **_step_rows(rows[:3])}
    edit["steps-INITIAL_FORMS"] = "3"
    edit["steps-2-DELETE"] = "on"
    assert client.post(reverse("approvals:policy_edit", args=[policy.pk]), edit).status_code == 302
    assert [s.label for s in policy.steps.all()] == ["后勤主任审批", "分管副校长审批"]
    entries = AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(policy),
                                        object_id=str(policy.pk)).order_by("id")
    assert [(e.action, e.actor) for e in entries] == [("create", admin), ("update", personas["logistics_director"])]


def test_policy_form_shows_the_rules_broken(client, personas):
    client.force_login(personas["sysadmin"])
    rows = [{"order": "1", "label": "会签", "kind": "any_of", "role_codes": ["principal"], "min_amount": ""}]
    response = client.post(reverse("approvals:policy_add"), {"name": "第二个", "document_type": KEY, "active": "on",
                                                               **_step_rows(rows)})
    html = response.content.decode()
    assert response.status_code == 400 and 'data-testid="policy-errors"' in html
    assert not ApprovalPolicy.objects.filter(name="第二个").exists()


def test_only_the_office_manages_policies(client, personas):
    for role, status in [("teacher", 403), ("guard", 403), ("principal", 200), ("logistics_director", 200)]:
        client.force_login(personas[role])
        assert client.get(reverse("approvals:policy_list")).status_code == status
    client.force_login(personas["principal"])
    assert client.get(reverse("approvals:policy_add")).status_code == 403


# API ------------------------------------------------------------------------------------------------


def test_api_inbox_approve_and_reject(client, waiting, personas):
    client.force_login(personas["logistics_director"])
    data = client.get(reverse("approvals_api:api_inbox")).json()
    assert data["count"] == 2
    first = data["results"][0]
    assert (first["document_label"], first["amount"], first["document_type"], first["requested_by"]) == (
        "买粉笔", "800.00", KEY, "刘洋")
    assert first["document_url"] == f"/sample/samplerequests/{waiting[0].pk}/"
    approve = reverse("approvals_api:api_step_approve", args=[first["id"]])
    response = client.post(approve, {"comment": "同意"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert response.json()["request_status"] == "approved"
    again = client.post(approve, {}, content_type="application/json")
    assert again.status_code == 400 and again.json()["errors"]["non_field_errors"]
    reject = reverse("approvals_api:api_step_reject", args=[data["results"][1]["id"]])
    missing = client.post(reject, {}, content_type="application/json")
    assert missing.status_code == 400 and "comment" in missing.json()["errors"]
    assert client.post(reject, {"comment": "请补充"}, content_type="application/json").status_code == 200
    waiting[1].refresh_from_db()
    assert waiting[1].status == "rejected"


def test_api_refuses_a_person_without_the_role(client, waiting, personas):
    step = _step(waiting[0])
    client.force_login(personas["vice_principal"])
    assert client.get(reverse("approvals_api:api_inbox")).json()["count"] == 0
    response = client.post(reverse("approvals_api:api_step_approve", args=[step.pk]), {}, content_type="application/json")
    assert response.status_code == 403 and "后勤主任" in response.json()["detail"]
    response = client.post(reverse("approvals_api:api_step_reject", args=[step.pk]), {"comment": "x"},
                           content_type="application/json")
    assert response.status_code == 403
    client.logout()
    assert client.get(reverse("approvals_api:api_inbox")).status_code in (401, 403)
