"""Installing from scratch: a fresh clone's ``make serve``, and a wheel in a new virtualenv."""

from tests.browser.conftest import chromium, puppeteer

__all__ = ["chromium", "puppeteer"]
