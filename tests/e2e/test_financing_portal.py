"""The Financing portal pages in headless Chromium at 360 px on the demo (docs/financing.md,
"Portal"): screenshots in tests/artifacts/, no horizontal scroll, no console errors, the
accessibility checks of test_portal.Steps.

- Ana: *Mi cobertura* (her IMSS coverage with her NSS, her private plan with its deductible);
- Seguros Vida Plena: the claims worklist and the detail of Ana's emergency claim (the denied
  genetic panel with its reason, the rules with versions);
- IMSS as payer: last quarter's settlement statement with ISSSTE and its CSV link;
- Dr. Hernández: the quality dashboard (six SVG charts).
"""
from test_portal import Steps, browser, demo, sign_in, sign_out  # noqa: F401 (fixtures)


def test_financing_pages_at_360px(demo, browser):
    d = browser
    steps = Steps(d, "financing-pages")
    sign_in(d, demo.base, "ana", demo.users["ana"])
    d.get(demo.base + "/cobertura")
    steps.check("mi-cobertura")
    text = d.find_element("tag name", "main").text
    assert "Mi cobertura" in d.title and "32987654321" in text and "$1,500.00" in text
    sign_out(d)

    sign_in(d, demo.base, "vidaplena", demo.users["vidaplena"])
    d.get(demo.base + "/reclamaciones")
    steps.check("reclamaciones")
    links = d.find_elements("css selector", "li.claim h3 a")
    assert len(links) == 1
    d.get(links[0].get_attribute("href"))
    steps.check("reclamacion")
    text = d.find_element("tag name", "main").text
    assert "Servicio no cubierto por el plan" in text and "InsurancePlan/vida-plena-gmm-basico|" in text
    sign_out(d)

    sign_in(d, demo.base, "imss.pagos", demo.users["imss.pagos"])
    d.get(demo.base + "/liquidacion")
    steps.check("liquidacion")
    assert d.find_elements("css selector", "a[href^='/liquidacion.csv?periodo=']")
    assert d.find_elements("css selector", "section.settlement-pair p.net")
    sign_out(d)

    sign_in(d, demo.base, "dr.hernandez", demo.users["dr.hernandez"])
    d.get(demo.base + "/calidad")
    steps.check("calidad")
    assert len(d.find_elements("css selector", "svg.chart")) == 6
