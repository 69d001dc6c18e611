"""``seqlm-tui serve`` in a real browser: Debian's chromium, driven by selenium through chromium-driver.

The page draws the terminal on canvases, so the screen is read from screenshots by tesseract (words, not
digits: OCR reads 300 as 308). Without chromium, chromium-driver or tesseract these tests are skipped on a
developer's machine with the reason, and fail in CI (.ci/run installs them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from contextlib import contextmanager

import pytest

from tests.cli.room import SAFETY_S, apps_of, served, wait_for

TOOLS = {"chromium": shutil.which("chromium"), "chromedriver": shutil.which("chromedriver"),
         "tesseract": shutil.which("tesseract")}
MISSING = [name for name, path in TOOLS.items() if not path]


@pytest.fixture(autouse=True)
def _tools():
    if MISSING:
        reason = (f"{', '.join(MISSING)} not installed: apt-get install -y chromium chromium-driver tesseract-ocr "
                  "(.ci/run does)")
        if os.environ.get("CI"):
            pytest.fail(reason + "; CI must run the browser tests.")
        pytest.skip(reason)


@contextmanager
def chromium(profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1100,700",
                f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.binary_location = TOOLS["chromium"]
    driver = webdriver.Chrome(service=Service(TOOLS["chromedriver"]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screen_text(driver) -> str:
    png = driver.get_screenshot_as_png()
    return subprocess.run([TOOLS["tesseract"], "stdin", "stdout"], input=png, capture_output=True,
                          check=True).stdout.decode("utf-8", "replace").lower()


DRAWN = "return document.body.classList.contains('-first-byte')"  # textual.js: the app has drawn


def see(driver, *words: str) -> str:
    """Wait until the page shows every word (read from a screenshot); the text read. No screenshot is read
    before the app has drawn: tesseract takes a second or more of the CPU the app needs."""
    t0, text = time.monotonic(), ""
    while not all(w in text for w in words):
        if time.monotonic() - t0 > SAFETY_S:
            raise AssertionError(f"waited {SAFETY_S:.0f} s for {words} on screen; read: {text!r}")
        time.sleep(0.5)
        text = screen_text(driver) if driver.execute_script(DRAWN) else ""
    return text


def press(driver, key: str) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    driver.find_element(By.TAG_NAME, "body").click()  # the page takes the keyboard once clicked
    ActionChains(driver).send_keys(key).perform()


LOADED_FONTS = ("return [...document.fonts].filter(f => f.family.includes('Roboto Mono') && f.status === 'loaded')"
                ".length")


def test_a_student_trains_refreshes_gets_the_run_back_and_closing_the_browser_ends_the_app(tmp_path):
    with served(tmp_path / "room", "--token", "sesame", "--max-sessions", "1", "--preset", "counting-elman",
                "--steps", "300") as room, chromium(tmp_path / "a") as student:
        student.get(room.url)
        see(student, "counting", "press s")
        assert student.execute_script(LOADED_FONTS) >= 1  # the bundled font, from the room itself
        assert "googleapis" not in student.page_source
        press(student, "s")
        see(student, "finished")

        student.refresh()  # the same session code (a cookie): its last run comes back
        see(student, "loaded last-run")

        with chromium(tmp_path / "b") as other:
            other.get(room.url)
            assert "The room is full" in other.page_source
            other.get(room.base)  # no token
            assert "needs its access token" in other.page_source

        assert len(apps_of(room.folder)) == 1
        student.quit()
        wait_for(lambda: not apps_of(room.folder), "the app to end once the browser closed")
