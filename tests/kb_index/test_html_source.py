"""HTML pages as articles: boilerplate removed, hostile markup neutralised, metadata read."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb_index.html_source import HtmlSourceError, decode_html, parse_html
from kb_index.sources import load_sources

HOSTILE = """<!doctype html>
<html lang="fr-FR"><head><meta charset="utf-8">
<title>Réinitialiser – Colibri</title>
<meta name="keywords" content="compte, mot de passe ,">
<script>var leak = "<p>SCRIPT-IN-HEAD</p>";</script><style>p { color: red }</style>
</head>
<body onload="steal()">
<header><h1>Colibri</h1><nav><a href="/">NAV-HOME</a></nav></header>
<main>
 <nav class="breadcrumb"><a href="/">NAV-CRUMB</a></nav>
 <article>
  <header><h1>Réinitialiser votre mot de passe</h1><p>ARTICLE-BYLINE</p></header>
  <p>Cliquez sur <b>Mot de passe oublié</b> puis sur
     <a href="https://help.example/reset" onclick="evil()">ce lien</a>.
     <img src=x onerror="alert(1)"><a href="javascript:alert(1)">piège</a></p>
  <h2>Étapes</h2>
  <ol><li>Ouvrez la page</li><li>Tapez votre e-mail<ul><li>celui du compte</li></ul></li></ol>
  <table><tr><th>Offre</th><th>Délai</th></tr><tr><td>Pro</td><td>1 h</td></tr></table>
  <aside><p>ASIDE-AD</p><nav>NESTED-NAV</nav></aside>
  <form action="/search"><label>FORM-LABEL</label><input name="q"><button>FORM-BUTTON</button></form>
  <div><script>document.write("SCRIPT-IN-BODY")</script><noscript>NOSCRIPT</noscript></div>
  <iframe src="https://evil.example">IFRAME</iframe>
  <svg><script>alert("SVG-SCRIPT")</script></svg>
 </article>
</main>
<footer>FOOTER <a href="/cgu">CGU</a></footer>
</body></html>
"""


def test_hostile_page_keeps_only_the_article_text() -> None:
    page = parse_html(HOSTILE)
    assert page.title == "Réinitialiser votre mot de passe"
    assert page.lang == "fr-FR"
    assert page.tags == ("compte", "mot de passe")
    body = page.body
    for marker in ("SCRIPT-IN-HEAD", "SCRIPT-IN-BODY", "SVG-SCRIPT", "NAV-", "NESTED-NAV", "ASIDE-AD",
                   "FORM-", "FOOTER", "ARTICLE-BYLINE", "NOSCRIPT", "IFRAME", "Colibri"):
        assert marker not in body, marker
    for hostile in ("<", "onclick", "onerror", "javascript:", "alert", "evil"):
        assert hostile not in body, hostile
    assert "Cliquez sur **Mot de passe oublié** puis sur [ce lien](https://help.example/reset)." in body
    assert "piège" in body  # the text of a javascript: link stays, the link goes
    assert "## Étapes" in body
    assert "1. Ouvrez la page\n2. Tapez votre e-mail\n  - celui du compte" in body
    assert "Offre | Délai\nPro | 1 h" in body
    assert not body.startswith("#")  # the title is not repeated as the first heading


def test_title_falls_back_to_the_title_element_then_any_heading() -> None:
    assert parse_html("<title>From title</title><p>x</p>").title == "From title"
    assert parse_html("<header><h1>Banner</h1></header><p>text</p>").title == "Banner"
    page = parse_html("<title>T</title><main><h1>In main</h1><p>text</p></main>")
    assert page.title == "In main" and page.body == "text"


def test_main_wins_over_the_rest_of_the_body() -> None:
    page = parse_html("<title>T</title><div>OUTSIDE</div><main><p>inside</p></main><p>AFTER</p>")
    assert page.body == "inside"


def test_several_articles_are_all_kept_without_main() -> None:
    page = parse_html("<title>T</title><p>LEAD</p><article>one</article><article>two</article>")
    assert page.body == "one\n\ntwo"


def test_meta_id_and_pre_blocks() -> None:
    page = parse_html('<meta name="guichet-id" content="api-keys"><title>API keys</title>'
                      "<p>Run:</p><pre>curl -H 'Authorization: x'\n  https://api</pre>")
    assert page.id == "api-keys"
    assert page.body == "Run:\n\n```\ncurl -H 'Authorization: x'\n  https://api\n```"


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<p>no title anywhere</p>", "no title"),
        ("<title>Only boilerplate</title><nav>menu</nav><script>x()</script>", "no text left"),
    ],
)
def test_pages_that_cannot_be_articles_say_why(html: str, reason: str) -> None:
    with pytest.raises(HtmlSourceError, match=reason):
        parse_html(html)


def test_declared_charset_is_honoured() -> None:
    data = '<meta charset="iso-8859-1"><title>Délai</title><p>été</p>'.encode("latin-1")
    assert parse_html(decode_html(data)).body == "été"
    with pytest.raises(HtmlSourceError, match="UTF-8"):
        decode_html("<title>é</title>".encode("latin-1"))


def test_html_files_in_a_knowledge_base(tmp_path: Path) -> None:
    (tmp_path / "help").mkdir()
    (tmp_path / "help" / "Réinitialiser.HTML").write_text(HOSTILE, "utf-8")
    (tmp_path / "shipping.htm").write_text(
        "<html><title>Shipping costs</title><body><p>Shipping is free above 50 euros "
        "and the parcel arrives within three days.</p></body></html>", "utf-8")
    (tmp_path / "broken.html").write_text("<nav>only a menu</nav>", "utf-8")
    result = load_sources(tmp_path)
    by_id = {a.id: a for a in result.articles}
    assert set(by_id) == {"help-reinitialiser", "shipping"}  # ids from the path
    assert by_id["help-reinitialiser"].lang == "fr"  # <html lang="fr-FR">
    assert by_id["shipping"].lang == "en"  # no lang attribute: detected
    assert by_id["shipping"].source.endswith("shipping.htm")
    assert [(Path(e.path).name, e.reason) for e in result.errors] == [
        ("broken.html", "no title: add a <title> or an <h1>")
    ]
