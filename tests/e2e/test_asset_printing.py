"""PUB-3, AST-1, AST-2 from a browser: the asset keeper opens the print centre on a phone, prints labels of one
room (the PDF opens in a new tab) and the door lists; the page fits the screen and passes axe."""

import pytest

from .conftest import PHONE, check_page
from .test_shell import _login

pytestmark = pytest.mark.django_db(transaction=True)



def test_keeper_prints_labels_and_door_lists_on_a_phone(page_factory, demo):
    page = page_factory(PHONE)
    _login(page, "keeper")
    page.goto("/assets/print/")
    check_page(page, "assets-print-centre-phone")
    with page.expect_popup() as popup:
        page.get_by_test_id("print-labels").click()
    pdf = popup.value
    pdf.wait_for_load_state()
    assert "/assets/print/labels/" in pdf.url
    response = page.request.get("/assets/print/rooms/")
    assert response.status == 200 and response.body().startswith(b"%PDF")
    response = page.request.get("/assets/print/labels/?layout=a4-24&offset=99")
    assert response.ok and "/assets/print/" in response.url  # back to the print centre with the message
