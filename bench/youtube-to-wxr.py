#!/usr/bin/env python3
"""Writes YouTube Spam Collection CSV files as a WordPress export (WXR), so
their labels reach the learned scorer the way a site's own history would:
through `moderato import wordpress --train` (CLASS 0 as an approved
comment, CLASS 1 as spam). Used for the figures in docs/SPAM.md, "Training
from an import".

    python3 bench/youtube-to-wxr.py Youtube01-Psy.csv Youtube02-KatyPerry.csv > train.xml
    python3 bench/youtube-to-wxr.py --part first-half Youtube03-LMFAO.csv > history.xml

--part keeps the first or second half of each file's comments, in file
order (the second half is what --tsv writes for `spam eval --test`).
--tsv writes `spam|ham<TAB>text` lines instead of WXR.
"""

import argparse
import csv
import sys
from xml.sax.saxutils import escape


def cdata(text):
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--part", choices=["all", "first-half", "second-half"], default="all")
    parser.add_argument("--tsv", action="store_true")
    args = parser.parse_args()
    out = sys.stdout
    if not args.tsv:
        out.write(
            '<?xml version="1.0" encoding="UTF-8" ?>\n<rss version="2.0" '
            'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
            "<link>https://youtube.example</link>\n"
            "<wp:base_site_url>https://youtube.example</wp:base_site_url>\n"
        )
    for post, name in enumerate(args.files, start=1):
        with open(name, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        half = len(rows) // 2
        rows = {"all": rows, "first-half": rows[:half], "second-half": rows[half:]}[args.part]
        if args.tsv:
            for row in rows:
                text = row["CONTENT"].rstrip("\ufeff").replace("\t", " ").replace("\n", " ")
                out.write("%s\t%s\n" % ("spam" if row["CLASS"] == "1" else "ham", text))
            continue
        out.write(
            "<item>\n<title>%s</title>\n<link>https://youtube.example/%d/</link>\n"
            "<wp:post_id>%d</wp:post_id>\n" % (escape(name), post, post)
        )
        for i, row in enumerate(rows, start=1):
            date = (row.get("DATE") or "").replace("T", " ")[:19]
            if len(date) != 19:
                date = "2014-01-01 00:00:00"
            out.write(
                "<wp:comment><wp:comment_id>%d</wp:comment_id>"
                "<wp:comment_author>%s</wp:comment_author>"
                "<wp:comment_date_gmt>%s</wp:comment_date_gmt>"
                "<wp:comment_content>%s</wp:comment_content>"
                "<wp:comment_approved>%s</wp:comment_approved>"
                "<wp:comment_type>comment</wp:comment_type><wp:comment_parent>0</wp:comment_parent>"
                "</wp:comment>\n"
                % (
                    i,
                    cdata(row["AUTHOR"]),
                    date,
                    cdata(row["CONTENT"].rstrip("\ufeff")),
                    "spam" if row["CLASS"] == "1" else "1",
                )
            )
        out.write("</item>\n")
    if not args.tsv:
        out.write("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
