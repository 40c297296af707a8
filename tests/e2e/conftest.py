"""End-to-end tests: a real server subprocess (tests/e2e/server.py) and headless
Debian Chromium (the ``browser`` fixture from tests/support/browser.py, registered
for the whole suite in tests/conftest.py)."""
