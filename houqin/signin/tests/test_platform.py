"""WeCom / DingTalk sign-in, the whole flow against local fakes of the platforms (Platform III §6)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

from houqin.core.models import AuditEntry, LoginEvent
from houqin.org.models import School, Staff, User
from houqin.signin.models import PlatformAccount, SigninConfig
from houqin.signin.selectors import platform_user_id

from .conftest import open_platform_page

WXWORK_UA = ("Mozilla/5.0 (Linux; Android 13; V2217A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/98.0 "
             "Mobile Safari/537.36 wxwork/4.1.22 MicroMessenger/7.0.1 Language/zh ColorScheme/Light")
DINGTALK_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 AliApp(DingTalk/7.5.0)"
DESKTOP_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


def _query(url):
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


@pytest.fixture
def wecom_config(school, fake_wecom):
    return SigninConfig.objects.create(school=school, provider="wecom", corp_id=fake_wecom.corp_id,
                                       agent_id="1000002", secret=fake_wecom.secret, enabled=True)


@pytest.fixture
def dingtalk_config(school, fake_dingtalk):
    return SigninConfig.objects.create(school=school, provider="dingtalk", corp_id=fake_dingtalk.corp_id,
                                       app_key=fake_dingtalk.app_key, agent_id="3000001",
                                       secret=fake_dingtalk.secret, enabled=True)


def _sign_in(client, ua=WXWORK_UA, **params):
    """Start → the fake platform's page → the callback, as the browser would; returns the last response."""
    start = client.get(reverse("signin:start"), params, HTTP_USER_AGENT=ua)
    assert start.status_code == 302, start.content.decode()[:500]
    target = open_platform_page(start["Location"])
    parts = urlsplit(target)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://testserver" + reverse("signin:callback")
    return client.get(parts.path, _query(target), HTTP_USER_AGENT=ua)


def _says(response, msgid) -> bool:
    """The (translated, HTML-escaped) sentence is on the page."""
    return escape(_(msgid)) in response.content.decode()


def _logged_in_as(client):
    return client.session.get(SESSION_KEY)


# WeCom -------------------------------------------------------------------------------------------


def test_wecom_whole_flow_inside_the_app(client, school, make_staff, wecom_config, fake_wecom):
    staff = make_staff(name="韩梅梅", roles=["teacher"])
    assert staff.user.must_change_password  # a fresh account; the platform sign-in needs no password
    fake_wecom.as_user("hanmeimei", f"+86 {staff.mobile}")

    start = client.get(reverse("signin:start"), {"school": school.code, "next": "/org/rooms/"},
                       HTTP_USER_AGENT=WXWORK_UA)
    url = start["Location"]
    assert url.startswith(f"{fake_wecom.url}/connect/oauth2/authorize?appid={fake_wecom.corp_id}&redirect_uri=")
    assert url.endswith("#wechat_redirect")
    params = _query(url.split("#")[0])
    assert params == {"appid": fake_wecom.corp_id, "redirect_uri": "http://testserver/signin/callback/",
                      "response_type": "code", "scope": "snsapi_privateinfo", "state": params["state"],
                      "agentid": "1000002"}
    assert len(params["state"]) >= 30

    target = open_platform_page(url)
    response = client.get(reverse("signin:callback"), _query(target), HTTP_USER_AGENT=WXWORK_UA)
    assert response.status_code == 302 and response["Location"] == "/org/rooms/"
    assert int(_logged_in_as(client)) == staff.user_id

    (gettoken,) = fake_wecom.calls("/cgi-bin/gettoken")
    assert gettoken[2] == {"corpid": fake_wecom.corp_id, "corpsecret": fake_wecom.secret}
    (userinfo,) = fake_wecom.calls("/cgi-bin/auth/getuserinfo")
    assert userinfo[2]["code"] == _query(target)["code"]
    (detail,) = fake_wecom.calls("/cgi-bin/auth/getuserdetail")
    assert detail[0] == "POST" and detail[4]["user_ticket"].startswith("TICKET")
    assert not fake_wecom.calls("/cgi-bin/user/get")  # the mobile came with the ticket

    assert LoginEvent.objects.filter(user=staff.user, kind=LoginEvent.Kind.LOGIN, user_agent__contains="wxwork").exists()
    assert platform_user_id(staff.user) == ("wecom", "hanmeimei")
    # No forced password change for this session: the person never used the temporary password.
    assert client.get("/org/rooms/").status_code == 200
    staff.user.refresh_from_db()
    assert staff.user.must_change_password  # ... which still has to be changed at a password login


