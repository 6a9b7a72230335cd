# Browser tests (tests/browser/): Debian's Chromium, driven by Playwright through its
# executable path (never `playwright install`), and its driver for Selenium users.
APT_PACKAGES += chromium chromium-driver fonts-wqy-zenhei
