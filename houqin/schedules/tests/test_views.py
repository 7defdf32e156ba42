"""Pages of X-5: "my tasks" on a phone (X-10), htmx check-off, the task list's filters and scoping,
the dashboard card, the menu and the plan pages."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from houqin.core.registry import registry
from houqin.schedules.models import Plan, Task

from .factories import PlanFactory, TaskFactory
from .test_check_off import photo

PHONE = {"HTTP_USER_AGENT": "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Mobile Safari/537.36"}


def test_my_tasks_page_is_built_for_phones(client, personas):
    guard = personas["guard"]
    task = TaskFactory(assignee_role="guard", title="东门早班巡查")
    client.force_login(guard)
    page = client.get(reverse("schedules:my_tasks"), **PHONE)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in html
    assert "东门早班巡查" in html
    card = html[html.index(f'id="task-{task.pk}"'):]
    card = card[:card.index("</article>")]
    # The photo input opens the back camera and has a visible label tied to it.
    file_input = re.search(r'<input type="file" id="([^"]+)" name="photo" accept="image/\*" capture="environment"', card)
    assert file_input
    assert f'<label class="form-label task-photo-label" for="{file_input.group(1)}">' in card
    assert "btn-lg w-100" in card and f'hx-post="{reverse("schedules:my_task_check_off", args=[task.pk])}"' in card
    assert 'hx-encoding="multipart/form-data"' in card and 'enctype="multipart/form-data"' in card


def test_htmx_check_off_returns_the_updated_card_only(client, personas):
    guard = personas["guard"]
    task = TaskFactory(assignee_role="guard")
    client.force_login(guard)
    response = client.post(reverse("schedules:my_task_check_off", args=[task.pk]),
                           {"note": "一切正常", "photo": photo()}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and f'id="task-{task.pk}"' in html and "一切正常" in html
    assert 'name="photo"' not in html  # no form on a done task
    task.refresh_from_db()
    assert task.status == Task.Status.DONE and task.done_by == guard


def test_plain_post_check_off_redirects_back(client, personas):
    task = TaskFactory(assignee_role="guard")
    client.force_login(personas["guard"])
    response = client.post(reverse("schedules:my_task_check_off", args=[task.pk]), {"note": ""})
    assert response.status_code == 302 and response["Location"] == reverse("schedules:my_tasks")
    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE


@pytest.mark.parametrize("target,kept", [("/schedules/my/?day=today", True), ("x", False),
                                          ("https://evil.example/", False)])
def test_plain_post_check_off_goes_to_next_only_on_this_site(client, personas, target, kept):
    task = TaskFactory(assignee_role="guard")
    client.force_login(personas["guard"])
    response = client.post(reverse("schedules:my_task_check_off", args=[task.pk]), {"note": "", "next": target})
    assert response.status_code == 302
    assert response["Location"] == (target if kept else reverse("schedules:my_tasks"))


def test_a_teacher_gets_403(client, personas):
    task = TaskFactory(assignee=personas["guard"].staff, assignee_role="")
    client.force_login(personas["teacher"])
    response = client.post(reverse("schedules:my_task_check_off", args=[task.pk]), {"note": "x"})
    assert response.status_code == 403
    response = client.post(reverse("schedules:task_check_off", args=[task.pk]))
    assert response.status_code in (403, 404)
    assert Task.objects.get(pk=task.pk).status == Task.Status.OPEN


def test_a_refused_htmx_check_off_shows_the_reason_in_the_card(client, personas):
    task = TaskFactory(assignee_role="guard", status=Task.Status.CANCELLED)
    client.force_login(personas["guard"])
    response = client.post(reverse("schedules:my_task_check_off", args=[task.pk]), {}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and 'role="alert"' in response.content.decode()


def test_the_detail_button_checks_off_through_the_same_service(client, personas):
    task = TaskFactory(assignee_role="guard")
    client.force_login(personas["guard"])
    detail = client.get(reverse("schedules:task", args=[task.pk]))
    assert reverse("schedules:task_check_off", args=[task.pk]) in detail.content.decode()
    client.post(reverse("schedules:task_check_off", args=[task.pk]))
    assert Task.objects.get(pk=task.pk).status == Task.Status.DONE


def test_people_see_their_own_tasks_and_supervisors_all(client, personas):
    mine = TaskFactory(assignee_role="guard", title="保安的任务")
    other = TaskFactory(assignee_role="cleaner", title="保洁的任务")
    client.force_login(personas["guard"])
    html = client.get(reverse("schedules:task_list")).content.decode()
    assert mine.title in html and other.title not in html
    assert client.get(reverse("schedules:task", args=[other.pk])).status_code == 404
    assert client.get(reverse("schedules:task_add")).status_code == 403
    client.force_login(personas["logistics_director"])
    html = client.get(reverse("schedules:task_list")).content.decode()
    assert mine.title in html and other.title in html


def test_task_list_filters_mine_late_status_and_date(client, personas):
    now = timezone.now()
    late = TaskFactory(assignee_role="guard", title="迟了的任务", due_at=now - timezone.timedelta(hours=3),
                       overdue_at=now - timezone.timedelta(hours=2))
    fresh = TaskFactory(assignee_role="guard", title="今天的任务")
    cleaner = TaskFactory(assignee_role="cleaner", title="保洁的任务")
    client.force_login(personas["logistics_director"])
    url = reverse("schedules:task_list")
    html = client.get(url, {"late": "true"}).content.decode()
    assert late.title in html and fresh.title not in html
    html = client.get(url, {"assignee_role": "cleaner"}).content.decode()
    assert cleaner.title in html and fresh.title not in html
    client.force_login(personas["guard"])
    today = timezone.localdate().isoformat()
    html = client.get(url, {"mine": "true", "due_on_after": today, "due_on_before": today}).content.decode()
    assert fresh.title in html and cleaner.title not in html
    api = client.get("/api/schedules/tasks/", {"mine": "true", "status": "open"}).json()
    assert fresh.pk in [row["id"] for row in api["results"]]
    assert cleaner.pk not in [row["id"] for row in api["results"]]


def test_dashboard_card_counts_my_tasks_and_links_to_the_filtered_list(client, personas):
    TaskFactory(assignee_role="guard")
    client.force_login(personas["guard"])
    html = client.get(reverse("core:dashboard")).content.decode()
    assert 'data-widget="schedules.my_tasks"' in html
    today = timezone.localdate().isoformat()
    assert f"{reverse('schedules:task_list')}?mine=true&amp;due_on_after={today}&amp;due_on_before={today}" in html
    assert f"{reverse('schedules:task_list')}?mine=true&amp;late=true" in html
    assert reverse("schedules:my_tasks") in html


@pytest.mark.parametrize("role", ["guard", "cleaner", "dorm_keeper", "teacher", "logistics_director"])
def test_menu_group_tasks(client, personas, role):
    group = registry.menu_groups["tasks"]
    assert group.order == 50 and str(group.label) in ("Tasks", "任务")
    client.force_login(personas[role])
    html = client.get(reverse("core:dashboard")).content.decode()
    assert reverse("schedules:my_tasks") in html
    assert (reverse("schedules:plan_list") in html) == (role == "logistics_director")


def test_plan_pages_for_the_office(client, personas):
    plan = PlanFactory(kind=Plan.Kind.WEEKLY, weekdays=[1, 2, 3, 4, 5, 6, 7])
    client.force_login(personas["logistics_clerk"])
    assert client.get(reverse("schedules:plan_list")).status_code == 200
    detail = client.get(reverse("schedules:plan", args=[plan.pk]))
    assert detail.status_code == 200
    assert timezone.localdate().strftime("%m-%d") in detail.content.decode()  # the next dates
    form = client.get(reverse("schedules:plan_add")).content.decode()
    assert 'type="checkbox" name="weekdays"' in form and 'type="time"' in form
    client.force_login(personas["guard"])
    assert client.get(reverse("schedules:plan_list")).status_code == 403


def test_plan_form_requires_one_assignee_and_the_rule_fields(client, personas):
    client.force_login(personas["logistics_director"])
    response = client.post(reverse("schedules:plan_add"), {
        "title": "坏计划", "kind": "weekly", "due_time": "08:00", "grace_minutes": "60", "term_offset_days": "0",
        "start_on": timezone.localdate().isoformat(), "active": "on",
    })
    assert response.status_code == 400
    html = response.content.decode()
    assert "weekday" in html.lower() or "星期" in html
    assert not Plan.objects.filter(title="坏计划").exists()


def test_demo_plans_and_their_first_week(school):
    titles = set(Plan.objects.filter(school=school).values_list("title", flat=True))
    assert {"门卫每日巡查", "每周一卫生检查", "每月1日消防器材检查", "宿舍安全检查（学期初、期中、期末）"} <= titles
    gate = Plan.objects.get(school=school, title="门卫每日巡查")
    assert gate.place.code == "GT01" and gate.assignee_role == "guard" and gate.due_time.hour == 7
    assert gate.generated_until is not None
