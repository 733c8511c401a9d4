"""Build the quickstart's sample crawl (``data/crawl-0000{0,1}.warc.gz``) from sample_pages.py.

Deterministic: fixed record ids and dates, so rerunning it rewrites identical files.
Run: python jobs/examples/make_sample.py
"""

from __future__ import annotations

import html
import io
import uuid
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from sample_pages import (
    ARTICLES,
    CONTACT_PAGES,
    HOMEWORK_PAGE,
    NEAR_DUPLICATE_EDITS,
    RIGHTS_PAGES,
    SPAM_PAGES,
)

HERE = Path(__file__).parent
NS = uuid.UUID("6f1c1f2e-9d7a-4c1e-8a53-0c0ffee00001")

NAV = {"en": ["Home", "News", "Food", "Travel", "Science", "Technology", "Garden", "Health", "Sport",
              "Opinion", "Video", "Podcasts", "Newsletter", "Shop", "Subscribe", "Log in"],
       "zh": ["首页", "新闻", "美食", "旅游", "科技", "健康", "体育", "视频", "专题", "订阅", "登录", "注册"]}
COOKIE = {"en": "We use cookies to improve your experience. By continuing you accept our cookie policy. Accept all | Settings",
          "zh": "本网站使用Cookie以改善您的浏览体验。继续浏览即表示您同意我们的Cookie政策。接受 | 设置"}
FOOTER = {"en": "Copyright 2024 Example Media Group. All rights reserved. Privacy | Terms | Contact | Advertise | Careers",
          "zh": "版权所有 2024 示例传媒集团 保留所有权利 隐私政策 | 使用条款 | 联系我们 | 广告合作"}


