"""The aiohttp application: operator console, admin pages, REST API."""
