"""Readable plain text from an HTML-only email body, with the standard library's HTML parser.

Pure Python on purpose (like ged/sniffing.py): no system library, and nothing of the HTML is ever
rendered. Scripts, styles and the head are dropped; blocks become lines, list items dashes, links
keep their address when it differs from their text.
"""

import re
from html.parser import HTMLParser

_BLOCKS = {
    "address", "article", "blockquote", "div", "dl", "dt", "dd", "fieldset", "figure", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_SKIPPED = {"script", "style", "head", "title", "template", "noscript", "svg", "object"}
_VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr", "source"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0
        self.pre = 0
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            if tag not in _VOID:
                self.skipping += 1
            return
        if self.skipping:
            return
        if tag == "br":
            self.chunks.append("\n")
        elif tag in ("td", "th"):
            self.chunks.append("\t")
        elif tag in _BLOCKS:
            self.chunks.append("\n")
            if tag == "li":
                self.chunks.append("- ")
            if tag == "pre":
                self.pre += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append((href, len(self.chunks)))

    def handle_endtag(self, tag):
        if tag in _SKIPPED:
            self.skipping = max(0, self.skipping - 1)
            return
        if self.skipping:
            return
        if tag in _BLOCKS:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self.chunks.append("\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.chunks[start:]).strip()
            if href.startswith(("http://", "https://", "mailto:")) and href.removeprefix(
                "mailto:"
            ) not in (text, ""):
                self.chunks.append(f" ({href})")

    def handle_data(self, data):
        if self.skipping:
            return
        self.chunks.append(data if self.pre else re.sub(r"\s+", " ", data))


def html_to_text(html: str) -> str:
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [line.strip(" \t").replace("\t", " ") for line in "".join(parser.chunks).split("\n")]
    text = "\n".join(re.sub(r" {2,}", " ", line) for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