def page(lang: str, title: str, paragraphs: list[str], related: list[str]) -> str:
    ui = "zh" if lang in ("zh", "ja") else "en"
    nav = "".join(f'<li><a href="/{i}">{html.escape(n)}</a></li>' for i, n in enumerate(NAV[ui]))
    rel = "".join(f'<li><a href="/{html.escape(r)}">{html.escape(r.replace("-", " ").title())}</a></li>'
                  for r in related)
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif}} .nav li{{display:inline}}</style>
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}</script>
</head><body>
<div class="cookie-banner">{COOKIE[ui]}</div>
<header><ul class="nav">{nav}</ul></header>
<main><article><h1>{html.escape(title)}</h1>{body}</article></main>
<aside><h3>Related</h3><ul>{rel}</ul><div class="ad">Advertisement</div></aside>
<footer><p>{FOOTER[ui]}</p></footer>
</body></html>"""


class Crawl:
    def __init__(self, path: Path) -> None:
        self.f = open(path, "wb")  # noqa: SIM115
        self.w = WARCWriter(self.f, gzip=True)
        self.n = 0

    def _headers(self, uri: str, kind: str) -> dict[str, str]:
        self.n += 1
        rid = uuid.uuid5(NS, f"{kind}:{uri}:{self.n}")
        return {"WARC-Record-ID": f"<urn:uuid:{rid}>", "WARC-Date": f"2024-05-{1 + self.n % 28:02d}T12:00:00Z"}

    def response(self, uri: str, body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK",
                 extra: list[tuple[str, str]] | None = None) -> None:
        req = StatusAndHeaders(f"GET /{uri.split('/', 3)[-1]} HTTP/1.1", [("Host", uri.split("/")[2])],
                               is_http_request=True)
        self.w.write_record(self.w.create_warc_record(uri, "request", http_headers=req,
                                                      warc_headers_dict=self._headers(uri, "request")))
        http = StatusAndHeaders(status, [("Content-Type", ctype), ("Content-Length", str(len(body))), *(extra or [])],
                                protocol="HTTP/1.1")
        self.w.write_record(self.w.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=http,
                                                      warc_headers_dict=self._headers(uri, "response")))

    def revisit(self, uri: str) -> None:
        rec = self.w.create_revisit_record(uri, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                           refers_to_uri=uri, refers_to_date="2024-05-01T12:00:00Z",
                                           warc_headers_dict=self._headers(uri, "revisit"))
        self.w.write_record(rec)

    def close(self) -> None:
        self.f.close()


def robots(host: str) -> bytes:
    if host == "news.example.com":
        return b"User-agent: *\nDisallow: /private/\n\nUser-agent: GPTBot\nDisallow: /articles/compost\n"
    if host == "www.example.cn":
        return b"User-agent: CCBot\nDisallow: /articles/winter-running\n"
    return b"User-agent: *\nAllow: /\n"


def main() -> None:
    out = HERE / "data"
    out.mkdir(exist_ok=True)
    slugs = [a[0] for a in ARTICLES]
    hosts = ["news.example.com", "blog.example.org", "www.example.cn"]
    crawls = [Crawl(out / "crawl-00000.warc.gz"), Crawl(out / "crawl-00001.warc.gz")]
    by_slug = {a[0]: a for a in ARTICLES}
    for h, host in enumerate(hosts):
        crawls[h % 2].response(f"https://{host}/robots.txt", robots(host), "text/plain")
    for i, (slug, lang, title, paras) in enumerate(ARTICLES):
        host = "www.example.cn" if lang == "zh" else hosts[i % 2]
        related = [s for s in slugs if s != slug][i % 5: i % 5 + 6]
        crawls[i % 2].response(f"https://{host}/articles/{slug}", page(lang, title, paras, related).encode())
    # Exact duplicates: the same page mirrored on other hosts (and once more in the other file).
    for slug in ("bicycle-maintenance", "rice-cooking"):
        _, lang, title, paras = by_slug[slug]
        doc = page(lang, title, paras, ["compost", "tide-pools"]).encode()
        crawls[0].response(f"https://mirror.example.net/{slug}", doc)
        crawls[1].response(f"http://copycat.example.info/{slug}.html", doc)
    # Near duplicates: syndicated copies with small edits.
    for slug, edits in NEAR_DUPLICATE_EDITS.items():
        _, lang, title, paras = by_slug[slug]
        text = "\n".join(paras)
        for a, b in edits:
            text = text.replace(a, b)
        crawls[1].response(f"https://syndicate.example.net/{slug}", page(lang, title, text.split("\n"), []).encode())
    # A Chinese page served in GBK with the charset only in the HTTP header.
    _, lang, title, paras = by_slug["tea-brewing"]
    gbk = page(lang, title, paras, []).replace('<meta charset="utf-8">', "").encode("gbk")
    crawls[0].response("http://old.example.cn/tea.html", gbk, "text/html; charset=GBK")
    for slug, lang, title, words in SPAM_PAGES:
        crawls[1].response(f"https://spam.example.biz/{slug}", page(lang, title, [words * 12], []).encode())
    for slug, lang, title, paras in CONTACT_PAGES:
        crawls[0].response(f"https://contact.example.org/{slug}", page(lang, title, paras, []).encode())
    slug, lang, title, paras = HOMEWORK_PAGE
    crawls[1].response(f"https://tutor.example.org/{slug}", page(lang, title, paras, []).encode())
    # Boilerplate only: a tag index with links and no article text.
    crawls[0].response("https://news.example.com/tags", page("en", "Tags", [], slugs).replace(
        "<article><h1>Tags</h1></article>", "").encode())
    # Rights: what each page's owner said, in the forms the rights step reads. The press site's
    # tdmrep.json reserves text and data mining under /reserved/ only.
    crawls[0].response("https://press.example.net/.well-known/tdmrep.json",
                       b'[{"location": "/reserved/*", "tdm-reservation": 1, '
                       b'"tdm-policy": "https://press.example.net/policy.json"}, '
                       b'{"location": "/open/*", "tdm-reservation": 0}]', "application/json")
    cc = "https://creativecommons.org/licenses/{}/4.0/"
    rights = {  # slug -> (url, extra headers, extra head markup)
        "lighthouse-keepers": ("https://rights.example.org/lighthouse", [("X-Robots-Tag", "noai, noimageai")], ""),
        "beekeeping-basics": ("https://rights.example.org/bees", [], '<meta name="tdm-reservation" content="1">'),
        "night-sky-guide": ("https://open.example.org/sky", [], f'<link rel="license" href="{cc.format("by")}">'),
        "sourdough-starter": ("https://open.example.org/starter", [("Link", f'<{cc.format("by-nd")}>; rel="license"')],
                              ""),
        "tidal-energy": ("https://open.example.org/tides", [("X-Robots-Tag", "OtherBot: noai")],
                         f'<link rel="license" href="{cc.format("by-nc-sa")}">'),
        "bird-migration": ("https://press.example.net/reserved/birds", [], ""),
        "glacier-retreat": ("https://press.example.net/open/glaciers", [("X-Robots-Tag", "max-snippet: 20")],
                            '<meta name="robots" content="noindex">'),
    }
    for i, (slug, title, paras) in enumerate(RIGHTS_PAGES):
        url, extra, head = rights[slug]
        doc = page("en", title, paras, []).replace("</title>", "</title>" + head, 1)
        crawls[i % 2].response(url, doc.encode(), extra=extra)
    # Records that are not documents, and one bad record.
    crawls[0].response("https://news.example.com/missing", b"<html><body>Not found</body></html>",
                       status="404 Not Found")
    crawls[1].response("https://news.example.com/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "image/png")
    crawls[1].revisit(f"https://{hosts[0]}/articles/sourdough")
    crawls[1].response("https://broken.example.com/page", b"<html>" + b"\x00\x01\x02\x03" * 300, "text/html")
    for c in crawls:
        c.close()


if __name__ == "__main__":
    main()
