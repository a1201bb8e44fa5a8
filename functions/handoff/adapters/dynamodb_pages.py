"""Reading a DynamoDB Query or Scan to its end: boto3's Table resource has no paginator, so each
caller would otherwise repeat the LastEvaluatedKey loop."""

from collections.abc import Callable, Iterator
from typing import Any


def every_item(read: Callable[..., dict[str, Any]], **request: Any) -> Iterator[dict[str, Any]]:
    """The items of `read(**request)` (a Table's query or scan), page after page. Lazy: a page is
    read only when the caller gets to it, so stopping early reads no further."""
    while True:
        page = read(**request)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        request = {**request, "ExclusiveStartKey": page["LastEvaluatedKey"]}