def test_wecom_token_is_cached_between_sign_ins(client, school, make_staff, wecom_config, fake_wecom):
    first, second = make_staff(name="甲老师"), make_staff(name="乙老师")
    fake_wecom.as_user("jia", first.mobile)
    assert _sign_in(client, school=school.code).status_code == 302
    fake_wecom.as_user("yi", second.mobile)
    other = client.__class__()
    assert _sign_in(other, school=school.code).status_code == 302
    assert int(_logged_in_as(other)) == second.user_id
    assert len(fake_wecom.calls("/cgi-bin/gettoken")) == 1
    assert len(fake_wecom.calls("/cgi-bin/auth/getuserinfo")) == 2


def test_expired_wecom_token_is_fetched_again(client, school, make_staff, wecom_config, fake_wecom):
    staff = make_staff()
    fake_wecom.as_user("u1", staff.mobile)
    assert _sign_in(client).status_code == 302
    fake_wecom.tokens.clear()  # the platform expired the token early
    client.post(reverse("logout"))
    assert _sign_in(client).status_code == 302
    assert len(fake_wecom.calls("/cgi-bin/gettoken")) == 2
    assert int(_logged_in_as(client)) == staff.user_id


def test_wecom_silent_scope_reads_the_member_record(client, school, make_staff, wecom_config, fake_wecom):
    wecom_config.wecom_scope = SigninConfig.WeComScope.BASE
    wecom_config.save()
    fake_wecom.user_get_gives_mobile = True  # an app created before June 2022
    staff = make_staff()
    fake_wecom.as_user("old-app-user", staff.mobile)
    start = client.get(reverse("signin:start"), HTTP_USER_AGENT=WXWORK_UA)
    assert _query(start["Location"].split("#")[0])["scope"] == "snsapi_base"
    assert _sign_in(client).status_code == 302
    assert int(_logged_in_as(client)) == staff.user_id
    (member,) = fake_wecom.calls("/cgi-bin/user/get")
    assert member[2]["userid"] == "old-app-user"


def test_wecom_qr_login_in_an_ordinary_browser(client, school, make_staff, wecom_config, fake_wecom):
    """Outside the app the QR login gives no mobile number: the userid linked in the app is used."""
    staff = make_staff()
    fake_wecom.as_user("qr-user", staff.mobile)
    start = client.get(reverse("signin:start"), HTTP_USER_AGENT=DESKTOP_UA)
    assert start["Location"].startswith(f"{fake_wecom.url}/wwlogin/sso/login?login_type=CorpApp&appid=")
    assert _query(start["Location"])["agentid"] == "1000002"
    refused = _sign_in(client, ua=DESKTOP_UA)
    assert refused.status_code == 403
    assert _says(refused, "No mobile number")
    assert SESSION_KEY not in client.session

    assert _sign_in(client, ua=WXWORK_UA).status_code == 302  # once inside the app: linked
    client.post(reverse("logout"))
    assert _sign_in(client, ua=DESKTOP_UA).status_code == 302
    assert int(_logged_in_as(client)) == staff.user_id


def test_wrong_or_missing_state_is_refused(client, school, make_staff, wecom_config, fake_wecom):
    staff = make_staff()
    fake_wecom.as_user("u2", staff.mobile)
    start = client.get(reverse("signin:start"), HTTP_USER_AGENT=WXWORK_UA)
    target = _query(open_platform_page(start["Location"]))
    forged = client.get(reverse("signin:callback"), {"code": target["code"], "state": "forged-state"})
    assert forged.status_code == 400
    assert _says(forged, "The sign-in link has expired or was opened in another browser. Please start again.")
    assert SESSION_KEY not in client.session
    assert not fake_wecom.calls("/cgi-bin/auth/getuserinfo")  # the code was never used
    # The state is used up by the refused attempt; the genuine redirect now fails too.
    assert client.get(reverse("signin:callback"), target).status_code == 400
    odd = client.get(reverse("signin:start"))
    assert client.get(reverse("signin:callback"), {"code": "x", "state": "状态"}).status_code == 400  # no 500
    assert odd.status_code == 302
    # Another browser (no state in its session) cannot use someone's callback link either.
    assert client.__class__().get(reverse("signin:callback"), target).status_code == 400


def test_unknown_mobile_gets_a_message_page(client, school, wecom_config, fake_wecom):
    fake_wecom.as_user("stranger", "13700000000")
    Staff.objects.filter(mobile="13700000000").update(mobile="")
    response = _sign_in(client)
    assert response.status_code == 403
    page = response.content.decode()
    assert _("No staff member matches") in page and "137****0000" in page
    assert "?password=1" in page  # a way on: the password login
    assert SESSION_KEY not in client.session
    assert LoginEvent.objects.filter(kind=LoginEvent.Kind.FAILED, username="wecom:137****0000").exists()


def test_two_staff_with_the_same_mobile_are_refused(client, school, make_staff, wecom_config, fake_wecom):
    first = make_staff(name="张一")
    make_staff(name="张二", mobile=first.mobile)
    fake_wecom.as_user("zhang", first.mobile)
    response = _sign_in(client)
    assert response.status_code == 403
    assert _says(response, "Several staff members match")
    assert SESSION_KEY not in client.session


