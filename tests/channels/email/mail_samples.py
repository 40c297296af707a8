"""Small hand-written messages for the parser tests."""

from __future__ import annotations


def message(
    body: str = "Hello, my order 1234 has not arrived.",
    *,
    headers: dict[str, str | None] | None = None,
    sender: str = "Alice Martin <alice@example.org>",
    to: str = "support@guichet.test",
    subject: str = "Order not received",
    content_type: str = "text/plain; charset=utf-8",
) -> bytes:
    """A one-part message; ``headers`` are added (or replace the defaults)."""
    fields: dict[str, str | None] = {
        "From": sender,
        "To": to,
        "Subject": subject,
        "Message-ID": "<m1@example.org>",
        "Date": "Tue, 03 Dec 2024 10:00:00 +0100",
        "MIME-Version": "1.0",
        "Content-Type": content_type,
        "Content-Transfer-Encoding": "8bit",
    }
    fields.update(headers or {})
    head = "".join(f"{k}: {v}\r\n" for k, v in fields.items() if v is not None)
    return (head + "\r\n" + body.replace("\n", "\r\n")).encode("utf-8")


def multipart(parts: list[str], *, subtype: str = "mixed", headers: str = "", boundary: str = "XYZ") -> bytes:
    """A multipart message; each part is its own headers + blank line + body."""
    head = (
        "From: Alice <alice@example.org>\r\nTo: support@guichet.test\r\nSubject: parts\r\n"
        f"Message-ID: <mp@example.org>\r\nMIME-Version: 1.0\r\n{headers}"
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\npreamble\r\n'
    )
    body = "".join(f"--{boundary}\r\n{p.strip(chr(10))}\r\n" for p in parts) + f"--{boundary}--\r\n"
    return (head + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode("utf-8")
