"""``{% signin_login_buttons %}``: the WeCom / DingTalk button of the login page, when the school has one."""

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from houqin.signin import selectors
from houqin.signin.models import Provider

register = template.Library()


@register.inclusion_tag("signin/login_buttons.html", takes_context=True)
def signin_login_buttons(context):
    request = context.get("request")
    if request is None:
        return {"buttons": []}
    school = selectors.login_school(request.GET.get("school"))
    config = selectors.enabled_config(school)
    if config is None:
        return {"buttons": []}
    query = {"school": school.code}
    next_url = context.get("next") or request.GET.get("next")
    if next_url:
        query["next"] = next_url
    return {"buttons": [{
        "provider": config.provider,
        "wecom": config.provider == Provider.WECOM,
        "url": f"{reverse('signin:start')}?{urlencode(query)}",
    }]}
