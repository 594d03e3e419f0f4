"""The pages in a real browser: headless Chromium visits ``tenantgraph serve --demo``.

Three flows, each covering several promises: booking end to end (keyboard,
slots in the business's time zone, a validation message next to its field,
leaving and resuming through the one cookie, the reference); the portal
(one-time code read from the outbox, both businesses of a person who booked
at two, the export downloaded, erasure with its preview and receipt); and
the English texts at a phone's width. Every page is saved as a screenshot
under ``test-screenshots/``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import (
    CHROMEDRIVER,
    DEMO_SUBJECT,
    DemoServer,
    demo_server,
    require_chromium,
    screenshot,
)
from tests.conftest import TEST_SECRET

WAIT = 20
# Far from the businesses' zone, so a slot labelled in the browser's zone would show.
BROWSER_ZONE = "America/New_York"
NEW_PERSON = "jonas.kjaer.pages@example.dk"
BUSINESSES = ("Aarhus Syn ApS", "Vejle Autoværksted ApS")
MY_BOOKINGS = (
    "{ myData { controllers { tenant { slug } customer { bookings { reference status } } } } }"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("pages"), TEST_SECRET) as running:
        yield running


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def browser(downloads: Path) -> Iterator[Callable[[int, int], WebDriver]]:
    binary = require_chromium()
    drivers: list[webdriver.Chrome] = []

    def start(width: int = 1100, height: int = 1000) -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = binary
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
            options.add_argument(argument)
        options.add_argument(f"--window-size={width},{height}")
        options.add_argument("--lang=da-DK")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": str(downloads), "download.prompt_for_download": False},
        )
        # An explicit driver path: Selenium Manager is never asked to find or fetch one.
        service = Service(executable_path=str(CHROMEDRIVER), env={**os.environ, "TZ": BROWSER_ZONE})
        driver = webdriver.Chrome(service=service, options=options)
        driver.execute_cdp_cmd(
            "Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        drivers.append(driver)
        return driver

    yield start
    for driver in drivers:
        log = driver.get_log("browser")  # type: ignore[no-untyped-call]
        problems = [e for e in log if e["level"] == "SEVERE"]
        driver.quit()
        # No script error, no refused load (a CSP violation is reported here too).
        assert not problems, problems


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT)


def visible(driver: WebDriver, css: str) -> WebElement:
    return wait(driver).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def shows(driver: WebDriver, element_id: str, text: str) -> str:
    """Wait until the element's text contains ``text`` (the page fills it in from the API)."""
    wait(driver).until(ec.text_to_be_present_in_element((By.ID, element_id), text))
    return str(driver.find_element(By.ID, element_id).text)


def cookie_names(driver: WebDriver) -> set[str]:
    return {c["name"] for c in driver.get_cookies()}


def choose_first_free_slot(driver: WebDriver) -> None:
    """Service and time by keyboard: space on the radio, enter on the slot button.

    The browser runs in New York's time zone; the slot is labelled with its
    time in the business's zone (Copenhagen), as the person will turn up.
    """
    visible(driver, "#services input").send_keys(Keys.SPACE)
    slot = visible(driver, "#slots button.slot:not([disabled])")
    assert "Europe/Copenhagen" in driver.find_element(By.ID, "slots-zone").text
    starts = datetime.fromisoformat(str(slot.get_attribute("data-starts")))
    local = starts.astimezone(ZoneInfo("Europe/Copenhagen"))
    assert slot.text.startswith(
        local.strftime("%H") + ":" + local.strftime("%M")
    ) or slot.text.startswith(local.strftime("%H") + "." + local.strftime("%M")), (slot.text, local)
    slot.send_keys(Keys.ENTER)
    visible(driver, "#details-section")


def fill(driver: WebDriver, values: dict[str, str]) -> None:
    for name, value in values.items():
        field = driver.find_element(By.ID, f"field-{name}")
        field.clear()
        field.send_keys(value)


