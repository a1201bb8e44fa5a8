"""Pages and forms over real HTTP, as a browser without JavaScript sends them (urllib)."""

import re
import urllib.error
import urllib.parse
import urllib.request


def form_request(method: str, url: str, fields: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, timeout: float = 30) -> tuple[int, str]:
    """(status, body); `fields` are sent form-encoded. An error status is answered, not raised."""
    data = urllib.parse.urlencode(fields).encode() if fields is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def csrf_of(page: str) -> str:
    """The CSRF token of the page's (first) form."""
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)
