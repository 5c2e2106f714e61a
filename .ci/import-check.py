#!/usr/bin/env python3
"""CI: imports every shared export file in ../shared/data/imports/ into a
fresh SQLite database with the real binary, and compares what Moderato
holds (read back through `moderato export`) with what the file holds, read
here independently with Python's own XML parser: which comments, their
statuses, their threading. A second import must add nothing; the
malformed file must fail with a line and column and leave nothing. Then a
real Isso database: the isso 0.14 package from PyPI is started, comments
are posted to it over HTTP (approved, a reply, one deleted with a reply
under it, one held for moderation), and its database is imported and
compared with what Isso stored.

    .ci/import-check.py MODERATO_BINARY SHARED_IMPORTS_DIR [ISSO_EXECUTABLE]

isso-generic.json is Isso's generic import format, which `moderato import
isso` reads too: every comment approved, at the top level.
"""

import gzip
import http.cookies
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

BINARY, SHARED = sys.argv[1], sys.argv[2]
ISSO = sys.argv[3] if len(sys.argv) > 3 else ""
WORK = tempfile.mkdtemp(prefix="import-check-")
failures = []
checked = 0


def fail(message):
    failures.append(message)
    print("  FAIL " + message)


def moderato(db, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODERATO_")}
    env["MODERATO_LOG__LEVEL"] = "warn"
    return subprocess.run(
        [BINARY, *args, "--database", "sqlite://" + db],
        capture_output=True,
        env=env,
        timeout=300,
    )


def exported(db):
    """The comments Moderato holds, by source id, and by id."""
    out = moderato(db, "export")
    if out.returncode != 0:
        raise SystemExit("export failed: " + out.stderr.decode())
    records = [json.loads(line) for line in gzip.decompress(out.stdout).decode().splitlines()]
    comments = [r for r in records if r["type"] == "comment"]
    by_id = {c["id"]: c for c in comments}
    by_source = {}
    for c in comments:
        for origin in c["imported_from"]:
            by_source[origin["id"]] = c
    return by_source, by_id


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child_text(element, name):
    for child in element:
        if local(child.tag) == name:
            return (child.text or "").strip()
    return ""


def compare(name, expected, db):
    """expected: source id -> (status, parent source id or None)."""
    global checked
    by_source, by_id = exported(db)
    if set(by_source) != set(expected):
        fail(
            "%s: imported %s, the file holds %s"
            % (name, sorted(by_source), sorted(expected))
        )
        return
    for source_id, (status, parent) in expected.items():
        comment = by_source[source_id]
        if comment["status"] != status:
            fail("%s: comment %s is %s, the file says %s" % (name, source_id, comment["status"], status))
        got_parent = comment["parent_id"]
        want = by_source[parent]["id"] if parent in by_source else None
        if got_parent != want:
            fail("%s: comment %s replies to %s, the file says %s" % (name, source_id, got_parent, parent))
        checked += 1
    print("  ok: %d comments, statuses and threads as in the file" % len(expected))


def import_twice(name, db, kind, path):
    first = moderato(db, "import", kind, path)
    if first.returncode != 0:
        fail("%s: import failed: %s" % (name, first.stderr.decode().strip()))
        return False
    print("  " + first.stdout.decode().strip().replace("\n", "\n  "))
    again = moderato(db, "import", kind, path)
    if again.returncode != 0 or "comments imported: 0 " not in again.stdout.decode():
        fail("%s: a second import added something: %s" % (name, again.stdout.decode()))
    return True


WP_STATUS = {"1": "approved", "0": "pending", "spam": "spam", "trash": "trash", "post-trashed": "trash"}


def wordpress_expected(path):
    root = ET.parse(path).getroot()
    expected = {}
    for item in root.iter():
        if local(item.tag) != "item":
            continue
        post = child_text(item, "post_id")
        comments = [c for c in item if local(c.tag) == "comment"]
        ids = {child_text(c, "comment_id") for c in comments}
        for c in comments:
            if child_text(c, "comment_type") in ("pingback", "trackback"):
                continue
            parent = child_text(c, "comment_parent")
            expected["%s/%s" % (post, child_text(c, "comment_id"))] = (
                WP_STATUS[child_text(c, "comment_approved")],
                "%s/%s" % (post, parent) if parent not in ("", "0") and parent in ids else None,
            )
    return expected


def disqus_expected(path):
    root = ET.parse(path).getroot()
    dsq_id = lambda e: next((v for k, v in e.attrib.items() if local(k) == "id"), "")
    threads = {}
    for thread in root:
        if local(thread.tag) == "thread":
            link = urllib.parse.urlparse(child_text(thread, "link"))
            threads[dsq_id(thread)] = link.scheme in ("http", "https") and bool(link.netloc)
    expected = {}
    for post in root:
        if local(post.tag) != "post":
            continue
        refs = {local(c.tag): dsq_id(c) for c in post if local(c.tag) in ("thread", "parent")}
        if not threads.get(refs.get("thread")):
            continue
        spam = child_text(post, "isSpam") == "true"
        deleted = child_text(post, "isDeleted") == "true"
        text = child_text(post, "message")
        if not text and not deleted:
            continue
        status = "spam" if spam else "trash" if deleted else "approved"
        expected[dsq_id(post)] = (status, refs.get("parent") or None)
    return expected


def check_file(name):
    path = os.path.join(SHARED, name)
    db = os.path.join(WORK, name + ".db")
    print("== " + name)
    if name.endswith(".json"):
        threads = json.load(open(path))
        expected = {
            "%s#%s" % (t["id"], c["id"]): ("approved", None) for t in threads for c in t["comments"]
        }
        if import_twice(name, db, "isso", path):
            compare(name, expected, db)
        return
    if "malformed" in name:
        out = moderato(db, "import", "wordpress", path)
        message = out.stderr.decode()
        if out.returncode == 0 or ", column " not in message:
            fail("%s: expected a failure naming the line and column, got: %s" % (name, message))
        else:
            print("  ok: refused: " + message.strip().splitlines()[-1])
        if exported(db)[1]:
            fail("%s: a refused file left comments" % name)
        return
    head = open(path, "rb").read(4096).decode("utf-8", "replace")
    kind, expected = (
        ("disqus", disqus_expected(path)) if "<disqus" in head else ("wordpress", wordpress_expected(path))
    )
    if import_twice(name, db, kind, path):
        compare(name, expected, db)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isso_server(directory, moderated):
    port = free_port()
    config = os.path.join(directory, "isso.cfg")
    with open(config, "w") as f:
        f.write(
            "[general]\ndbpath = %s\nhost = http://localhost/\n"
            "[server]\nlisten = http://127.0.0.1:%d/\n"
            "[moderation]\nenabled = %s\n[guard]\nenabled = false\n"
            % (os.path.join(directory, "comments.db"), port, "true" if moderated else "false")
        )
    process = subprocess.Popen(
        [ISSO, "-c", config, "run"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = "http://127.0.0.1:%d" % port
    for _ in range(100):
        try:
            urllib.request.urlopen(base + "/config", timeout=1)
            return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("isso did not start")


def isso_request(method, url, body=None, cookie=None):
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    if cookie:
        request.add_header("Cookie", cookie)
    with urllib.request.urlopen(request, timeout=10) as response:
        cookies = http.cookies.SimpleCookie(response.headers.get("Set-Cookie", ""))
        text = response.read().decode()
        return json.loads(text) if text else None, "; ".join(
            "%s=%s" % (k, v.value) for k, v in cookies.items()
        )


def post(base, uri, title, text, author, parent=None):
    body = {"text": text, "author": author, "email": author.lower() + "@example.com", "title": title}
    if parent:
        body["parent"] = parent
    return isso_request("POST", base + "/new?uri=" + urllib.parse.quote(uri), body)


def check_isso():
    print("== a real Isso database (isso 0.14 from PyPI, comments posted over HTTP)")
    directory = tempfile.mkdtemp(dir=WORK)
    process, base = isso_server(directory, moderated=False)
    try:
        first, first_cookie = post(base, "/posts/one/", "One", "Hello *Isso*", "Ann")
        reply, _ = post(base, "/posts/one/", "One", "A reply", "Ben", parent=first["id"])
        post(base, "/posts/one/", "One", "Replying to the reply", "Cat", parent=reply["id"])
        post(base, "/posts/two/", "Two", "On the second page\n\nwith two paragraphs", "Dee")
        # Deleted with a reply under it: Isso keeps it emptied, mode 4.
        isso_request("DELETE", "%s/id/%d" % (base, first["id"]), cookie=first_cookie)
    finally:
        process.terminate()
        process.wait()
    process, base = isso_server(directory, moderated=True)
    try:
        post(base, "/posts/two/", "Two", "Held for moderation", "Eve")
    finally:
        process.terminate()
        process.wait()
    isso_db = os.path.join(directory, "comments.db")
    rows = sqlite3.connect(isso_db).execute("SELECT id, parent, mode, text FROM comments").fetchall()
    modes = sorted(r[2] for r in rows)
    if modes != [1, 1, 1, 2, 4]:
        fail("isso: expected modes 1, 1, 1, 2, 4 from the posts, Isso stored %s" % modes)
    status = {1: "approved", 2: "pending", 4: "trash"}
    expected = {str(r[0]): (status[r[2]], str(r[1]) if r[1] else None) for r in rows}
    db = os.path.join(WORK, "isso.db")
    if import_twice("isso", db, "isso", isso_db):
        compare("isso", expected, db)
        by_source, _ = exported(db)
        for r in rows:
            if by_source[str(r[0])]["body"] != (r[3] or "").strip("\n"):
                fail("isso: comment %s's text is %r, Isso's %r" % (r[0], by_source[str(r[0])]["body"], r[3]))


for name in sorted(os.listdir(SHARED)):
    if name.endswith((".xml", ".json")):
        check_file(name)
if ISSO:
    check_isso()
else:
    fail("no Isso executable given")

print("\nimport check: %d comments compared, %d failures" % (checked, len(failures)))
sys.exit(1 if failures else 0)
