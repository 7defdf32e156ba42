"""App messages to one person through the school's own WeCom / DingTalk app ("notifications go to the same
app"): the personal channels this app registers in ``core.registry.personal_channels``.

The notifications app queues one outbox row per person who has signed in through the platform (the
address is the id the sign-in stored: WeCom ``userid``, DingTalk ``unionId``) and its worker calls
``send_wecom`` / ``send_dingtalk`` with its claim, retries, backoff and quiet hours.

WeCom: ``POST /cgi-bin/message/send`` with the corp token (``providers.wecom_access_token``, cached)::

    {"touser": "<userid>", "msgtype": "text", "agentid": <AgentId>, "text": {"content": "…"}}

DingTalk (the older server API at ``HOUQIN_DINGTALK_OAPI_URL``): ``GET /gettoken?appkey&appsecret`` (cached),
``POST /topapi/user/getbyunionid`` (unionId → userid, cached a day), then the work notice
``POST /topapi/message/corpconversation/asyncsend_v2``::

    {"agent_id": <AgentId>, "userid_list": "<userid>", "msg": {"msgtype": "text", "text": {"content": "…"}}}
"""

from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.utils.translation import gettext as _

from .models import PlatformAccount, Provider, SigninConfig
from .providers import ProviderError, _base, _wecom_call, http_json

logger = logging.getLogger(__name__)

# Limits of a text message's content: WeCom 2048 bytes; DingTalk's work notice is kept as short.
TEXT_MAX_BYTES = 2000
# DingTalk errcodes meaning "the access token is invalid or expired": fetch a new one and retry once.
DINGTALK_TOKEN_ERRORS = {40014, 42001, 88}
UNIONID_CACHE_SECONDS = 24 * 3600


def _clip(text: str, max_bytes: int = TEXT_MAX_BYTES) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    return data[: max_bytes - 3].decode(errors="ignore") + "…"


def _agent_id(config: SigninConfig):
    value = (config.agent_id or "").strip()
    return int(value) if value.isascii() and value.isdigit() else value


def sending_config(school_id, provider: str) -> SigninConfig | None:
    """The school's platform app when it can send app messages: sign-in on, this platform, agent id and secret."""
    config = SigninConfig.objects.filter(school_id=school_id, enabled=True, provider=provider).first()
    if config is None or not config.agent_id.strip() or not config.secret:
        return None
    if provider == Provider.DINGTALK and not config.app_key:
        return None
    return config


def platform_addresses(provider: str, school, users) -> dict[int, str]:
    """{user pk: platform user id} of ``users`` who signed in through the school's ``provider`` app."""
    if sending_config(school.pk, provider) is None:
        return {}
    pks = [u.pk for u in users]
    if not pks:
        return {}
    return dict(PlatformAccount.objects.filter(school=school, provider=provider, user_id__in=pks)
                .values_list("user_id", "platform_user_id"))


def _config_or_error(school_id, provider: str) -> SigninConfig:
    config = sending_config(school_id, provider)
    if config is None:
        raise ProviderError(_("The school no longer sends app messages through this platform (check the "
                              "sign-in settings)."))
    return config


# WeCom -------------------------------------------------------------------------------------------


def send_wecom(*, school_id, address: str, title: str = "", text: str) -> dict:
    """A WeCom app message to the member ``address`` (their userid)."""
    config = _config_or_error(school_id, Provider.WECOM)
    reply = _wecom_call(config, "POST", "/cgi-bin/message/send", body={
        "touser": address, "msgtype": "text", "agentid": _agent_id(config), "text": {"content": _clip(text)},
        "safe": 0,
    })
    if reply.get("errcode", 0) != 0:
        raise ProviderError(f"WeCom errcode {reply.get('errcode')}: {str(reply.get('errmsg', ''))[:200]}")
    if reply.get("invaliduser"):
        raise ProviderError(_("WeCom does not know this member, or the app may not reach them: %(id)s")
                            % {"id": address})
    return reply


# DingTalk ----------------------------------------------------------------------------------------


