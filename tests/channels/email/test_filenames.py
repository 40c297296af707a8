"""Dangerous attachment names are neutralised, and the change is reported."""

from __future__ import annotations

import pytest

from channels.email.filenames import MAX_NAME_CHARS, safe_filename


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\drivers.sys", "drivers.sys"),
        ("/absolute/path/report.pdf", "report.pdf"),
    ],
)
def test_path_traversal_keeps_only_the_last_component(name: str, safe: str) -> None:
    assert safe_filename(name)[0] == safe


def test_rtl_override_is_removed_and_the_real_extension_neutralised() -> None:
    # Displays as "invoiceexe.pdf" in a bidi-aware viewer; really ends in .exe.
    name, changes = safe_filename("invoice\u202efdp.exe")
    assert "\u202e" not in name
    assert not name.endswith(".exe")
    assert any("bidi" in c for c in changes)


@pytest.mark.parametrize("control", ["\u2066", "\u200f", "\u202d", "\ufeff"])
def test_other_bidi_and_invisible_controls_are_removed(control: str) -> None:
    assert safe_filename(f"re{control}port.txt")[0] == "report.txt"


def test_double_extension_no_longer_ends_in_the_executable_one() -> None:
    name, changes = safe_filename("invoice.pdf.exe")
    assert name == "invoice.pdf_exe.bin"
    assert any("double extension" in c for c in changes)


def test_spaces_before_the_executable_extension_do_not_hide_it() -> None:
    assert safe_filename("photo.jpg                    .scr")[0].endswith(".bin")


def test_control_characters_are_removed() -> None:
    assert safe_filename("a\x00b\nc\x1b.txt") == ("abc.txt", ("control characters removed",))


@pytest.mark.parametrize("name", ["CON", "con.txt", "LPT1.doc", "nul"])
def test_reserved_windows_names_are_prefixed(name: str) -> None:
    safe, changes = safe_filename(name)
    assert safe == "_" + name
    assert changes == ("reserved device name",)


def test_long_names_are_cut_keeping_the_extension() -> None:
    safe, changes = safe_filename("x" * 500 + ".pdf")
    assert len(safe) == MAX_NAME_CHARS
    assert safe.endswith(".pdf")
    assert changes


def test_empty_or_dots_only_names_get_the_fallback() -> None:
    assert safe_filename("..", fallback="attachment.bin")[0] == "attachment.bin"
    assert safe_filename(None)[0] == "attachment"


def test_an_ordinary_name_is_unchanged() -> None:
    assert safe_filename("Facture n°12 (mars).pdf") == ("Facture n°12 (mars).pdf", ())
