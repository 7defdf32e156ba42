"""The WeCom (企业微信) and DingTalk (钉钉) OAuth2 web flows, over urllib (no SDK).

WeCom, inside the WeCom app (User-Agent "wxwork"): ``open.weixin.qq.com/connect/oauth2/authorize`` with
``scope=snsapi_privateinfo`` (or ``snsapi_base``) → ``code`` → ``GET /cgi-bin/gettoken`` (the corp token,
cached until it expires) → ``GET /cgi-bin/auth/getuserinfo`` → ``userid`` and, with snsapi_privateinfo, a
``user_ticket`` → ``POST /cgi-bin/auth/getuserdetail`` → ``mobile``. Apps created since 20 June 2022 no
longer get the mobile number from ``GET /cgi-bin/user/get``; that call remains the fallback for older apps.
In an ordinary browser the WeCom QR login (``login.work.weixin.qq.com/wwlogin/sso/login``) gives a code
for the same ``getuserinfo`` call.

DingTalk: ``login.dingtalk.com/oauth2/auth`` → ``authCode`` → ``POST /v1.0/oauth2/userAccessToken`` →
``GET /v1.0/contact/users/me`` (header ``x-acs-dingtalk-access-token``) → ``mobile`` and ``unionId``.

Every base URL is a setting, so that tests run the whole flow against a local fake.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit
from urllib.request import Request, urlopen

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext as _

from .models import Provider, SigninConfig

logger = logging.getLogger(__name__)

TIMEOUT = 10  # seconds per platform call
# WeCom errcodes meaning "the access token is invalid or expired": fetch a new one and retry once.
WECOM_TOKEN_ERRORS = {40001, 40014, 42001}


class ProviderError(Exception):
    """The platform refused or could not be reached; ``str(exc)`` is safe to show to the user."""


@dataclass(frozen=True)
class Identity:
    provider: str
    user_id: str  # WeCom userid; DingTalk unionId
    mobile: str  # as the platform gave it; may be empty


def _base(name: str) -> str:
    return str(getattr(settings, name)).rstrip("/")


def http_json(method: str, url: str, *, params=None, body=None, headers=None) -> tuple[int, dict]:
    """One JSON call; returns (HTTP status, parsed body). Never logs the URL (it may carry a secret)."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ProviderError(_("The sign-in platform address is not valid."))
    if params:
        url += ("&" if "?" in url else "?") + urlencode(params)
    data = json.dumps(body).encode() if body is not None else None
    request = Request(url, data=data, method=method, headers={  # noqa: S310 (scheme checked above)
        "Accept": "application/json",
        **({"Content-Type": "application/json"} if data is not None else {}),
        **(headers or {}),
    })
    try:
        with urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 (scheme checked above)
            status, raw = response.status, response.read()
    except HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (URLError, TimeoutError, OSError) as exc:
        logger.warning("sign-in platform unreachable: %s %s: %s", method, urlsplit(url).path, exc)
        raise ProviderError(_("The sign-in platform could not be reached.")) from None
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        logger.warning("sign-in platform answered %s %s with HTTP %s, not JSON", method, urlsplit(url).path, status)
        raise ProviderError(_("The sign-in platform gave an answer that could not be read."))
    return status, payload


# WeCom -------------------------------------------------------------------------------------------


def wecom_authorize_url(config: SigninConfig, redirect_uri: str, state: str, *, in_app: bool) -> str:
    if in_app:
        # Parameter order as documented: the platform checks the link strictly.
        query = urlencode([
            ("appid", config.corp_id), ("redirect_uri", redirect_uri), ("response_type", "code"),
            ("scope", config.wecom_scope), ("state", state), ("agentid", config.agent_id),
        ])
        return f"{_base('HOUQIN_WECOM_OAUTH_URL')}/connect/oauth2/authorize?{query}#wechat_redirect"
    query = urlencode([
        ("login_type", "CorpApp"), ("appid", config.corp_id), ("agentid", config.agent_id),
        ("redirect_uri", redirect_uri), ("state", state),
    ])
    return f"{_base('HOUQIN_WECOM_SSO_URL')}/wwlogin/sso/login?{query}"


def _token_key(config: SigninConfig) -> str:
    digest = hashlib.sha256(f"{config.corp_id}\0{config.secret}".encode()).hexdigest()[:32]
    return f"houqin:signin:wecom-token:{digest}"


def wecom_access_token(config: SigninConfig, *, refresh: bool = False) -> str:
    """The corp access token (``gettoken``), cached until five minutes before it expires."""
    key = _token_key(config)
    if not refresh:
        token = cache.get(key)
        if token:
            return token
    _status, data = http_json("GET", f"{_base('HOUQIN_WECOM_API_URL')}/cgi-bin/gettoken",
                              params={"corpid": config.corp_id, "corpsecret": config.secret})
    token = data.get("access_token")
    if data.get("errcode", 0) != 0 or not token:
        logger.warning("WeCom gettoken refused: %s %s", data.get("errcode"), data.get("errmsg"))
        raise ProviderError(_("WeCom refused the school's corp ID or app secret."))
    expires_in = int(data.get("expires_in") or 7200)
    cache.set(key, token, max(60, expires_in - 300))
    return token