def test_booking_end_to_end_with_validation_and_resume(
    server: DemoServer, browser: Callable[..., WebDriver]
) -> None:
    driver = browser()
    driver.get(server.url + "/book/aarhus-syn")
    assert shows(driver, "tenant-name", "Aarhus Syn ApS") == "Aarhus Syn ApS"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "da"
    assert visible(driver, "#services-heading").text == "1. Vælg ydelse"
    choose_first_free_slot(driver)
    assert "holder tiden" in driver.find_element(By.ID, "hold").text
    assert cookie_names(driver) == {"tg_draft"}
    fill(
        driver,
        {
            "name": "Jonas Kjær",
            "email": NEW_PERSON,
            "phone": "20 12 34 56",
            "registration": "AB 12 345 67",
        },
    )
    driver.find_element(By.ID, "details-submit").send_keys(Keys.ENTER)
    error = visible(driver, "#error-registration")
    assert "Tjek registreringsnummeret" in error.text
    assert "not a Danish registration number" in error.text  # the API's own words
    assert driver.find_element(By.ID, "field-registration").get_attribute("aria-invalid") == "true"
    assert driver.switch_to.active_element.get_attribute("id") == "field-registration"
    assert driver.find_element(By.ID, "error-email").is_displayed() is False
    screenshot(driver, "book-validation-error-da")

    # Leave for another page, come back: the cookie brings the unfinished booking back.
    driver.get(server.url + "/")
    visible(driver, "h1")
    screenshot(driver, "index-da")
    driver.get(server.url + "/book/aarhus-syn")
    visible(driver, "#resume")
    assert "ikke er færdig med" in driver.find_element(By.ID, "resume-heading").text
    screenshot(driver, "book-resume-da")
    driver.find_element(By.ID, "resume-continue").click()
    visible(driver, "#details-section")
    fill(
        driver,
        {
            "name": "Jonas Kjær",
            "email": NEW_PERSON,
            "phone": "20 12 34 56",
            "registration": "AB 12 345",
        },
    )
    driver.find_element(By.ID, "details-submit").click()
    reference = visible(driver, "#reference").text
    assert reference
    assert "Tak, din tid er booket" in driver.find_element(By.ID, "done-heading").text
    screenshot(driver, "book-confirmed-da")
    assert "tg_draft" not in cookie_names(driver)

    # The reference is the person's confirmed booking, as the API tells that person.
    token = server.cli("token", "subject", "--email", NEW_PERSON).strip()
    answer = httpx.post(
        server.url + "/graphql",
        json={"query": MY_BOOKINGS},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    bookings = answer["data"]["myData"]["controllers"][0]["customer"]["bookings"]
    assert {"reference": reference, "status": "CONFIRMED"} in bookings


def test_portal_two_businesses_export_and_erasure(
    server: DemoServer, browser: Callable[..., WebDriver], downloads: Path
) -> None:
    driver = browser()
    driver.get(server.url + "/privatliv")
    visible(driver, "#login-email").send_keys(DEMO_SUBJECT, Keys.ENTER)
    sent = visible(driver, "#login-sent").text
    assert DEMO_SUBJECT in sent and "10 minutter" in sent
    screenshot(driver, "privacy-code-da")
    code = server.code_sent_to(DEMO_SUBJECT)
    driver.find_element(By.ID, "login-code").send_keys(code, Keys.ENTER)
    visible(driver, "#account")
    wait(driver).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.controller")) == 2)
    headings = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "article.controller h3")]
    assert sorted(headings) == sorted(BUSINESSES)
    assert driver.find_element(By.ID, "who").text == DEMO_SUBJECT
    screenshot(driver, "privacy-data-da")
    for summary in driver.find_elements(By.CSS_SELECTOR, "details.facts summary"):
        summary.send_keys(Keys.ENTER)  # the Art. 15(1) facts open from the keyboard
    page = driver.find_element(By.ID, "controllers").text
    for fact in (
        "Formål, retsgrundlag og opbevaring",
        "GDPR art. 6, stk. 1, litra b",
        "bogføringsloven",
    ):
        assert fact in page
    # The token is in this tab's sessionStorage; no cookie was set for it.
    assert driver.execute_script("return sessionStorage.getItem('tg_subject_token')")
    assert cookie_names(driver) == set()
    screenshot(driver, "privacy-facts-da")
    for summary in driver.find_elements(By.CSS_SELECTOR, "details.facts summary"):
        summary.send_keys(Keys.ENTER)

    driver.find_element(By.ID, "export-json").click()
    wait(driver).until(lambda _d: list(downloads.glob("my-data-*.json")))
    export = json.loads(next(downloads.glob("my-data-*.json")).read_text())
    assert DEMO_SUBJECT in json.dumps(export, ensure_ascii=False)
    for business in BUSINESSES:
        assert business in json.dumps(export, ensure_ascii=False)
    driver.find_element(By.ID, "export-html").click()
    wait(driver).until(lambda _d: list(downloads.glob("my-data-*.html")))

    # A correction the API refuses is shown at its field.
    driver.find_element(By.ID, "rect-postalCode").send_keys("12", Keys.ENTER)
    assert "postalCode" in visible(driver, "#error-rect-postalCode").text
    driver.find_element(By.ID, "rect-postalCode").clear()
    # A new phone number takes the code sent to it.
    driver.find_element(By.ID, "rect-phone").send_keys("22 33 44 55", Keys.ENTER)
    assert "Telefon" in visible(driver, "#confirm-text").text
    assert driver.switch_to.active_element.get_attribute("id") == "confirm-code"
    code = server.code_sent_to("+4522334455", channel="sms")
    driver.find_element(By.ID, "confirm-code").send_keys(code, Keys.ENTER)
    assert shows(driver, "rectify-result", "Rettet: Telefon")
    shows(driver, "controllers", "+4522334455")

    # Erasure at one business: the preview first, then the receipt.
    select = driver.find_element(By.ID, "erasure-business")
    select.find_element(By.CSS_SELECTOR, "option[value='vejle-autovaerksted']").click()
    driver.find_element(By.ID, "erasure-preview-button").click()
    preview = visible(driver, "#erasure-preview").text
    assert "Slettes" in preview and "Anonymiseres" in preview
    driver.find_element(By.CSS_SELECTOR, "#erasure-form button[type=submit]").click()
    assert "Sæt flueben" in visible(driver, "#error-erasure").text
    driver.find_element(By.ID, "erasure-understood").send_keys(Keys.SPACE)
    driver.find_element(By.CSS_SELECTOR, "#erasure-form button[type=submit]").click()
    receipt = visible(driver, "#erasure-receipt").text
    assert "Kvittering" in receipt and "Vejle Autoværksted ApS" in receipt
    assert "Afventer virksomheden" in receipt
    wait(driver).until(lambda d: "Sletning" in d.find_element(By.ID, "requests").text)
    screenshot(driver, "privacy-erasure-receipt-da")


