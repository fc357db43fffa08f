"""The report in a real browser: headless Chromium opens it from disk (file://).

Skipped when Chromium, chromedriver or Selenium is missing; ``.ci/run`` installs Chromium
so that CI runs it.
"""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1300,1000")


@pytest.fixture
def browser(tmp_path):
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("chromium and chromedriver are not installed "
                    "(apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_report_opens_from_disk_with_every_image_and_no_console_error(
        browser, demo_report_path, tmp_path):
    browser.get(demo_report_path.as_uri())
    assert browser.title == "aekit demo"
    widths = browser.execute_script(
        "return Array.from(document.images).map(img => img.complete ? img.naturalWidth : 0);")
    assert len(widths) >= 9
    assert all(w > 0 for w in widths), widths
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    height = browser.execute_script("return document.body.scrollHeight;")
    browser.set_window_size(1300, min(int(height), 16000))
    screenshot = tmp_path / "demo-report.png"
    assert browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
