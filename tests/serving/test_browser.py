"""The web page in a real browser: headless Chromium driven by Selenium.

Skipped with a reason where Chromium or its driver is absent (CI installs Debian's
``chromium`` and ``chromium-driver``). Screenshots go to pytest's ``tmp_path`` and, when
``EMOZOO_SCREENSHOT_DIR`` is set, there too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from emozoo.inference.demo import sample_path

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1400",
    # A fake microphone (a beeping tone) and no permission prompt, for the recorder.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not Path(binary).exists():
            pytest.skip(f"{binary} is absent (apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def screenshot(driver, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(str(path))
    if os.environ.get("EMOZOO_SCREENSHOT_DIR"):
        folder = Path(os.environ["EMOZOO_SCREENSHOT_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, folder / name)
    return path


def wait_for(driver, condition, timeout: float = 30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(condition)


def predict_on_page(driver) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.ID, "predict-button").click()
    wait_for(driver, lambda d: d.find_element(By.ID, "result").is_displayed())


def fresh_page(driver, live) -> None:
    from selenium.webdriver.common.by import By

    driver.get(live.url + "/")
    wait_for(driver, lambda d: "Model cnn_lstm_fusion" in d.find_element(By.ID, "model-line").text)


def page_json(driver) -> dict:
    import json

    from selenium.webdriver.common.by import By

    return json.loads(driver.find_element(By.ID, "json-output").get_attribute("textContent"))


def test_the_page_shows_the_prediction_for_the_sample_photo(browser, live, tmp_path):
    from selenium.webdriver.common.by import By

    from tests.serving.helpers import multipart, status_and_json
    from tests.serving.test_live import post_raw

    photo = sample_path("astronaut.jpg")
    body, content_type = multipart({"image": photo.read_bytes()})
    expected = status_and_json(post_raw(live.port, body, content_type))[1]

    fresh_page(browser, live)
    browser.find_element(By.ID, "image-input").send_keys(str(photo))
    wait_for(browser, lambda d: d.find_element(By.ID, "photo-canvas").is_displayed())
    predict_on_page(browser)
    shot = screenshot(browser, tmp_path, "serve_page_photo.png")
    assert shot.stat().st_size > 10_000

    assert browser.find_element(By.ID, "top-label").get_attribute("textContent") == expected["top"]
    bars = browser.find_elements(By.CSS_SELECTOR, "#probability-bars .bar")
    assert len(bars) == len(expected["probabilities"])
    # The face box is drawn on the canvas: its pixels differ from the bare photo's.
    drawn = browser.execute_script(
        "const [x, y] = arguments[0];"
        "const c = document.getElementById('photo-canvas').getContext('2d');"
        "return Array.from(c.getImageData(x, y + 20, 1, 1).data.slice(0, 3));",
        expected["faces"][0]["box"][:2],
    )
    assert drawn == [46, 157, 98]  # the top face's green frame (#2e9d62)
    assert page_json(browser)["faces"][0]["box"] == expected["faces"][0]["box"]


def test_a_chosen_clip_and_text_are_sent_as_wav(browser, live, tmp_path):
    from selenium.webdriver.common.by import By

    fresh_page(browser, live)
    browser.find_element(By.ID, "audio-input").send_keys(str(sample_path("happy.wav")))
    wait_for(browser, lambda d: d.find_element(By.ID, "audio-view").is_displayed())
    browser.find_element(By.ID, "text-input").send_keys("We made it! I am so proud.")
    predict_on_page(browser)
    result = page_json(browser)
    assert result["modalities_used"] == ["text", "audio"]
    assert result["sources"]["audio"] == "happy.wav"
    assert result["sources"]["audio_seconds"] == pytest.approx(4.53, abs=0.02)
    contributions = browser.find_elements(By.CSS_SELECTOR, "#contribution-bars .bar")
    assert len(contributions) == 2
    screenshot(browser, tmp_path, "serve_page_audio_text.png")


def test_a_recording_from_the_microphone_is_used(browser, live, tmp_path):
    import time

    from selenium.webdriver.common.by import By

    fresh_page(browser, live)
    record = browser.find_element(By.ID, "record-button")
    record.click()
    wait_for(browser, lambda d: record.text == "Stop")
    time.sleep(2.0)
    record.click()
    wait_for(browser, lambda d: d.find_element(By.ID, "audio-view").is_displayed())
    predict_on_page(browser)
    result = page_json(browser)
    assert result["sources"]["audio"] == "recording.wav"
    assert result["sources"]["audio_seconds"] >= 1.5
    assert "audio" in result["modalities_used"] or "audio" in result["not_used"]
    screenshot(browser, tmp_path, "serve_page_recording.png")


def test_an_error_is_shown_on_the_page(browser, live):
    from selenium.webdriver.common.by import By

    fresh_page(browser, live)
    browser.find_element(By.ID, "predict-button").click()
    status = browser.find_element(By.ID, "status")
    assert "Give a photo" in status.text and "error" in status.get_attribute("class")


def test_the_api_reference_renders_offline(browser, live, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(live.url + "/docs")
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".operation")) >= 5)
    text = browser.find_element(By.ID, "reference").text
    for expected in ("/v1/predict", "/v1/predict/batch", "/v1/models", "BatchRequest"):
        assert expected in text
    screenshot(browser, tmp_path, "serve_docs.png")