def test_english_texts_at_phone_width(
    server: DemoServer, browser: Callable[..., WebDriver]
) -> None:
    driver = browser(390, 844)
    driver.get(server.url + "/book/vejle-autovaerksted?lang=en")
    assert visible(driver, "#services-heading").text == "1. Choose a service"
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    choose_first_free_slot(driver)
    assert "We hold the time for you" in driver.find_element(By.ID, "hold").text
    assert (
        driver.find_element(By.CSS_SELECTOR, "label[for=field-registration]").text
        == "Registration number (optional)"
    )
    # Nothing is wider than a phone's screen.
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(driver, "book-details-en-phone")

    driver.find_element(By.CSS_SELECTOR, "a.lang-switch").click()
    shows(driver, "tenant-name", "Vejle Autoværksted ApS")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "da"
    assert "Du har en booking" in visible(driver, "#resume-heading").text

    driver.get(server.url + "/privacy?lang=en")
    assert visible(driver, "#login-heading").text == "Sign in with a one-time code"
    assert driver.find_element(By.CSS_SELECTOR, "label[for=login-email]").text == "Your email"
    assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(driver, "privacy-login-en-phone")
    driver.get(server.url + "/?lang=en")
    assert visible(driver, "h1").text == "Book a time and see your data"
    screenshot(driver, "index-en-phone")
