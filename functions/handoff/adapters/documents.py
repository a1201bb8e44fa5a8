"""Documents in S3: quarantined (rejected) events and launch packets."""

import json
from datetime import UTC, datetime
from typing import Any

# EventBridge takes 256 KiB per event: anything larger was never a deliverable CRM event.
MAX_QUARANTINED_EVENT_BYTES = 256 * 1024
MAX_PROBLEMS = 200


def capped_event(raw_event: Any) -> dict[str, Any]:
    """{"event": the event} when it is small enough, else its first MAX_QUARANTINED_EVENT_BYTES as text,
    marked as truncated with its original size."""
    text = raw_event if isinstance(raw_event, str) else json.dumps(raw_event, default=str)
    size = len(text.encode())
    if size <= MAX_QUARANTINED_EVENT_BYTES:
        return {"event": raw_event}
    head = text.encode()[:MAX_QUARANTINED_EVENT_BYTES].decode(errors="ignore")
    return {"event": head, "truncated": True, "eventBytes": size}


class Documents:
    def __init__(self, s3: Any, bucket: str):
        self._s3 = s3
        self._bucket = bucket

    def quarantine(self, raw_event: Any, problems: list[dict[str, str]], now: datetime, name: str) -> str:
        """Keep a rejected event, with why, where an operator can read and replay it. The field errors
        are always kept; an event over MAX_QUARANTINED_EVENT_BYTES is cut and marked (the bucket must not
        become a store of whatever a caller sends)."""
        key = f"quarantine/{now.astimezone(UTC):%Y/%m/%d}/{name}.json"
        body = {"rejectedAt": now.astimezone(UTC).isoformat(), "problems": problems[:MAX_PROBLEMS],
                **capped_event(raw_event)}
        self.put_json(key, body)
        return key

    def put_json(self, key: str, body: Any) -> str:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=json.dumps(body, indent=2).encode(),
                            ContentType="application/json")
        return f"s3://{self._bucket}/{key}"

    def put_text(self, key: str, text: str, content_type: str) -> str:
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=text.encode(), ContentType=content_type)
        return f"s3://{self._bucket}/{key}"

    def presigned_url(self, key: str, expires_in: int = 7 * 24 * 3600) -> str:
        return self._s3.generate_presigned_url("get_object", Params={"Bucket": self._bucket, "Key": key},
                                               ExpiresIn=expires_in)

    def quarantine_keys(self, prefix: str = "quarantine/") -> list[str]:
        """The keys of every quarantined event (under `prefix`, itself under quarantine/), oldest day
        first (keys start with the date)."""
        if not prefix.startswith("quarantine/"):
            raise ValueError(f"not a quarantine prefix: {prefix!r}")
        paginator = self._s3.get_paginator("list_objects_v2")
        return [obj["Key"] for page in paginator.paginate(Bucket=self._bucket, Prefix=prefix)
                for obj in page.get("Contents", [])]

    def quarantined(self, keys: list[str] | None = None) -> list[dict]:
        """Every quarantined event (or those of `keys`: one gone meanwhile, requeued, is left out)."""
        found = []
        for key in self.quarantine_keys() if keys is None else keys:
            try:
                body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
            except self._s3.exceptions.NoSuchKey:
                continue
            found.append({"key": key, **json.loads(body)})
        return found

    def requeued(self, key: str, body: dict) -> str:
        """A quarantined event that was put back on the bus: kept under requeued/ (with when and
        which event went out), gone from quarantine/, so a second requeue does not send it again."""
        target = "requeued/" + key.removeprefix("quarantine/")
        location = self.put_json(target, body)
        self._s3.delete_object(Bucket=self._bucket, Key=key)
        return location