def _wecom_call(config: SigninConfig, method: str, path: str, *, params=None, body=None) -> dict:
    for attempt in (0, 1):
        token = wecom_access_token(config, refresh=attempt == 1)
        _status, data = http_json(method, f"{_base('HOUQIN_WECOM_API_URL')}{path}",
                                  params={"access_token": token, **(params or {})}, body=body)
        if attempt == 0 and data.get("errcode") in WECOM_TOKEN_ERRORS:
            cache.delete(_token_key(config))
            continue
        return data
    return data  # pragma: no cover - the loop always returns


def wecom_identity(config: SigninConfig, code: str) -> Identity:
    info = _wecom_call(config, "GET", "/cgi-bin/auth/getuserinfo", params={"code": code})
    if info.get("errcode", 0) != 0:
        logger.warning("WeCom getuserinfo refused: %s %s", info.get("errcode"), info.get("errmsg"))
        raise ProviderError(_("WeCom did not accept the sign-in code. Please try again."))
    userid = info.get("userid") or info.get("UserId") or ""
    if not userid:  # an outsider (openid only): not a member of the school's organisation
        raise ProviderError(_("This WeCom account is not a member of the school's organisation."))
    mobile = ""
    ticket = info.get("user_ticket")
    if ticket:
        detail = _wecom_call(config, "POST", "/cgi-bin/auth/getuserdetail", body={"user_ticket": ticket})
        if detail.get("errcode", 0) == 0:
            mobile = str(detail.get("mobile") or "")
        else:
            logger.warning("WeCom getuserdetail refused: %s %s", detail.get("errcode"), detail.get("errmsg"))
    if not mobile:
        member = _wecom_call(config, "GET", "/cgi-bin/user/get", params={"userid": userid})
        if member.get("errcode", 0) == 0:
            mobile = str(member.get("mobile") or "")
        else:
            logger.warning("WeCom user/get refused: %s %s", member.get("errcode"), member.get("errmsg"))
    return Identity(Provider.WECOM, str(userid), mobile)


# DingTalk ----------------------------------------------------------------------------------------


def dingtalk_authorize_url(config: SigninConfig, redirect_uri: str, state: str) -> str:
    query = urlencode([
        ("redirect_uri", redirect_uri), ("response_type", "code"), ("client_id", config.app_key),
        ("scope", "openid corpid" if config.corp_id else "openid"), ("state", state), ("prompt", "consent"),
    ])
    return f"{_base('HOUQIN_DINGTALK_OAUTH_URL')}/oauth2/auth?{query}"


def dingtalk_identity(config: SigninConfig, code: str) -> Identity:
    api = _base("HOUQIN_DINGTALK_API_URL")
    status, data = http_json("POST", f"{api}/v1.0/oauth2/userAccessToken", body={
        "clientId": config.app_key, "clientSecret": config.secret, "code": code, "grantType": "authorization_code",
    })
    token = data.get("accessToken")
    if status != 200 or not token:
        logger.warning("DingTalk userAccessToken refused: HTTP %s %s %s", status, data.get("code"), data.get("message"))
        raise ProviderError(_("DingTalk did not accept the sign-in code. Please try again."))
    if config.corp_id and data.get("corpId") and data["corpId"] != config.corp_id:
        raise ProviderError(_("You chose another organisation in DingTalk. Choose the school's organisation."))
    status, me = http_json("GET", f"{api}/v1.0/contact/users/me", headers={"x-acs-dingtalk-access-token": token})
    if status != 200:
        logger.warning("DingTalk users/me refused: HTTP %s %s %s", status, me.get("code"), me.get("message"))
        raise ProviderError(_("DingTalk did not tell who you are. Please try again."))
    state_code = str(me.get("stateCode") or "86").lstrip("+")
    mobile = str(me.get("mobile") or "") if state_code == "86" else ""
    return Identity(Provider.DINGTALK, str(me.get("unionId") or me.get("openId") or ""), mobile)


# Both --------------------------------------------------------------------------------------------


def authorize_url(config: SigninConfig, redirect_uri: str, state: str, *, user_agent: str = "") -> str:
    if config.provider == Provider.DINGTALK:
        return dingtalk_authorize_url(config, redirect_uri, state)
    return wecom_authorize_url(config, redirect_uri, state, in_app="wxwork" in user_agent.lower())


def fetch_identity(config: SigninConfig, code: str) -> Identity:
    if config.provider == Provider.DINGTALK:
        return dingtalk_identity(config, code)
    return wecom_identity(config, code)


def platform_app(user_agent: str) -> str | None:
    """The platform whose built-in browser sent this User-Agent, if any."""
    agent = user_agent.lower()
    if "wxwork" in agent:
        return Provider.WECOM
    if "dingtalk" in agent:
        return Provider.DINGTALK
    return None
