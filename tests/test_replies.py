"""Reply rendering: escaping, and splitting into Telegram-sized messages."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.replies import Paragraph, ParagraphBuilder, Reply, plain


def test_user_text_is_escaped_in_html_and_kept_in_plain():
    paragraph = ParagraphBuilder().text("a <b>&").bold("<i>").italic("x>y").build()
    assert paragraph.html == "a &lt;b&gt;&amp;<b>&lt;i&gt;</b><i>x&gt;y</i>"
    assert paragraph.plain == "a <b>&<i>x>y"


def test_short_reply_is_one_chunk():
    reply = Reply("info", "en", (plain("hello"), plain("world")))
    assert reply.html_chunks() == ["hello\n\nworld"]
    assert reply.plain == "hello\n\nworld"


def test_paragraphs_are_packed_and_never_split_when_they_fit():
    paragraphs = tuple(plain(str(i) * 1500) for i in range(5))
    chunks = Reply("info", "en", paragraphs).html_chunks()
    assert all(len(c) <= 4096 for c in chunks)
    assert len(chunks) == 3
    assert chunks[0] == "0" * 1500 + "\n\n" + "1" * 1500


def test_an_oversized_paragraph_is_split_at_spaces():
    words = " ".join(["word"] * 3000)  # 14,999 characters
    chunks = Reply("info", "en", (plain(words),)).html_chunks()
    assert all(len(c) <= 4096 for c in chunks)
    assert " ".join(chunks).split() == words.split()


@given(st.lists(st.text(min_size=0, max_size=6000), min_size=1, max_size=4))
def test_any_text_fits_telegram_after_escaping(texts):
    reply = Reply("info", "en", tuple(ParagraphBuilder().text(t).build() for t in texts))
    chunks = reply.html_chunks()
    assert all(0 < len(chunk) <= 4096 for chunk in chunks)
    assert "".join(chunks).replace("\n", "").replace(" ", "") == "".join(
        p.html for p in reply.paragraphs
    ).replace("\n", "").replace(" ", "")


def test_paragraph_dataclass_is_plain_data():
    assert Paragraph("<b>x</b>", "x").plain == "x"
