"""The page shell written in Python (``core.shell``): what it shows, escaped, in the request's language."""

from django.urls import reverse

from houqin.core.shell import bell_html


def test_names_and_the_search_text_are_escaped_in_the_shell(client, personas, school):
    user = personas["logistics_director"]
    user.display_name = "<script>alert(1)</script>王"
    user.save(update_fields=["display_name"])
    school.short_name = "A&B<中职>"
    school.save(update_fields=["short_name"])
    client.force_login(user)
    html = client.get(reverse("core:search"), {"q": '"><img src=x onerror=alert(1)>'}).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;王" in html
    assert "A&amp;B&lt;中职&gt;" in html
    assert "<img src=x" not in html and 'value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"' in html


def test_the_home_entry_is_marked_current_on_the_dashboard_only(client, personas):
    client.force_login(personas["logistics_director"])
    home = client.get(reverse("core:dashboard")).content.decode()
    assert 'class="nav-link active"' in home and 'aria-current="page">首页</a>' in home
    other = client.get(reverse("org:room_list")).content.decode()
    assert 'aria-current="page">首页' not in other and "首页</a>" in other


def test_the_shell_speaks_the_request_language_and_offers_the_other(client, personas):
    client.force_login(personas["logistics_director"])
    zh = client.get(reverse("org:room_list")).content.decode()
    assert '<a class="skip-link" href="#main">' in zh and "退出" in zh and 'value="en" lang="en">English</button>' in zh
    client.post(reverse("set_language"), {"language": "en"})
    en = client.get(reverse("org:room_list")).content.decode()
    assert ">Log out</button>" in en and 'value="zh-hans" lang="zh-CN">中文</button>' in en
    assert 'aria-label="Main navigation"' in en
    # Both forms of the top bar carry the page's CSRF token: the language can be changed and the user log out.
    token = en.split('X-CSRFToken": "')[1].split('"')[0]
    assert en.count(f'name="csrfmiddlewaretoken" value="{token}"') >= 2


def test_the_bell_loads_on_a_page_and_shows_the_count_when_polled(client, personas):
    page = bell_html(None)
    assert 'hx-trigger="load, every 60s"' in page and "data-unread" not in page and "?seen=" not in page
    polled = bell_html(3, polled=True)
    assert 'hx-trigger="every 60s"' in polled and 'data-unread="3"' in polled and "?seen=3" in polled
    assert "btn-outline-danger" in polled and "btn-outline-secondary" in bell_html(0, polled=True)


def test_no_bell_until_the_first_password_is_changed(client, personas):
    user = personas["teacher"]
    user.must_change_password = True
    user.save(update_fields=["must_change_password"])
    client.force_login(user)
    html = client.get(reverse("password_change")).content.decode()
    assert 'id="notification-bell"' not in html


def test_a_page_rendered_without_its_request_still_renders_its_shell(db):
    """A template extending base.html rendered with no request (no context processors) shows the visitor's shell."""
    from django.template.loader import render_to_string

    html = render_to_string("core/entity_list.html", {"title": "资产"})
    assert '<main id="main"' in html and 'id="notification-bell"' not in html and "<title>资产" in html
