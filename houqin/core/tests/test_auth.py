"""Login, lockout, unlock, first-login password change and the login log (issue 2 §7)."""

import pytest
from django.urls import reverse

from houqin.core.demo import DEMO_PASSWORD
from houqin.core.models import LoginEvent
from houqin.org.services import account_reset_password, staff_create


def _login(client, username, password, ip="10.1.1.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("identifier", ["username", "staff_no", "mobile", "mobile_formatted"])
def test_login_by_username_staff_number_or_mobile(client, personas, identifier):
    user = personas["logistics_director"]
    value = {
        "username": user.username,
        "staff_no": user.staff.staff_no,
        "mobile": user.mobile,
        "mobile_formatted": f"+86 {user.mobile[:3]}-{user.mobile[3:7]}-{user.mobile[7:]}",
    }[identifier]
    response = _login(client, value, DEMO_PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("core:dashboard")
    assert LoginEvent.objects.filter(user=user, kind=LoginEvent.Kind.LOGIN).exists()


def test_wrong_password_shows_chinese_message_and_is_logged(client, personas):
    response = _login(client, "director", "wrong-password1")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    assert LoginEvent.objects.filter(username="director", kind=LoginEvent.Kind.FAILED).exists()


def test_lockout_after_five_failures_per_username_and_address(client, personas):
    for _ in range(5):
        _login(client, "director", "wrong-password1")
    response = _login(client, "director", DEMO_PASSWORD)
    assert response.status_code == 429
    assert "15 分钟" in response.content.decode()
    assert LoginEvent.objects.filter(username="director", kind=LoginEvent.Kind.LOCKED).exists()
    # Another address is not locked out by someone else's failures (username AND address).
    assert _login(client, "director", DEMO_PASSWORD, ip="10.9.9.9").status_code == 302


def test_administrator_unlocks(client, personas):
    for _ in range(5):
        _login(client, "clerk", "wrong-password1")
    assert _login(client, "clerk", DEMO_PASSWORD).status_code == 429
    admin_client = client.__class__()
    admin_client.force_login(personas["sysadmin"])
    page = admin_client.get(reverse("core:lockouts")).content.decode()
    assert "clerk" in page
    assert admin_client.post(reverse("core:unlock"), {"username": "clerk"}).status_code == 302
    assert LoginEvent.objects.filter(username="clerk", kind=LoginEvent.Kind.UNLOCKED).exists()
    assert _login(client, "clerk", DEMO_PASSWORD).status_code == 302


def test_non_admin_cannot_unlock(client, personas):
    client.force_login(personas["logistics_director"])
    assert client.post(reverse("core:unlock"), {"username": "clerk"}).status_code == 403


def test_first_login_requires_password_change(client, personas, school):
    staff, password = staff_create(school=school, staff_no="N0001", name="新老师", actor=personas["sysadmin"],
                                   roles=["teacher"])
    assert staff.user.must_change_password
    response = _login(client, "N0001", password)
    assert response.status_code == 302
    # Every page sends the user to the password change until it is done.
    response = client.get(reverse("org:room_list"))
    assert response.status_code == 302 and response["Location"] == reverse("password_change")
    weak = client.post(reverse("password_change"), {"old_password": password, "new_password1": "abcdefgh",
                                                    "new_password2": "abcdefgh"})
    assert weak.status_code == 200 and "字母和数字" in weak.content.decode()
    done = client.post(reverse("password_change"), {"old_password": password, "new_password1": "Xiaoyuan2026",
                                                    "new_password2": "Xiaoyuan2026"})
    assert done.status_code == 302
    assert client.get(reverse("org:room_list")).status_code == 200
    staff.user.refresh_from_db()
    assert not staff.user.must_change_password


def test_admin_reset_without_email(client, personas):
    user = personas["teacher"]
    temp = account_reset_password(user=user, actor=personas["sysadmin"])
    assert _login(client, user.username, DEMO_PASSWORD).status_code == 200  # old password gone
    assert _login(client, user.username, temp).status_code == 302
    assert client.get(reverse("core:dashboard"))["Location"] == reverse("password_change")


def test_reset_password_page_requires_account_right(client, personas):
    target = personas["teacher"].staff
    client.force_login(personas["logistics_director"])
    assert client.post(reverse("org:staff_reset_password", args=[target.pk])).status_code == 403
    client.force_login(personas["sysadmin"])
    response = client.post(reverse("org:staff_reset_password", args=[target.pk]), follow=True)
    assert "临时密码" in response.content.decode()


def test_disabled_account_cannot_log_in(client, personas):
    from houqin.org.services import staff_disable

    staff_disable(staff=personas["cleaner"].staff, actor=personas["logistics_director"])
    assert _login(client, "cleaner", DEMO_PASSWORD).status_code == 200


def test_login_log_visible_to_sysadmin_only(client, personas):
    _login(client, "director", DEMO_PASSWORD)
    client.force_login(personas["sysadmin"])
    assert "director" in client.get(reverse("core:login_log")).content.decode()
    client.force_login(personas["logistics_clerk"])
    assert client.get(reverse("core:login_log")).status_code == 403


def test_logout_is_logged(client, personas):
    _login(client, "director", DEMO_PASSWORD)
    client.post(reverse("logout"))
    assert LoginEvent.objects.filter(username="director", kind=LoginEvent.Kind.LOGOUT).exists()
