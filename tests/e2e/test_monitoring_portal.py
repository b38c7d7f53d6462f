"""Browser test of the Monitoring pages (docs/monitoring.md): the real `enlace serve --demo`,
headless Chromium at 360 px. Ana's chart shows her readings outside the target band; her live
alert reaches Dr. Hernández's *Alertas* inbox, where he acknowledges it."""
import os

from selenium.webdriver.common.by import By

from test_portal import ARTIFACTS, DemoServer, Steps, browser, click_and_wait, sign_in, sign_out  # noqa: F401 (fixtures)

import pytest


@pytest.fixture(scope="module")
def demo():
    s = DemoServer()
    yield s
    s.stop()


def test_chart_and_alert_inbox(demo, browser):
    d = browser
    steps = Steps(d, "monitoring")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/mediciones")
    steps.check("mis-mediciones")
    chart = d.find_element(By.ID, "grafica-glucosa")
    assert int(chart.get_attribute("data-fuera")) >= 3, "the recent high readings are marked"
    assert chart.find_elements(By.CSS_SELECTOR, "rect.banda"), "the target band is drawn"
    assert chart.find_elements(By.CSS_SELECTOR, "circle.fuera")
    assert chart.size["width"] <= 360
    assert "80–160" in d.find_element(By.ID, "vital-glucosa").text, "Ana's Goal is the target"
    assert d.find_elements(By.CSS_SELECTOR, "li.alert-flag"), "Ana sees her active alert"
    chart.screenshot(os.path.join(ARTIFACTS, "monitoring-glucose-chart.png"))
    d.get(demo.base + "/mediciones?dias=7")
    steps.check("siete-dias")
    sign_out(d)

    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/alertas")
    steps.check("alertas")
    cards = d.find_elements(By.CSS_SELECTOR, "li.alert-task[data-estado='requested']")
    ana = [c for c in cards if "Ana" in c.text and "Glucosa" in c.text]
    assert ana, "Ana's live glucose alert is in the inbox"
    card = ana[0]
    card_id = card.get_attribute("id")
    card.find_element(By.TAG_NAME, "textarea").send_keys("Llamaré a Ana hoy.")
    click_and_wait(d, card.find_element(By.CSS_SELECTOR, "button[value='atender']"))
    steps.check("atendida")
    acknowledged = d.find_element(By.ID, card_id)
    assert acknowledged.get_attribute("data-estado") == "in-progress"
    assert "Llamaré a Ana hoy." in acknowledged.text