def test_disabled_staff_is_refused(client, school, personas, make_staff, wecom_config, fake_wecom):
    from houqin.org.services import staff_disable

    staff = make_staff(name="离职者")
    staff_disable(staff=staff, actor=personas["logistics_director"])
    fake_wecom.as_user("gone", staff.mobile)
    response = _sign_in(client)
    assert response.status_code == 403
    assert _says(response, "Account disabled")
    assert SESSION_KEY not in client.session


def test_staff_of_another_school_is_not_matched(client, school, personas, make_staff, wecom_config, fake_wecom):
    other = School.objects.create(name="另一所学校", code="3301999")
    stranger = make_staff(name="外校人", target_school=other)
    fake_wecom.as_user("other-school", stranger.mobile)
    response = _sign_in(client, school=school.code)
    assert response.status_code == 403 and _says(response, "No staff member matches")


def test_platform_refusing_the_secret_gives_a_page_not_a_traceback(client, school, make_staff, wecom_config,
                                                                     fake_wecom):
    wecom_config.secret = "wrong-secret-000"
    wecom_config.save()
    fake_wecom.as_user("u3", make_staff().mobile)
    response = _sign_in(client)
    assert response.status_code == 502
    assert _says(response, "WeCom refused the school's corp ID or app secret.")


def test_unreachable_platform_gives_a_page(client, school, settings, make_staff, wecom_config, fake_wecom):
    fake_wecom.as_user("u4", make_staff().mobile)
    start = client.get(reverse("signin:start"), HTTP_USER_AGENT=WXWORK_UA)
    target = _query(open_platform_page(start["Location"]))
    settings.HOUQIN_WECOM_API_URL = "http://127.0.0.1:9"  # nothing listens there
    response = client.get(reverse("signin:callback"), target)
    assert response.status_code == 502
    assert _says(response, "The sign-in platform could not be reached.")


def test_start_without_configuration_says_so(client, school):
    response = client.get(reverse("signin:start"))
    assert response.status_code == 404
    assert _says(response, "Platform sign-in is not set up")


# DingTalk ----------------------------------------------------------------------------------------


def test_dingtalk_whole_flow(client, school, make_staff, dingtalk_config, fake_dingtalk):
    staff = make_staff(name="李雷")
    fake_dingtalk.as_user("union-lilei", staff.mobile, name="李雷")
    start = client.get(reverse("signin:start"), {"school": school.code}, HTTP_USER_AGENT=DINGTALK_UA)
    url = start["Location"]
    assert url.startswith(f"{fake_dingtalk.url}/oauth2/auth?")
    params = _query(url)
    assert params == {"redirect_uri": "http://testserver/signin/callback/", "response_type": "code",
                      "client_id": fake_dingtalk.app_key, "scope": "openid corpid", "state": params["state"],
                      "prompt": "consent"}
    target = open_platform_page(url)
    assert "authCode" in _query(target)
    response = client.get(reverse("signin:callback"), _query(target), HTTP_USER_AGENT=DINGTALK_UA)
    assert response.status_code == 302 and response["Location"] == reverse("core:dashboard")
    assert int(_logged_in_as(client)) == staff.user_id

    (token_call,) = fake_dingtalk.calls("/v1.0/oauth2/userAccessToken")
    assert token_call[0] == "POST"
    assert token_call[4] == {"clientId": fake_dingtalk.app_key, "clientSecret": fake_dingtalk.secret,
                             "code": _query(target)["authCode"], "grantType": "authorization_code"}
    (me,) = fake_dingtalk.calls("/v1.0/contact/users/me")
    assert me[3]["x-acs-dingtalk-access-token"].startswith("UAT")
    assert platform_user_id(staff.user) == ("dingtalk", "union-lilei")
    assert LoginEvent.objects.filter(user=staff.user, kind=LoginEvent.Kind.LOGIN).exists()


def test_dingtalk_other_organisation_is_refused(client, school, make_staff, dingtalk_config, fake_dingtalk):
    staff = make_staff()
    fake_dingtalk.as_user("union-x", staff.mobile, corp_id="someone-elses-corp")
    response = _sign_in(client, ua=DINGTALK_UA)
    assert response.status_code == 502
    assert _says(response, "You chose another organisation in DingTalk. Choose the school's organisation.")
    assert SESSION_KEY not in client.session


def test_dingtalk_foreign_mobile_is_not_matched(client, school, make_staff, dingtalk_config, fake_dingtalk):
    staff = make_staff()
    fake_dingtalk.as_user("union-hk", staff.mobile, state_code="852")
    response = _sign_in(client, ua=DINGTALK_UA)
    assert response.status_code == 403 and SESSION_KEY not in client.session


