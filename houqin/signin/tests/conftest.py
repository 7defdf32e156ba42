"""Local fakes of the WeCom and DingTalk endpoints (http.server on 127.0.0.1, random port) and helpers.

The real platforms are unreachable here; the fakes answer like the documented APIs, remember every
request they received (so tests can check the corp id, secret and code were sent) and play the part of
the platform's authorisation page by redirecting back to ``redirect_uri`` with a fresh code.
"""

import http.client
import itertools
import json
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.core.cache import cache

_numbers = itertools.count(1)


class FakePlatform:
    """A tiny platform: subclasses route (method, path) to handlers returning (status, headers, body)."""

    def __init__(self):
        self.requests = []  # (method, path, query dict, headers dict, json body)
        self.logins = {}  # code -> person dict, issued by the authorisation page
        self.next_person = None  # who "is using the app" when the authorisation page is opened
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                platform.requests.append((self.command, parts.path, query, headers, body))
                status, extra, payload = platform.route(self.command, parts.path, query, headers, body)
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, *args):
                pass

        return Handler

    def issue_code(self, person) -> str:
        code = f"CODE{next(_numbers)}{secrets.token_hex(4)}"
        self.logins[code] = person
        return code

    def calls(self, path):
        return [r for r in self.requests if r[1] == path]

    def route(self, method, path, query, headers, body):  # pragma: no cover - overridden
        raise NotImplementedError


