"""Skein's OpenAI Batch API through the official Python `openai` package, unchanged but for base_url.

usage: batch_roundtrip.py BASE_URL roundtrip|cancel DIR

roundtrip: upload 25 requests (request 7 asks for 0 tokens, which the model refuses), create a batch,
poll it to `completed`, download its output and error files, and check every object and line with
the SDK's own pydantic models. cancel: upload 10 requests and cancel the batch while its model is
down (the test makes it so), then poll it to `cancelled`. Prints one JSON summary line; any mismatch
raises (exit status 1).
"""
import json
import sys
import time
from pathlib import Path

import openai
from openai import OpenAI
from openai.types import Batch, FileObject
from openai.types.chat import ChatCompletion

DEADLINE_S = 120


def line(custom_id, question, extra=None):
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]}
    body.update(extra or {})
    return json.dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body})


def upload(client, path, lines):
    path.write_text("\n".join(lines) + "\n")
    with path.open("rb") as f:
        created = client.files.create(file=f, purpose="batch")
    FileObject.model_validate(created.to_dict())
    assert created.bytes == path.stat().st_size, (created.bytes, path.stat().st_size)
    assert created.purpose == "batch"
    return created


def poll(client, batch_id, status):
    deadline = time.monotonic() + DEADLINE_S
    while True:
        batch = client.batches.retrieve(batch_id)
        Batch.model_validate(batch.to_dict())
        if batch.status == status:
            return batch
        if time.monotonic() > deadline:
            raise AssertionError(f"batch {batch_id} is {batch.status}, not {status}, after {DEADLINE_S} s")
        time.sleep(0.1)


def jsonl(client, file_id):
    return [json.loads(l) for l in client.files.content(file_id).text.splitlines() if l.strip()]


def roundtrip(client, workdir):
    lines = [line(f"py-{i}", f"What is {i} plus {i}?", {"max_tokens": 0} if i == 7 else {"temperature": 0.5}) for i in range(25)]
    uploaded = upload(client, workdir / "py-batch.jsonl", lines)
    assert client.files.content(uploaded.id).text == (workdir / "py-batch.jsonl").read_text()
    assert any(f.id == uploaded.id for f in client.files.list())
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h",
                                  metadata={"from": "python"})
    assert batch.metadata == {"from": "python"}, batch.metadata
    done = poll(client, batch.id, "completed")
    counts = done.request_counts
    assert (counts.total, counts.completed, counts.failed) == (25, 24, 1), counts
    output = jsonl(client, done.output_file_id)
    ids = [o["custom_id"] for o in output]
    assert sorted(ids) == sorted(f"py-{i}" for i in range(25) if i != 7), ids
    for o in output:
        assert o["response"]["status_code"] == 200 and o["error"] is None, o
        completion = ChatCompletion.model_validate(o["response"]["body"])
        assert completion.choices[0].message.content, completion
    errors = jsonl(client, done.error_file_id)
    assert [e["custom_id"] for e in errors] == ["py-7"], errors
    assert errors[0]["response"]["status_code"] == 400, errors[0]
    try:
        client.batches.cancel(done.id)
        raise AssertionError("a completed batch was cancelled")
    except openai.BadRequestError as e:
        assert "completed" in str(e), e
    assert any(b.id == done.id for b in client.batches.list())
    deleted = client.files.delete(uploaded.id)
    assert deleted.deleted and deleted.id == uploaded.id
    try:
        client.files.retrieve(uploaded.id)
        raise AssertionError("a deleted file was found")
    except openai.NotFoundError:
        pass
    return {"batch": done.id, "completed": counts.completed, "failed": counts.failed}


def cancel(client, workdir):
    uploaded = upload(client, workdir / "py-cancel.jsonl", [line(f"pc-{i}", f"Question {i}") for i in range(10)])
    batch = client.batches.create(input_file_id=uploaded.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert batch.status == "in_progress", batch.status
    cancelling = client.batches.cancel(batch.id)
    assert cancelling.status in ("cancelling", "cancelled"), cancelling.status
    done = poll(client, batch.id, "cancelled")
    assert done.request_counts.total == 10 and done.request_counts.completed == 0, done.request_counts
    return {"batch": done.id, "status": done.status}


def main():
    base_url, mode, workdir = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    client = OpenAI(base_url=base_url, api_key="sk-unused", max_retries=0)
    summary = roundtrip(client, workdir) if mode == "roundtrip" else cancel(client, workdir)
    print(json.dumps({"ok": True, "openai": openai.__version__, **summary}))


if __name__ == "__main__":
    main()
