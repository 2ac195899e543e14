"""Drives the public verification page in headless Chromium (Debian's chromium and
chromium-driver), as a person would: opens BASE/verify, chooses each file, presses the button,
waits for the answer, and prints what the page shows as JSON.

    python verify_page.py BASE FILE[::declared] ...
"""
import json
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def main():
    base, files = sys.argv[1], sys.argv[2:]
    opts = Options()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service("/usr/bin/chromedriver"))
    results = []
    try:
        for spec in files:
            path, _, flag = spec.partition("::")
            driver.get(base + "/verify")
            title = driver.title
            driver.find_element(By.ID, "file").send_keys(path)
            if flag == "declared":
                driver.find_element(By.ID, "declared").click()
            driver.find_element(By.ID, "check").click()
            WebDriverWait(driver, 60).until(
                lambda d: d.find_element(By.ID, "result").get_attribute("data-state") == "done"
            )
            res = driver.find_element(By.ID, "result")
            verdict = res.find_elements(By.ID, "verdict")
            error = res.find_elements(By.ID, "error")
            item = {
                "file": path,
                "title_before": title,
                "title_after": driver.title,
                "text": res.text,
                "injected": len(res.find_elements(By.CSS_SELECTOR, "img, script, iframe, svg")),
                "outcome": verdict[0].get_attribute("data-outcome") if verdict else None,
                "verified": verdict[0].get_attribute("data-verified") if verdict else None,
                "error": error[0].text if error else None,
                "checks": {
                    tr.get_attribute("data-check"): tr.find_elements(By.TAG_NAME, "td")[1].text
                    for tr in res.find_elements(By.CSS_SELECTOR, "tr[data-check]")
                },
                "registry": [td.text for td in res.find_elements(By.CSS_SELECTOR, "#signers td.registry")],
                # Script errors and content-security-policy refusals land here.
                "console": [
                    l["message"]
                    for l in driver.get_log("browser")
                    if l["level"] == "SEVERE" and "favicon" not in l["message"]
                ],
            }
            results.append(item)
    finally:
        driver.quit()
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
