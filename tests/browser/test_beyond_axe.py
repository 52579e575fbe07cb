"""WCAG 2.1 AA where axe cannot look, measured in the real browser: focus that can be seen
(2.4.7, 1.4.11), control edges that can be seen (1.4.11), no sideways scrolling at 320 px
(1.4.10), focus and title after a refused form (3.3.1), Swedish content marked as Swedish in
the English interface (3.1.2)."""

import re

from playwright.sync_api import expect

from modell.demo import DEMO_PASSWORD
from tests.browser.conftest import log_in
from tests.conftest import DEMO

CONTRAST = """([a, b]) => {
  const rgb = (c) => c.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const lum = (c) => {
    const [r, g, b] = rgb(c).map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}"""

BACKGROUND = """(el) => {
  for (let e = el; e; e = e.parentElement) {
    const c = getComputedStyle(e).backgroundColor;
    if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') return c;
  }
  return 'rgb(255, 255, 255)';
}"""


def contrast(page, a: str, b: str) -> float:
    return page.evaluate(CONTRAST, [a, b])


def focus_ring(page, locator) -> tuple[float, float]:
    """(outline width in px, contrast of the outline with what is behind the element)."""
    style = locator.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth, s.outlineColor]; }"
    )
    behind = locator.evaluate(BACKGROUND)
    assert style[0] not in ("none", "hidden"), style
    return float(style[1].rstrip("px")), contrast(page, style[2], behind)


def tab_to(page, locator, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError("the element was never reached with Tab")


def test_keyboard_focus_is_clearly_visible_in_the_header_and_on_the_page(page):
    log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
    menu_link = page.get_by_role("navigation").get_by_role("link", name="Organisationer")
    tab_to(page, menu_link)
    width, ratio = focus_ring(page, menu_link)
    assert width >= 2 and ratio >= 3, (width, ratio)
    # The focused link's own text keeps its contrast with the header (not Bootstrap's #0a58ca).
    text = menu_link.evaluate("(el) => getComputedStyle(el).color")
    assert contrast(page, text, menu_link.evaluate(BACKGROUND)) >= 4.5
    page.goto("/organisationer/")
    search = page.get_by_label("Namn eller SCB-kod")
    tab_to(page, search)
    width, ratio = focus_ring(page, search)
    assert width >= 2 and ratio >= 3, (width, ratio)


def test_form_controls_and_unticked_boxes_have_visible_edges(page):
    log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
    page.goto("/omgangar/ny")
    controls = page.locator(
        "main input.form-control, main select, main input[type=checkbox], main input[type=radio]"
    )
    assert controls.count() > 0
    for i in range(controls.count()):
        control = controls.nth(i)
        if not control.is_visible():
            continue
        edge = control.evaluate("(el) => getComputedStyle(el).borderTopColor")
        assert contrast(page, edge, control.evaluate(BACKGROUND)) >= 3, control.evaluate(
            "el => el.outerHTML"
        )


PAGES_AT_320 = [
    "/",
    "/omgangar/",
    "/omgangar/1",
    "/omgangar/1/anmalningar",
    "/omgangar/modeller/",
    "/organisationer/",
    "/arbete/",
    "/moten/kalender",
    "/moten/omgang/2",
    "/arbete/omgang/2/oversikt",
    "/utkorg",
    "/aviseringar",
    "/omgangar/ny",
    "/omgangar/importera",
]


def test_nothing_scrolls_sideways_at_320_pixels_but_a_table_in_its_own_box(page):
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
    too_wide = {}
    for url in PAGES_AT_320:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 320:
            too_wide[url] = width
    assert too_wide == {}


def test_a_refused_form_puts_focus_on_the_summary_and_says_so_in_the_title(page):
    log_in(page, DEMO["coordinator"], "not the password")
    expect(page).to_have_title(re.compile(r"^Fel: "))
    expect(page.locator("#error-summary")).to_be_focused()


def test_swedish_content_is_marked_as_swedish_in_the_english_interface(page):
    log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto("/omgangar/1")
    name = page.get_by_role("heading", level=1)
    expect(name).to_have_text("Modellkommuner 2019")
    expect(name.locator('[lang="sv"]')).to_have_text("Modellkommuner 2019")
    for organisation in ("Askersund", "Botkyrka"):
        link = page.get_by_role("link", name=organisation, exact=True).first
        expect(link.locator('[lang="sv"]')).to_have_text(organisation)


def test_a_refused_file_import_also_takes_focus_and_says_so_in_the_title(page):
    log_in(page, DEMO["coordinator"], DEMO_PASSWORD)
    page.goto("/omgangar/importera")
    page.locator("#file").set_input_files(
        files=[{"name": "omgang.xlsx", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}]
    )
    page.locator("#name").fill("Modellkommuner 2016")
    page.locator("#template_id").select_option(index=1)
    page.locator("#starts_on").fill("2016-02-04")
    page.locator("#ends_on").fill("2016-12-15")
    page.get_by_role("button", name="Kontrollera filen").click()
    expect(page.locator("#import-errors")).to_contain_text("PDF")
    expect(page).to_have_title(re.compile(r"^Fel: "))
    expect(page.locator("#import-errors")).to_be_focused()