def test_relinking_moves_the_platform_id(client, school, make_staff, dingtalk_config, fake_dingtalk):
    old, new = make_staff(name="旧号"), make_staff(name="新号")
    PlatformAccount.objects.create(user=old.user, school=school, provider="dingtalk", platform_user_id="union-z")
    fake_dingtalk.as_user("union-z", new.mobile)
    assert _sign_in(client, ua=DINGTALK_UA).status_code == 302
    assert platform_user_id(new.user) == ("dingtalk", "union-z")
    assert platform_user_id(old.user) is None


# Login page and settings page --------------------------------------------------------------------


def test_login_page_button_and_auto_start_inside_the_app(client, school, wecom_config):
    page = client.get(reverse("login"), HTTP_USER_AGENT=DESKTOP_UA)
    assert page.status_code == 200
    assert _says(page, "Sign in with WeCom")
    assert f"{reverse('signin:start')}?school={school.code}" in page.content.decode()

    inside = client.get(reverse("login"), {"next": "/org/rooms/"}, HTTP_USER_AGENT=WXWORK_UA)
    assert inside.status_code == 302
    assert _query(inside["Location"]) == {"school": school.code, "next": "/org/rooms/"}
    assert inside["Location"].startswith(reverse("signin:start"))
    # The way out of the loop: the password login stays reachable inside the app.
    assert client.get(reverse("login"), {"password": "1"}, HTTP_USER_AGENT=WXWORK_UA).status_code == 200
    # DingTalk's browser is not sent to a WeCom sign-in.
    assert client.get(reverse("login"), HTTP_USER_AGENT=DINGTALK_UA).status_code == 200


def test_login_page_of_a_multi_school_deployment_needs_the_school(client, school, wecom_config):
    School.objects.create(name="第二学校", code="3301888")
    assert client.get(reverse("login"), HTTP_USER_AGENT=WXWORK_UA).status_code == 200
    assert _("Sign in with WeCom") not in client.get(reverse("login")).content.decode()
    inside = client.get(reverse("login"), {"school": school.code}, HTTP_USER_AGENT=WXWORK_UA)
    assert inside.status_code == 302 and _query(inside["Location"])["school"] == school.code


def test_login_page_without_configuration_has_no_button(client, school):
    wecom = SigninConfig.objects.create(school=school, provider="wecom", corp_id="x", agent_id="1", secret="s",
                                        enabled=False)
    assert _("Sign in with WeCom") not in client.get(reverse("login")).content.decode()
    assert client.get(reverse("login"), HTTP_USER_AGENT=WXWORK_UA).status_code == 200
    assert wecom.pk


def test_settings_page_keeps_the_secret_hidden(client, school, personas):
    client.force_login(personas["sysadmin"])
    assert client.get(reverse("signin:config")).status_code == 200
    data = {"provider": "wecom", "corp_id": "ww1234567890", "agent_id": "1000002",
            "secret": "TopSecretValue-9876", "wecom_scope": "snsapi_privateinfo", "enabled": "on"}
    assert client.post(reverse("signin:config"), data).status_code == 302
    config = SigninConfig.objects.get(school=school)
    assert config.secret == "TopSecretValue-9876" and config.enabled
    page = client.get(reverse("signin:config")).content.decode()
    assert "TopSecretValue-9876" not in page and "••••9876" in page
    assert "/signin/callback/" in page

    data.update(secret="", agent_id="1000003")  # an empty secret keeps the stored one
    assert client.post(reverse("signin:config"), data).status_code == 302
    config.refresh_from_db()
    assert config.secret == "TopSecretValue-9876" and config.agent_id == "1000003"
    entries = AuditEntry.objects.filter(content_type__model="signinconfig", object_id=str(config.pk))
    assert entries.count() == 2
    assert all("TopSecretValue" not in str(e.before) + str(e.after) for e in entries)


def test_settings_page_requires_what_the_platform_needs(client, school, personas):
    client.force_login(personas["sysadmin"])
    response = client.post(reverse("signin:config"), {"provider": "dingtalk", "corp_id": "", "agent_id": "",
                                                      "secret": "", "wecom_scope": "snsapi_base", "enabled": "on"})
    assert response.status_code == 200
    assert response.content.decode().count(_("Needed to switch the sign-in on.")) == 2  # app key, secret
    assert not SigninConfig.objects.filter(school=school).exists()


def test_settings_page_is_for_the_system_administrator(client, personas):
    client.force_login(personas["logistics_director"])
    assert client.get(reverse("signin:config")).status_code == 403


def test_platform_user_id_is_none_without_a_sign_in(personas, school):
    assert platform_user_id(personas["teacher"]) is None
    assert platform_user_id(User.objects.filter(school__isnull=True).first()) is None
