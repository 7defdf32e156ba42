"""The page shell around every signed-in page — side menu, top bar, the notification bell — written in Python.

``base.html`` puts it around each page's blocks with ``{% shell_open %}``. As template text it cost ~0.3 ms of
every page (a dozen ``{% translate %}`` tags, three ``{% csrf_token %}``, the bell's include and its ``{% url %}``
tags, the variables resolved one lookup at a time); here it is one function of the request's values. Every
value from the request or the database is escaped (``conditional_escape``); the labels are this request's
language. The bell is also what ``notifications:bell`` answers when htmx polls it (``bell_html``).
"""

from __future__ import annotations

from django.middleware.csrf import get_token
from django.utils.html import conditional_escape as esc
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .caching import cached_reverse
from .context_processors import shell_static

BELL_ICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor"\n'
    '         stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">\n'
    '      <path d="M10 5a2 2 0 1 1 4 0a7 7 0 0 1 4 6v3a4 4 0 0 0 2 3h-16a4 4 0 0 0 2 -3v-3a7 7 0 0 1 4 -6"/>\n'
    '      <path d="M9 17v1a3 3 0 0 0 6 0v-1"/>\n'
    '    </svg>')


def bell_html(unread: int | None, *, polled: bool = False) -> str:
    """The top bar's bell: on a page it loads its count at once (``unread`` None), polled it shows ``unread``."""
    bell_url = cached_reverse("notifications:bell")
    seen = f"?seen={esc(unread)}" if unread is not None else ""
    trigger = "every 60s" if polled else "load, every 60s"
    label = esc(_("Notifications"))
    badge = ""
    if unread:
        badge = (f'<span class="badge bg-red text-white ms-1" data-unread="{esc(unread)}">{esc(unread)}'
                 f'<span class="visually-hidden"> {esc(_("unread"))}</span></span>')
    style = "btn-outline-danger" if unread else "btn-outline-secondary"
    return (
        f'<span id="notification-bell" class="notification-bell"\n'
        f'      hx-get="{esc(bell_url)}{seen}"\n'
        f'      hx-trigger="{trigger}" hx-swap="outerHTML">\n'
        f'  <a class="btn btn-sm {style}" href="{esc(cached_reverse("notifications:inbox"))}"\n'
        f'     title="{label}">\n'
        f'    {BELL_ICON}\n'
        f'    <span class="visually-hidden">{label}</span>\n'
        f'    {badge}\n'
        f'  </a>\n'
        f'</span>')


def shell_open(context) -> str:
    """Everything of the shell before a page's own blocks: the side menu, the top bar, ``<main>``."""
    request = context.get("request")  # None: a page rendered without its request (shown as for a visitor)
    user = context.get("user") or getattr(request, "user", None)
    urls = shell_static()["urls"]
    token = context.get("csrf_token") or (get_token(request) if request is not None else "")
    token = esc(str(token))  # the page's one masked token
    school = context.get("shell_school")
    brand = (getattr(school, "short_name", "") or getattr(school, "name", "")) if school is not None else ""
    match = getattr(request, "resolver_match", None)
    home = match is not None and match.url_name == "dashboard"
    roles = "、".join(str(r) for r in context.get("shell_roles") or ())
    q = context.get("q")
    zh = get_language() == "zh-hans"
    if user is not None and user.is_authenticated and not user.must_change_password:
        bell = bell_html(context.get("notifications_unread"), polled=bool(context.get("polled")))
    else:
        bell = ""
    switch = ('<button class="btn btn-sm btn-outline-secondary" name="language" value="en" lang="en">English</button>'
              if zh else
              '<button class="btn btn-sm btn-outline-secondary" name="language" value="zh-hans" lang="zh-CN">中文</button>')
    csrf = f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
    current = ' aria-current="page"' if home else ""
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<div class="page">\n'
        f'  <aside class="navbar navbar-vertical navbar-expand-lg" aria-label="{esc(_("Main navigation"))}">\n'
        f'    <div class="container-fluid">\n'
        f'      <button class="navbar-toggler" type="button" data-bs-toggle="collapse" data-bs-target="#sidebar-menu"\n'
        f'              aria-controls="sidebar-menu" aria-expanded="false" aria-label="{esc(_("Menu"))}">\n'
        f'        <span class="navbar-toggler-icon"></span>\n'
        f'      </button>\n'
        f'      <a class="navbar-brand" href="{esc(urls["dashboard"])}">\n'
        f'        <span class="brand-mark" aria-hidden="true">后</span>\n'
        f'        <span class="brand-text">{esc(brand or _("Houqin"))}</span>\n'
        f'      </a>\n'
        f'      <div class="collapse navbar-collapse" id="sidebar-menu">\n'
        f'        <nav class="navbar-nav pt-lg-3" aria-label="{esc(_("Modules"))}">\n'
        f'          <a class="nav-link{" active" if home else ""}" href="{esc(urls["dashboard"])}"\n'
        f'            {current}>{esc(_("Home"))}</a>\n'
        f'          {esc(context.get("nav_html", ""))}\n'
        f'        </nav>\n'
        f'      </div>\n'
        f'    </div>\n'
        f'  </aside>\n'
        f'  <div class="page-wrapper">\n'
        f'    <header class="topbar">\n'
        f'      <form class="topbar-search" action="{esc(urls["search"])}" method="get" role="search">\n'
        f'        <label for="global-search" class="visually-hidden">{esc(_("Search people, classes and rooms"))}</label>\n'
        f'        <input id="global-search" class="form-control" type="search" name="q" value="{esc(q or "")}"\n'
        f'               placeholder="{esc(_("Search: name, pinyin or initials"))}" autocomplete="off"\n'
        f'               hx-get="{esc(urls["search"])}" hx-trigger="input changed delay:300ms, search" hx-target="#search-popup">\n'
        f'        <div id="search-popup" class="search-popup" aria-live="polite"></div>\n'
        f'      </form>\n'
        f'      <div class="topbar-user">\n'
        f'        {bell}\n'
        f'        <span class="user-name">{esc("" if user is None else user)}</span>\n'
        f'        <span class="user-roles">{esc(roles)}</span>\n'
        f'        <form action="{esc(urls["set_language"])}" method="post" class="d-inline">\n'
        f'          {csrf}\n'
        f'          <input type="hidden" name="next" value="{esc(request.get_full_path() if request else "")}">\n'
        f'          {switch}\n'
        f'        </form>\n'
        f'        <a class="btn btn-sm btn-outline-secondary" href="{esc(urls["password_change"])}">{esc(_("Password"))}</a>\n'
        f'        <form action="{esc(urls["logout"])}" method="post" class="d-inline">\n'
        f'          {csrf}\n'
        f'          <button class="btn btn-sm btn-outline-secondary" type="submit">{esc(_("Log out"))}</button>\n'
        f'        </form>\n'
        f'      </div>\n'
        f'    </header>\n'
        f'    <main id="main" class="page-body" tabindex="-1">\n'
        f'      <div class="container-xl">\n')