def _dingtalk_token_key(config: SigninConfig) -> str:
    digest = hashlib.sha256(f"{config.app_key}\0{config.secret}".encode()).hexdigest()[:32]
    return f"houqin:signin:dingtalk-token:{digest}"


def dingtalk_app_token(config: SigninConfig, *, refresh: bool = False) -> str:
    """The app's access token (``GET /gettoken`` with AppKey and AppSecret), cached until shortly before it expires."""
    key = _dingtalk_token_key(config)
    if not refresh:
        token = cache.get(key)
        if token:
            return token
    _status, data = http_json("GET", f"{_base('HOUQIN_DINGTALK_OAPI_URL')}/gettoken",
                              params={"appkey": config.app_key, "appsecret": config.secret})
    token = data.get("access_token")
    if data.get("errcode", 0) != 0 or not token:
        logger.warning("DingTalk gettoken refused: %s %s", data.get("errcode"), data.get("errmsg"))
        raise ProviderError(_("DingTalk refused the school's app key or app secret."))
    cache.set(key, token, max(60, int(data.get("expires_in") or 7200) - 300))
    return token


def _dingtalk_call(config: SigninConfig, path: str, body: dict) -> dict:
    for attempt in (0, 1):
        token = dingtalk_app_token(config, refresh=attempt == 1)
        _status, data = http_json("POST", f"{_base('HOUQIN_DINGTALK_OAPI_URL')}{path}",
                                  params={"access_token": token}, body=body)
        if attempt == 0 and data.get("errcode") in DINGTALK_TOKEN_ERRORS:
            cache.delete(_dingtalk_token_key(config))
            continue
        return data
    return data  # pragma: no cover - the loop always returns


def dingtalk_userid(config: SigninConfig, union_id: str) -> str:
    """The member's userid in the school's organisation (work notices need it; sign-in gives the unionId)."""
    key = "houqin:signin:dingtalk-userid:" + hashlib.sha256(f"{config.app_key}\0{union_id}".encode()).hexdigest()[:32]
    userid = cache.get(key)
    if userid:
        return userid
    data = _dingtalk_call(config, "/topapi/user/getbyunionid", {"unionid": union_id})
    userid = (data.get("result") or {}).get("userid") if data.get("errcode", 0) == 0 else None
    if not userid:
        logger.warning("DingTalk getbyunionid refused: %s %s", data.get("errcode"), data.get("errmsg"))
        raise ProviderError(_("DingTalk does not know this person in the school's organisation: %(id)s")
                            % {"id": union_id})
    cache.set(key, userid, UNIONID_CACHE_SECONDS)
    return userid


def send_dingtalk(*, school_id, address: str, title: str = "", text: str) -> dict:
    """A DingTalk work notice to the member whose unionId is ``address``."""
    config = _config_or_error(school_id, Provider.DINGTALK)
    userid = dingtalk_userid(config, address)
    reply = _dingtalk_call(config, "/topapi/message/corpconversation/asyncsend_v2", {
        "agent_id": _agent_id(config), "userid_list": userid,
        "msg": {"msgtype": "text", "text": {"content": _clip(text)}},
    })
    if reply.get("errcode", 0) != 0:
        raise ProviderError(f"DingTalk errcode {reply.get('errcode')}: {str(reply.get('errmsg', ''))[:200]}")
    return reply


# Registration ------------------------------------------------------------------------------------


def register_channels() -> None:
    """Offer both platforms as personal channels (SigninConfig.ready); each reaches people only in schools
    that sign in through that platform."""
    from django.utils.translation import gettext_lazy

    from houqin.core.registry import PersonalChannel, registry

    registry.add_personal_channel(PersonalChannel(
        "wecom_app", gettext_lazy("WeCom app message"),
        addresses=lambda school, users: platform_addresses(Provider.WECOM, school, users),
        send=send_wecom, errors=(ProviderError,)))
    registry.add_personal_channel(PersonalChannel(
        "dingtalk_app", gettext_lazy("DingTalk work notice"),
        addresses=lambda school, users: platform_addresses(Provider.DINGTALK, school, users),
        send=send_dingtalk, errors=(ProviderError,)))
