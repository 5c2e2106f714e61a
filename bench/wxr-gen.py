#!/usr/bin/env python3
"""Writes a large WordPress export (WXR 1.2) for measuring `moderato import
wordpress` (docs/PERFORMANCE.md, "Import").

    python3 bench/wxr-gen.py --comments 1000000 --per-post 200 > big.xml

Each post has --per-post comments: about a third are replies (some written
before their parent in the file, as real exports have), statuses are mixed
like a real blog's (mostly approved, some pending, spam and trash, a few
pingbacks), and the text is a few sentences of HTML of about --text bytes.
Deterministic for a given --seed. Writes to standard output, a line at a
time, so any size is made in constant memory.
"""

import argparse
import random
import sys

WORDS = (
    "the a of to and in is it you that he was for on are with as his they be at one have "
    "this from or had by hot word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been "
    "now find any new work part take get place made live where after back little only round "
    "man year came show every good me give our under name very through just form sentence "
    "great think say help low line differ turn cause much mean before move right boy old too "
    "same tell does set three want air well also play small end put home read hand port large "
    "spell add even land here must big high such follow act why ask men change went light kind"
).split()

STATUSES = ["1"] * 80 + ["0"] * 8 + ["spam"] * 8 + ["trash"] * 3 + ["post-trashed"]


def sentence(rng, size):
    words = []
    length = 0
    while length < size:
        word = rng.choice(WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words).capitalize() + "."


def text(rng, size):
    parts = []
    while sum(len(p) for p in parts) < size:
        part = sentence(rng, rng.randint(40, 120))
        roll = rng.random()
        if roll < 0.1:
            part = part.replace(" ", ' <a href="https://example.com/%d">link</a> ' % rng.randint(1, 9999), 1)
        elif roll < 0.2:
            part = part.replace(" ", " <em>really</em> ", 1)
        parts.append(part)
    # Blank lines between paragraphs, as WordPress stores them.
    return "\n\n".join(parts)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--comments", type=int, default=100000)
    parser.add_argument("--per-post", type=int, default=200)
    parser.add_argument("--text", type=int, default=400, help="bytes of text per comment, about")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    out.write(
        '<?xml version="1.0" encoding="UTF-8" ?>\n'
        '<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:wp="http://wordpress.org/export/1.2/">\n<channel>\n'
        "<title>Generated</title>\n<link>https://bench.example</link>\n"
        "<wp:wxr_version>1.2</wp:wxr_version>\n"
        "<wp:base_site_url>https://bench.example</wp:base_site_url>\n"
    )
    comment_id = 0
    post = 0
    written = 0
    while written < args.comments:
        post += 1
        count = min(args.per_post, args.comments - written)
        out.write(
            "<item>\n<title>Post %d</title>\n<link>https://bench.example/%d/post-%d/</link>\n"
            '<guid isPermaLink="false">https://bench.example/?p=%d</guid>\n'
            "<content:encoded><![CDATA[<p>%s</p>]]></content:encoded>\n"
            "<wp:post_id>%d</wp:post_id>\n<wp:post_name>post-%d</wp:post_name>\n"
            "<wp:post_type>post</wp:post_type>\n"
            % (post, 2000 + post % 20, post, post, text(rng, 2000), post, post)
        )
        first = comment_id + 1
        ids = list(range(first, first + count))
        # Swap a few neighbours so some replies come before their parent.
        order = ids[:]
        for i in range(0, len(order) - 1, 17):
            order[i], order[i + 1] = order[i + 1], order[i]
        for cid in order:
            parent = 0
            if cid > first and rng.random() < 0.35:
                parent = rng.randint(first, cid - 1)
            kind = "pingback" if rng.random() < 0.01 else "comment"
            status = rng.choice(STATUSES)
            user = rng.randint(1, 5000)
            day = 1 + cid % 28
            out.write(
                "<wp:comment>\n<wp:comment_id>%d</wp:comment_id>\n"
                "<wp:comment_author><![CDATA[Reader %d]]></wp:comment_author>\n"
                "<wp:comment_author_email><![CDATA[reader%d@example.com]]></wp:comment_author_email>\n"
                "<wp:comment_author_url>https://reader%d.example/</wp:comment_author_url>\n"
                "<wp:comment_author_IP><![CDATA[192.0.2.%d]]></wp:comment_author_IP>\n"
                "<wp:comment_date><![CDATA[2019-03-%02d 12:%02d:%02d]]></wp:comment_date>\n"
                "<wp:comment_date_gmt><![CDATA[2019-03-%02d 11:%02d:%02d]]></wp:comment_date_gmt>\n"
                "<wp:comment_content><![CDATA[%s]]></wp:comment_content>\n"
                "<wp:comment_approved><![CDATA[%s]]></wp:comment_approved>\n"
                "<wp:comment_type><![CDATA[%s]]></wp:comment_type>\n"
                "<wp:comment_parent>%d</wp:comment_parent>\n"
                "<wp:comment_user_id>0</wp:comment_user_id>\n"
                "<wp:commentmeta><wp:meta_key><![CDATA[akismet_result]]></wp:meta_key>"
                "<wp:meta_value><![CDATA[false]]></wp:meta_value></wp:commentmeta>\n"
                "</wp:comment>\n"
                % (
                    cid, user, user, user, user % 250, day, cid % 60, cid % 60,
                    day, cid % 60, cid % 60, text(rng, args.text), status, kind, parent,
                )
            )
        comment_id += count
        written += count
        out.write("</item>\n")
    out.write("</channel>\n</rss>\n")


if __name__ == "__main__":
    main()