class FakeWeCom(FakePlatform):
    """open.weixin.qq.com + login.work.weixin.qq.com + qyapi.weixin.qq.com in one."""

    def __init__(self, corp_id="ww-test-corp", secret="wecom-secret-123456"):
        super().__init__()
        self.corp_id, self.secret = corp_id, secret
        self.tokens = set()
        self.user_get_gives_mobile = False  # apps created since June 2022 get no mobile from user/get
        self.people = []
        self.messages = []  # bodies of message/send (app messages)
        self.send_reply = None  # a reply of message/send other than success (an errcode, an invaliduser)

    def as_user(self, userid, mobile, name=""):
        """The member who opens the authorisation page next (also known to ``user/get``)."""
        self.next_person = {"userid": userid, "mobile": mobile, "name": name}
        self.people = [p for p in self.people if p["userid"] != userid] + [self.next_person]

    def route(self, method, path, query, headers, body):
        if path in ("/connect/oauth2/authorize", "/wwlogin/sso/login"):
            person = dict(self.next_person, in_app=path == "/connect/oauth2/authorize",
                          scope=query.get("scope", ""))
            code = self.issue_code(person)
            target = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query.get('state', '')})}"
            return 302, {"Location": target}, None
        if path == "/cgi-bin/gettoken":
            if query.get("corpid") != self.corp_id or query.get("corpsecret") != self.secret:
                return 200, {}, {"errcode": 40001, "errmsg": "invalid credential"}
            token = f"TOKEN{next(_numbers)}"
            self.tokens.add(token)
            return 200, {}, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if query.get("access_token") not in self.tokens:
            return 200, {}, {"errcode": 42001, "errmsg": "access_token expired"}
        if path == "/cgi-bin/auth/getuserinfo":
            person = self.logins.pop(query.get("code", ""), None)
            if person is None:
                return 200, {}, {"errcode": 40029, "errmsg": "invalid code"}
            answer = {"errcode": 0, "errmsg": "ok", "userid": person["userid"]}
            if person["in_app"] and person["scope"] == "snsapi_privateinfo":
                ticket = f"TICKET{next(_numbers)}"
                self.logins[ticket] = person
                answer.update(user_ticket=ticket, expires_in=1800)
            return 200, {}, answer
        if path == "/cgi-bin/auth/getuserdetail" and method == "POST":
            person = self.logins.pop((body or {}).get("user_ticket", ""), None)
            if person is None:
                return 200, {}, {"errcode": 40129, "errmsg": "invalid user_ticket"}
            return 200, {}, {"errcode": 0, "errmsg": "ok", "userid": person["userid"], "mobile": person["mobile"]}
        if path == "/cgi-bin/user/get":
            person = next((p for p in self.people if p["userid"] == query.get("userid")), None)
            if person is None:
                return 200, {}, {"errcode": 60111, "errmsg": "userid not found"}
            return 200, {}, {"errcode": 0, "errmsg": "ok", "userid": person["userid"], "name": person.get("name", ""),
                             "mobile": person["mobile"] if self.user_get_gives_mobile else ""}
        if path == "/cgi-bin/message/send" and method == "POST":
            if self.send_reply is not None:
                return 200, {}, self.send_reply
            self.messages.append(body)
            return 200, {}, {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": f"MSG{next(_numbers)}"}
        return 404, {}, {"errcode": 404, "errmsg": "not found"}


class FakeDingTalk(FakePlatform):
    """login.dingtalk.com + api.dingtalk.com in one."""

    def __init__(self, app_key="ding-app-key", secret="ding-secret-abcdef", corp_id="ding-corp"):
        super().__init__()
        self.app_key, self.secret, self.corp_id = app_key, secret, corp_id
        self.tokens = {}
        self.app_tokens = set()  # oapi /gettoken (the app's own token, for server calls)
        self.members = {}  # unionId -> userid in the organisation (topapi/user/getbyunionid)
        self.notices = []  # bodies of corpconversation/asyncsend_v2 (work notices)

    def as_user(self, union_id, mobile, name="", **extra):
        self.next_person = {"union_id": union_id, "mobile": mobile, "name": name, **extra}

    def route(self, method, path, query, headers, body):
        if path == "/oauth2/auth":
            code = self.issue_code(dict(self.next_person))
            target = f"{query['redirect_uri']}?{urlencode({'authCode': code, 'state': query.get('state', '')})}"
            return 302, {"Location": target}, None
        if path == "/v1.0/oauth2/userAccessToken" and method == "POST":
            body = body or {}
            person = self.logins.pop(body.get("code", ""), None)
            if (body.get("clientId") != self.app_key or body.get("clientSecret") != self.secret
                    or body.get("grantType") != "authorization_code" or person is None):
                return 400, {}, {"code": "invalidParameter", "message": "bad client or code"}
            token = f"UAT{next(_numbers)}"
            self.tokens[token] = person
            return 200, {}, {"accessToken": token, "refreshToken": "R", "expireIn": 7200,
                             "corpId": person.get("corp_id", self.corp_id)}
        if path == "/v1.0/contact/users/me":
            person = self.tokens.get(headers.get("x-acs-dingtalk-access-token", ""))
            if person is None:
                return 401, {}, {"code": "InvalidAuthentication", "message": "token invalid"}
            return 200, {}, {"nick": person.get("name", ""), "unionId": person["union_id"], "openId": "open-1",
                             "mobile": person["mobile"], "stateCode": person.get("state_code", "86")}
        if path == "/gettoken":
            if query.get("appkey") != self.app_key or query.get("appsecret") != self.secret:
                return 200, {}, {"errcode": 40089, "errmsg": "invalid appkey or appsecret"}
            token = f"APPTOKEN{next(_numbers)}"
            self.app_tokens.add(token)
            return 200, {}, {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
        if path.startswith("/topapi/"):
            if query.get("access_token") not in self.app_tokens:
                return 200, {}, {"errcode": 40014, "errmsg": "invalid access_token"}
            if path == "/topapi/user/getbyunionid" and method == "POST":
                userid = self.members.get((body or {}).get("unionid", ""))
                if userid is None:
                    return 200, {}, {"errcode": 60121, "errmsg": "user not found"}
                return 200, {}, {"errcode": 0, "errmsg": "ok", "result": {"contact_type": 0, "userid": userid}}
            if path == "/topapi/message/corpconversation/asyncsend_v2" and method == "POST":
                self.notices.append(body)
                return 200, {}, {"errcode": 0, "errmsg": "ok", "task_id": next(_numbers), "request_id": "r"}
        return 404, {}, {"code": "NotFound", "message": "not found"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the WeCom token cache must not leak between tests
    yield
    cache.clear()


@pytest.fixture
def fake_wecom(settings):
    with FakeWeCom() as fake:
        settings.HOUQIN_WECOM_OAUTH_URL = fake.url
        settings.HOUQIN_WECOM_SSO_URL = fake.url
        settings.HOUQIN_WECOM_API_URL = fake.url
        yield fake


@pytest.fixture
def fake_dingtalk(settings):
    with FakeDingTalk() as fake:
        settings.HOUQIN_DINGTALK_OAUTH_URL = fake.url
        settings.HOUQIN_DINGTALK_API_URL = fake.url
        settings.HOUQIN_DINGTALK_OAPI_URL = fake.url
        yield fake


def open_platform_page(url: str) -> str:
    """GET the fake's authorisation page like a browser (fragment dropped); returns the redirect target."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=5)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}")
        response = conn.getresponse()
        response.read()
        assert response.status == 302, response.status
        return response.getheader("Location")
    finally:
        conn.close()


def fresh_mobile(prefix="1995") -> str:
    from houqin.org.models import Staff, User

    for n in itertools.count(next(_numbers) * 37):
        mobile = f"{prefix}{n % 10_000_000:07d}"
        if not Staff.objects.filter(mobile=mobile).exists() and not User.objects.filter(mobile=mobile).exists():
            return mobile
    raise AssertionError  # pragma: no cover


@pytest.fixture
def make_staff(school, personas):
    from houqin.org.services import staff_create

    def make(name="测试员", roles=("teacher",), mobile=None, target_school=None, **kwargs):
        staff, _password = staff_create(
            school=target_school or school, staff_no=f"S{next(_numbers):05d}", name=name,
            actor=personas["sysadmin"], roles=list(roles), mobile=mobile if mobile is not None else fresh_mobile(),
            **kwargs,
        )
        return staff

    return make
