"""Browser test of the balancer's dashboard, in headless Chromium through Playwright.

Started by run.sh, which installs Chromium and Playwright and starts two storage
nodes and a balancer on 127.0.0.1 (scripts/cluster.sh). It posts sentences (one of
them HTML-looking), opens the dashboard at 1280x800 and 375x812 and checks the
*rendered* page against the nodes' own data; it posts a few more sentences (one
with accents, one HTML-looking) and searches them from the page's search box; then
it kills node B and checks the page shows it down (and a search names it missing),
and brings it back on a read-only volume and checks the page shows that. The node
it starts is stopped again, by PID, whatever happens; run.sh stops the cluster.

Environment: BIN_DIR (node binary), ARTIFACTS (screenshots, logs), CHROMIUM
(browser executable, default /usr/bin/chromium), NODES and NODE_PIDS (NAME=URL and
NAME=PID, comma-separated, in order), BALANCER_URL, DATA (the nodes' databases,
a.sqlite for node A).

Longer than our other files on purpose: one browser session walking one story (a
node down, then back read-only), each check building on the page the last one left.
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import sync_playwright

BIN_DIR = os.environ["BIN_DIR"]
ARTIFACTS = os.environ["ARTIFACTS"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DATA = os.environ["DATA"]
PAGE = 20  # the dashboard's page size (PAGE in dashboard.js)
XSS = "<img src=x onerror=alert(1)>"
# Searched for from the page's box. The HTML-looking one would set window.__xss if
# it ever reached the page as markup.
HTML_LIKE = '<img src=x onerror="window.__xss=1"> <b>vestido</b> rojo'
SEARCHABLE = [
    {"author": "User4", "sentence": "La acción del puerto"},
    {"author": "User5", "sentence": HTML_LIKE},
    {"author": "User4", "sentence": "Un vestido azul para el puerto"},
    {"author": "User5", "sentence": "Vestimenta de gala en el puerto"},
    {"author": "User4", "sentence": "El puerto de noche"},
    {"author": "User5", "sentence": "Barcos en el puerto"},
]

processes = []  # (name, Popen) for everything this test started


# --- processes -----------------------------------------------------------------

def stop_all():
    for _, proc in processes:
        if proc.poll() is None:
            proc.terminate()
    deadline = time.time() + 5
    for _, proc in processes:
        try:
            proc.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def on_signal(signum, _frame):
    # run.sh's timeout sends SIGTERM: unwind through `finally` so everything is stopped.
    raise SystemExit(f"stopped by signal {signum}")


def start(name, argv, log_path, port_file):
    """Runs argv, a server given --port-file port_file, until it listens."""
    log = open(log_path, "w")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    processes.append((name, proc))
    with open(os.path.join(ARTIFACTS, "pids"), "a") as pids:
        pids.write(f"{proc.pid}\n")
    deadline = time.time() + 30
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log_path}")
        if os.path.exists(port_file):
            return proc
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not start listening within 30 s; see {log_path}")


def pairs(variable):
    """NAME=VALUE,... from the environment, in order."""
    return dict(entry.split("=", 1) for entry in os.environ[variable].split(","))


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


# --- checks --------------------------------------------------------------------

results = []


def check(name, condition, detail=""):
    results.append((name, bool(condition)))
    line = f"{'PASS' if condition else 'FAIL'}: {name}"
    if not condition and detail:
        line += f" -- {detail}"
    print(line, flush=True)
    return bool(condition)


def wait_js(page, name, expression, arg=None, timeout=10_000, detail_js=None):
    """Passes when `expression` (a JS function of arg) becomes truthy in the page."""
    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout, polling=200)
        return check(name, True)
    except PlaywrightError as error:
        detail = str(error).splitlines()[0]
        if detail_js:
            try:
                detail = f"page shows {json.dumps(page.evaluate(detail_js, arg))[:600]}"
            except PlaywrightError:
                pass
        return check(name, False, detail)


def merged(lists):
    """The dashboard's "All" order: merge newest-first node lists by (date, id)."""
    heads = {name: list(docs) for name, docs in lists.items()}
    out = []
    while any(heads.values()):
        best = max((name for name in heads if heads[name]), key=lambda n: (heads[n][0]["date"], heads[n][0]["id"]))
        out.append([best, heads[best].pop(0)["id"]])
    return out


CARDS_JS = """() => [...document.querySelectorAll('#pub-list > li.pub-card')].map(li =>
  [li.dataset.node, li.dataset.id])"""

# What the search panel shows, for waiting on it and for failure details.
SEARCH_JS = """() => {
  const error = document.getElementById('search-error');
  return {
    status: document.getElementById('search-status').textContent,
    notes: [...document.querySelectorAll('#search-notes > li')].map(li => li.textContent),
    error: error.hidden ? null : error.textContent,
    hits: [...document.querySelectorAll('#search-results > li')].map(li => ({
      node: li.dataset.node, id: li.dataset.id,
      badge: li.querySelector('.badge').textContent,
      author: li.querySelector('.search-hit__author').textContent,
      date: li.querySelector('time').textContent, dateTitle: li.querySelector('time').title,
      text: li.querySelector('.search-hit__snippet').textContent,
      marks: [...li.querySelectorAll('mark')].map(m => m.textContent),
    })),
  };
}"""


def searched(test):
    """JS for wait_js: true once a search has settled and `test(panel, arg)` holds."""
    return ("(arg) => { if (document.getElementById('search-results').getAttribute('aria-busy') !== 'false') return false;"
            " return (" + test + ")((" + SEARCH_JS + ")(), arg); }")


def search_box(page, words, submit="Enter"):
    """Types `words` into the search box and submits with Enter or the button."""
    page.fill("#search-q", words)
    if submit == "Enter":
        page.press("#search-q", "Enter")
    else:
        page.click("#search-submit")


def api_search(base, query, author=None):
    """The balancer's own answer, which the page is checked against."""
    params = {"q": query, "limit": "1000"}
    if author:
        params["author"] = author
    status, reply = http("GET", f"{base}/search?{urllib.parse.urlencode(params)}")
    if status != 200:
        raise RuntimeError(f"GET /search?q={query} answered {status} {reply}")
    return reply["hits"]


SAME_CARDS_JS = """(expected) => {
  const cards = [...document.querySelectorAll('#pub-list > li.pub-card')];
  return !document.querySelector('#pub-list[aria-busy="true"]') && cards.length === expected.length &&
    cards.every((li, i) => li.dataset.node === expected[i][0] && li.dataset.id === expected[i][1]);
}"""


def main():
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        run()
    finally:
        stop_all()
    failed = sum(1 for _, ok in results if not ok)
    passed = len(results) - failed
    print(f"browser: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


def run():
    node_bin = os.path.join(BIN_DIR, "node")
    pids = pairs("NODE_PIDS")
    nodes = {name: {"pid": int(pids[name]), "url": url} for name, url in pairs("NODES").items()}
    base = os.environ["BALANCER_URL"]
    listing = ", ".join(f"{name}={node['url']}" for name, node in nodes.items())
    print(f"nodes {listing}; balancer {base}", flush=True)

    # Sentences from a few authors, in several requests so the dates differ; more
    # than a page per node, so "Load more" has something to load in every view.
    authors = ["User1", "User2", "User3", "Ada Lovelace"]
    sentences = [{"author": authors[i % 4], "sentence": f"Sentence {i:02d}: the quick brown fox jumps over the lazy dog"}
                 for i in range(1, 57)]
    sentences.insert(23, {"author": "Mallory", "sentence": XSS})
    for start_index in range(0, len(sentences), 4):
        status, reply = http("POST", f"{base}/sentences", sentences[start_index:start_index + 4])
        if status not in (200, 201):
            raise RuntimeError(f"posting sentences failed: {status} {reply}")

    def node_data():
        usage = {name: http("GET", f"{node['url']}/usage")[1]["database"] for name, node in nodes.items()}
        docs = {name: http("GET", f"{base}/nodes/{name}/sentence?order=desc&limit=10000")[1] for name in nodes}
        return usage, docs

    usage, docs = node_data()
    check("nodes hold every posted sentence", sum(usage.values()) == len(sentences), f"usage {usage}")
    check("sentences spread over both nodes", all(count > PAGE for count in usage.values()), f"usage {usage}")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        try:
            exercise(browser, base, nodes, usage, docs, node_data, node_bin)
        finally:
            browser.close()


def open_page(browser, base, width, height, log):
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.on("dialog", lambda dialog: (log["dialogs"].append(dialog.message), dialog.dismiss()))
    page.on("console", lambda msg: msg.type == "error" and log["errors"].append(msg.text))
    page.on("pageerror", lambda error: log["errors"].append(f"uncaught: {error}"))
    page.on("request", lambda request: log["requests"].append(request.url))
    page.goto(base + "/")
    return page


def exercise(browser, base, nodes, usage, docs, node_data, node_bin):
    log = {"dialogs": [], "errors": [], "requests": []}
    page = open_page(browser, base, 1280, 800, log)
    # The phone page opens now too, so its charts have a history by the time it is checked.
    phone = open_page(browser, base, 375, 812, log)
    names = list(nodes)

    # --- desktop: the system ------------------------------------------------
    check("title is System Info", page.title() == "System Info" and page.inner_text("h1").strip() == "System Info")
    wait_js(page, "one card per node, in order",
            "(names) => { const c = [...document.querySelectorAll('#node-cards > .node-card')];"
            " return c.length === names.length && c.every((el, i) => el.dataset.node === names[i]); }",
            names, detail_js="() => [...document.querySelectorAll('#node-cards > *')].map(e => e.dataset.node)")
    wait_js(page, "cards show each node's document count (node /usage)",
            "(usage) => Object.entries(usage).every(([n, c]) => {"
            " const el = document.querySelector(`.node-card[data-node='${n}'] [data-field=database]`);"
            " return el && el.dataset.value === String(c) && el.textContent.replace(/\\D/g, '') === String(c); })",
            usage, detail_js="() => [...document.querySelectorAll('[data-field=database]')].map(e => e.textContent)")
    wait_js(page, "cards show UP, RAM %, CPU %, source and poll age",
            "() => [...document.querySelectorAll('.node-card')].every(c =>"
            " c.querySelector('.pill').textContent === 'UP' &&"
            " /^\\d+ %$/.test(c.querySelector('[data-field=ram]').textContent) &&"
            " /^\\d+ %$/.test(c.querySelector('[data-field=cpu]').textContent) &&"
            " /^(so_info|procfs)$/.test(c.querySelector('[data-field=source]').textContent) &&"
            " /polled .* ago/.test(c.querySelector('.node-card__age').textContent))",
            detail_js="() => [...document.querySelectorAll('.node-card')].map(c => c.innerText)")
    for chart in ("ram", "cpu"):
        wait_js(page, f"{chart.upper()} chart has one line per node with >= 3 points",
                "([id, names]) => { const p = [...document.querySelectorAll(`#${id} path.chart__line`)];"
                " return p.length === names.length && p.every((el, i) => el.dataset.node === names[i] &&"
                " (el.getAttribute('d').match(/[ML]/g) || []).length >= 3); }",
                [f"chart-{chart}", names], timeout=15_000,
                detail_js="([id]) => [...document.querySelectorAll(`#${id} path`)].map(p => p.getAttribute('d'))")
        wait_js(page, f"{chart.upper()} chart has a 0-100 % axis and a legend with current values",
                "([id, names]) => { const labels = [...document.querySelectorAll(`#${id} text`)].map(t => t.textContent);"
                " const legend = [...document.querySelectorAll(`#legend-${id.slice(6)} li`)];"
                " return labels.includes('0 %') && labels.includes('100 %') && legend.length === names.length &&"
                " legend.every((li, i) => li.dataset.node === names[i] && /^\\d+ %$/.test(li.querySelector('.legend__value').textContent)) &&"
                " /now: .*%/.test(document.getElementById(id).getAttribute('aria-label')); }",
                [f"chart-{chart}", names])
    wait_js(page, "balance bar has a segment and a count per node",
            "(usage) => { const seg = document.querySelectorAll('#balance-bar .balance-bar__segment');"
            " const items = [...document.querySelectorAll('#balance-legend li')];"
            " return seg.length === Object.keys(usage).length && items.every(li =>"
            " li.querySelector('.legend__value').textContent.startsWith(String(usage[li.dataset.node]) + ' ')); }",
            usage, detail_js="() => document.getElementById('balance-legend').innerText")

    # --- desktop: publications ---------------------------------------------
    everything = merged(docs)
    wait_js(page, "All: newest page merged from both nodes", SAME_CARDS_JS, everything[:PAGE], detail_js=CARDS_JS)
    page.click("#pub-more")
    wait_js(page, "All: Load more adds the next older page", SAME_CARDS_JS, everything[:2 * PAGE], detail_js=CARDS_JS)
    for name in names:
        page.select_option("#pub-node", name)
        own = [[name, d["id"]] for d in docs[name]]
        wait_js(page, f"{name}: newest page of node {name}", SAME_CARDS_JS, own[:PAGE], detail_js=CARDS_JS)
        wait_js(page, f"{name}: status line counts the node's sentences",
                "([n, total]) => document.getElementById('pub-status').textContent === `Showing ${n} of ${total}`",
                [PAGE, len(own)], detail_js="() => document.getElementById('pub-status').textContent")
        page.click("#pub-more")
        wait_js(page, f"{name}: Load more adds older cards up to the last", SAME_CARDS_JS, own[:2 * PAGE], detail_js=CARDS_JS)
        if len(own) < 2 * PAGE:
            check(f"{name}: Load more is done when all are shown",
                  page.eval_on_selector("#pub-more", "b => b.disabled && b.textContent === 'All loaded'"))

    page.select_option("#pub-node", "")
    page.fill("#pub-author", "User2")
    only = merged({n: [d for d in docs[n] if d["author"] == "User2"] for n in names})
    wait_js(page, "author filter shows only that author's sentences, all nodes", SAME_CARDS_JS, only[:PAGE], detail_js=CARDS_JS)
    check("author filter: every card is by User2",
          page.evaluate("() => [...document.querySelectorAll('.pub-card__author')].every(a => a.textContent === 'User2')"))
    page.fill("#pub-author", "")
    wait_js(page, "clearing the filter shows everyone again", SAME_CARDS_JS, everything[:PAGE], detail_js=CARDS_JS)

    page.click("#pub-more")
    wait_js(page, "All: the HTML-looking sentence is loaded", SAME_CARDS_JS, everything[:2 * PAGE], detail_js=CARDS_JS)
    texts = page.evaluate("() => [...document.querySelectorAll('.pub-card__text')].map(p => p.textContent)")
    check("HTML-looking sentence is shown as literal text", XSS in texts, f"{len(texts)} cards")
    check("no element was injected into the publications list",
          page.evaluate("() => document.querySelectorAll('#pub-list img, #pub-list script, #pub-list iframe').length === 0"
                        " && document.querySelectorAll('img').length === 0"))
    check("the card's text node holds the markup as characters",
          page.evaluate("(xss) => [...document.querySelectorAll('.pub-card__text')].some(p =>"
                        " p.textContent === xss && p.childNodes.length === 1 && p.firstChild.nodeType === Node.TEXT_NODE)", XSS))

    # --- desktop: new sentences arrive while the reader is scrolled down --------
    scroller = page.evaluate_handle(
        "() => { const box = document.getElementById('pub-scroll');"
        " return box.scrollHeight > box.clientHeight && getComputedStyle(box).overflowY === 'auto' ? box : document.scrollingElement; }")
    page.evaluate("(s) => { s.scrollTop = 600; }", scroller)
    time.sleep(0.3)
    anchor_js = """(s) => { const top = s === document.scrollingElement ? 0 : s.getBoundingClientRect().top;
      const li = [...document.querySelectorAll('#pub-list > li')].find(li => li.getBoundingClientRect().bottom > top);
      return [li.dataset.id, li.getBoundingClientRect().top]; }"""
    anchor_id, anchor_top = page.evaluate(anchor_js, scroller)
    live = [{"author": "Live", "sentence": f"Arrived while reading #{i}"} for i in range(3)]
    http("POST", f"{base}/sentences", live)
    wait_js(page, "new sentences appear at the top of the list",
            "(texts) => { const cards = [...document.querySelectorAll('.pub-card__text')].slice(0, 3).map(p => p.textContent);"
            " return texts.every(t => cards.includes(t)); }",
            [s["sentence"] for s in live], timeout=12_000)
    position = page.evaluate(
        "(id) => document.querySelector(`#pub-list > li[data-id='${id}']`).getBoundingClientRect().top", anchor_id)
    check("the reader's scroll position is kept when they arrive", abs(position - anchor_top) <= 2,
          f"card moved from {anchor_top} to {position}")
    check("a notice tells how many new sentences arrived",
          page.evaluate("() => !document.getElementById('pub-new').hidden && /^3 new/.test(document.getElementById('pub-new').textContent)"))
    page.click("#pub-new")
    page.evaluate("() => window.scrollTo(0, 0)")
    time.sleep(2.5)  # let the "new" highlight fade before the screenshot

    # Counts moved on with the new sentences: the cards follow the nodes.
    usage, docs = node_data()
    wait_js(page, "cards follow the counts after new sentences",
            "(usage) => Object.entries(usage).every(([n, c]) =>"
            " document.querySelector(`.node-card[data-node='${n}'] [data-field=database]`).dataset.value === String(c))",
            usage)

    check("no alert or other dialog fired", not log["dialogs"], str(log["dialogs"]))
    check("no console errors or CSP violations", not log["errors"], str(log["errors"][:3]))
    foreign = [url for url in log["requests"] if not url.startswith(base + "/") and not url.startswith("data:")]
    check("the page requests only the balancer's own address", not foreign, str(foreign[:3]))
    # Not a check: a fuller chart makes a better screenshot for the README.
    try:
        page.wait_for_function("() => [...document.querySelectorAll('#chart-cpu path.chart__line')]"
                               ".every(p => (p.getAttribute('d').match(/L/g) || []).length >= 24)", timeout=45_000)
    except PlaywrightError:
        pass
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-1280.png"))

    # --- phone width ---------------------------------------------------------
    wait_js(phone, "375 px: one card per node and charts drawn",
            "(n) => document.querySelectorAll('.node-card').length === n &&"
            " [...document.querySelectorAll('#chart-cpu path.chart__line')].every(p => (p.getAttribute('d').match(/[ML]/g) || []).length >= 2)",
            len(names), timeout=15_000)
    wait_js(phone, "375 px: publications listed", "() => document.querySelectorAll('.pub-card').length >= 20")
    check("375 px: no horizontal scrolling",
          phone.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"),
          str(phone.evaluate("() => document.documentElement.scrollWidth")))
    check("375 px: single column (cards stacked, charts full width)",
          phone.evaluate("() => { const c = [...document.querySelectorAll('.node-card')].map(e => e.getBoundingClientRect());"
                         " const ram = document.getElementById('chart-ram').getBoundingClientRect();"
                         " const cpu = document.getElementById('chart-cpu').getBoundingClientRect();"
                         " return c.every(r => r.left === c[0].left) && ram.left === cpu.left && ram.width > 280; }"))
    height = min(1900, phone.evaluate("() => document.documentElement.scrollHeight"))
    phone.screenshot(path=os.path.join(ARTIFACTS, "dashboard-375.png"), full_page=True,
                     clip={"x": 0, "y": 0, "width": 375, "height": height})

    # On a phone the page itself scrolls: the reader's place must hold there too.
    phone.evaluate("() => window.scrollTo(0, document.getElementById('pub-list').getBoundingClientRect().top + window.scrollY + 500)")
    time.sleep(0.3)
    anchor_id, anchor_top = phone.evaluate(anchor_js, phone.evaluate_handle("() => document.scrollingElement"))
    more = [{"author": "Live", "sentence": f"Arrived on the phone #{i}"} for i in range(2)]
    http("POST", f"{base}/sentences", more)
    wait_js(phone, "375 px: new sentences arrive while scrolled down",
            "(texts) => { const all = [...document.querySelectorAll('.pub-card__text')].map(p => p.textContent);"
            " return texts.every(t => all.includes(t)); }", [s["sentence"] for s in more], timeout=12_000)
    position = phone.evaluate(
        "(id) => document.querySelector(`#pub-list > li[data-id='${id}']`).getBoundingClientRect().top", anchor_id)
    check("375 px: the page's scroll position is kept", abs(position - anchor_top) <= 2,
          f"card moved from {anchor_top} to {position}")

    # --- search, from the box above Publications ------------------------------
    status, reply = http("POST", f"{base}/sentences", SEARCHABLE)
    if status not in (200, 201):
        raise RuntimeError(f"posting the searchable sentences failed: {status} {reply}")
    # The page is checked against the API's own answers, and node B's share of them
    # is what goes missing once it is down.
    puerto = api_search(base, "puerto")
    check("search API finds every sentence with 'puerto', on both nodes",
          sorted(hit["sentence"] for hit in puerto) == sorted(s["sentence"] for s in SEARCHABLE if "puerto" in s["sentence"])
          and {hit["server"] for hit in puerto} == set(names), json.dumps(puerto)[:600])

    accion = api_search(base, "accion")
    search_box(page, "accion")
    wait_js(page, "search box (Enter): 'accion' finds 'La acción del puerto' with 'acción' in a <mark>",
            searched("(s) => s.status.includes('“accion”') && s.hits.length === 1 &&"
                     " s.hits[0].text === 'La acción del puerto' && s.hits[0].marks.join('|') === 'acción'"),
            detail_js=SEARCH_JS)
    shown = page.evaluate(SEARCH_JS)["hits"]
    check("search hit shows its node, author and date",
          len(accion) == 1 and len(shown) == 1 and shown[0]["node"] == accion[0]["server"]
          and shown[0]["badge"] == accion[0]["server"] and shown[0]["author"] == "User4"
          and shown[0]["dateTitle"] == f"{accion[0]['date']} UTC" and shown[0]["date"].strip() != "",
          f"API {accion}, page {shown}")

    search_box(page, "vestido", submit="button")
    wait_js(page, "search button: 'vestido' finds the HTML-looking sentence and the plain one, 'vestido' marked",
            searched("(s, texts) => s.status.includes('“vestido”') && s.hits.length === texts.length &&"
                     " texts.every(t => s.hits.some(h => h.text === t && h.marks.includes('vestido')))"),
            [HTML_LIKE, "Un vestido azul para el puerto"], detail_js=SEARCH_JS)
    check("search: the HTML-looking sentence shows as literal text ('<img …', '<b>vestido</b>')",
          page.evaluate("() => { const t = document.getElementById('search-results').innerText;"
                        " return t.includes('<img src=x onerror=\"window.__xss=1\">') && t.includes('<b>vestido</b> rojo'); }"))
    check("search: no element was made from the sentence's markup and window.__xss is unset",
          page.evaluate("() => document.querySelectorAll('#search-results img, #search-results b, #search-results script').length === 0"
                        " && document.querySelectorAll('img').length === 0 && typeof window.__xss === 'undefined'"))

    vesti = api_search(base, "vesti*")
    search_box(page, "vesti*")
    wait_js(page, "search: the prefix 'vesti*' finds vestido and Vestimenta, each match marked",
            searched("(s, keys) => s.status.includes('“vesti*”') && keys.length === 3 && s.hits.length === keys.length &&"
                     " s.hits.every(h => keys.includes(h.node + '/' + h.id) && h.marks.length > 0 && h.marks.every(m => /^vesti/i.test(m)))"),
            [f"{hit['server']}/{hit['id']}" for hit in vesti], detail_js=SEARCH_JS)

    by_user5 = api_search(base, "puerto", author="User5")
    page.fill("#search-q", "puerto")
    page.select_option("#search-author", "User5")
    wait_js(page, "search: choosing an author searches again, only that author's hits",
            searched("(s, keys) => s.status.includes('“puerto” by User5') && keys.length > 0 && s.hits.length === keys.length &&"
                     " s.hits.every(h => h.author === 'User5' && keys.includes(h.node + '/' + h.id))"),
            [f"{hit['server']}/{hit['id']}" for hit in by_user5], detail_js=SEARCH_JS)
    page.select_option("#search-author", "")

    search_box(page, "zanahoria")
    wait_js(page, "search: no match says so",
            searched("(s) => s.status === 'No sentence matches “zanahoria”.' && s.hits.length === 0 && s.error === null && !s.notes.length"),
            detail_js=SEARCH_JS)

    search_box(page, '"abc')
    wait_js(page, "search: a bad query (unbalanced quote) shows the API's message and no results",
            searched("(s) => s.error !== null && s.error.includes('unbalanced quote') && s.hits.length === 0 && s.status === ''"),
            detail_js=SEARCH_JS)

    asked = sum("/search?" in url for url in log["requests"])
    search_box(page, "   ")
    wait_js(page, "search: an empty query asks for words",
            searched("(s) => s.status === 'Type one or more words to search for.' && s.hits.length === 0 && s.error === null"),
            detail_js=SEARCH_JS)
    time.sleep(0.5)
    check("search: an empty query does not call the API", sum("/search?" in url for url in log["requests"]) == asked,
          f"{sum('/search?' in url for url in log['requests']) - asked} requests")

    # --- a node is drained through the admin API, then undrained ----------------
    token = os.environ["ADMIN_TOKEN"]
    status, reply = http("POST", f"{base}/nodes/A/drain", token=token)
    check("POST /nodes/A/drain answers 200 with draining: true", status == 200 and reply.get("draining") is True, f"{status} {reply}")
    wait_js(page, "1280 px: node A shows DRAINING, B stays UP",
            "() => { const a = document.querySelector(\".node-card[data-node='A']\");"
            " const b = document.querySelector(\".node-card[data-node='B']\");"
            " return a.classList.contains('is-draining') && a.querySelector('.pill').textContent === 'DRAINING' &&"
            " b.querySelector('.pill').textContent === 'UP'; }",
            detail_js="() => [...document.querySelectorAll('.node-card')].map(c => c.innerText)")
    status, reply = http("DELETE", f"{base}/nodes/A/drain", token=token)
    check("DELETE /nodes/A/drain answers 200 with draining: false", status == 200 and reply.get("draining") is False, f"{status} {reply}")
    wait_js(page, "1280 px: node A shows UP again",
            "() => { const a = document.querySelector(\".node-card[data-node='A']\");"
            " return !a.classList.contains('is-draining') && a.querySelector('.pill').textContent === 'UP'; }")

    # --- node A's Litestream: the replica's lag on its card, then Litestream gone --
    wait_js(page, "1280 px: node A's card shows its replica's lag, B's (no Litestream) shows none",
            "() => { const a = document.querySelector(\".node-card[data-node='A'] .node-card__backup\");"
            " const b = document.querySelector(\".node-card[data-node='B'] .node-card__backup\");"
            " return !a.hidden && /^replica: (up to date|\\d+\\.\\d s behind)$/.test(a.textContent) &&"
            " !a.classList.contains('is-late') && b.hidden; }",
            timeout=15_000, detail_js="() => [...document.querySelectorAll('.node-card')].map(c => c.innerText)")
    os.kill(int(os.environ["LITESTREAM_PID"]), signal.SIGKILL)
    wait_js(page, "1280 px: with its Litestream gone, node A's card says the replica is unreachable, the reason on hover",
            "() => { const a = document.querySelector(\".node-card[data-node='A'] .node-card__backup\");"
            " return a.textContent === 'replica: unreachable' && a.classList.contains('is-late') &&"
            " a.title.includes('does not answer') && a.closest('.node-card').getAttribute('aria-label').includes('replica: unreachable'); }",
            timeout=10_000, detail_js="() => document.querySelector(\".node-card[data-node='A']\").innerText")

    # --- a node goes down ------------------------------------------------------
    # Not a child of this process: run.sh started it. Gone once the signal lands
    # and run.sh's shell has reaped it.
    os.kill(nodes["B"]["pid"], signal.SIGKILL)
    deadline = time.time() + 5
    while time.time() < deadline and os.path.exists(f"/proc/{nodes['B']['pid']}"):
        time.sleep(0.05)
    for label, view in (("1280 px", page), ("375 px", phone)):
        wait_js(view, f"{label}: node B shows DOWN with the error, A stays UP",
                "() => { const b = document.querySelector(\".node-card[data-node='B']\");"
                " const a = document.querySelector(\".node-card[data-node='A']\");"
                " const err = b.querySelector('.node-card__error');"
                " return b.classList.contains('is-down') && b.querySelector('.pill').textContent === 'DOWN' &&"
                " !err.hidden && err.textContent.length > 0 && a.querySelector('.pill').textContent === 'UP'; }",
                timeout=10_000,
                detail_js="() => [...document.querySelectorAll('.node-card')].map(c => c.innerText)")
    wait_js(page, "charts' legend marks B down and its line stops",
            "() => document.querySelector(\"#legend-ram li[data-node='B'] .legend__value\").textContent === 'down'")
    page.select_option("#pub-node", "B")
    wait_js(page, "publications for the down node show its error instead of breaking",
            "() => { const e = document.getElementById('pub-error');"
            " return !e.hidden && e.textContent.startsWith('Server B:') && document.querySelectorAll('.pub-card').length === 0; }",
            detail_js="() => document.getElementById('pub-error').textContent")
    page.select_option("#pub-node", "A")
    docs["A"] = http("GET", f"{base}/nodes/A/sentence?order=desc&limit=10000")[1]
    wait_js(page, "publications for the live node still load", SAME_CARDS_JS,
            [["A", d["id"]] for d in docs["A"]][:PAGE], detail_js=CARDS_JS)
    search_box(page, "puerto")
    wait_js(page, "search with node B down: a note says B did not answer, A's hits still show",
            searched("(s, keys) => s.status.includes('“puerto”') && s.notes.some(n => n.startsWith('Node B did not answer: ')) &&"
                     " keys.length > 0 && s.hits.length === keys.length && s.hits.every(h => keys.includes(h.node + '/' + h.id))"),
            [f"A/{hit['id']}" for hit in puerto if hit["server"] == "A"], detail_js=SEARCH_JS)
    page.select_option("#pub-node", "")
    time.sleep(1)
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-1280-node-down.png"))

    # --- the node comes back on a read-only volume -------------------------------
    # Its folder is mounted read-only for it alone (a user and mount namespace of its
    # own): it serves what it has and refuses writes, and the page says so.
    port_b = nodes["B"]["url"].rsplit(":", 1)[1]
    port_file = os.path.join(ARTIFACTS, "node-b-read-only.port")
    start(
        "node B, read-only",
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"', DATA,
         node_bin, "--name", "B", "--host", "127.0.0.1", "--port", port_b, "--port-file", port_file,
         "--database", os.path.join(DATA, "b.sqlite"), "--so-info", os.path.join(DATA, "no-so-info")],
        os.path.join(ARTIFACTS, "node-b-read-only.log"),
        port_file,
    )
    for label, view in (("1280 px", page), ("375 px", phone)):
        wait_js(view, f"{label}: node B back read-only shows READ ONLY with the reason",
                "() => { const b = document.querySelector(\".node-card[data-node='B']\");"
                " const err = b.querySelector('.node-card__error');"
                " return !b.classList.contains('is-down') && b.classList.contains('is-read-only') &&"
                " b.querySelector('.pill').textContent === 'READ ONLY' && !err.hidden && err.textContent.includes('read-only'); }",
                timeout=10_000,
                detail_js="() => [...document.querySelectorAll('.node-card')].map(c => c.innerText)")
    search_box(page, "puerto")
    wait_js(page, "search with node B back (read-only): no note, B's hits are back",
            searched("(s, keys) => s.status.includes('“puerto”') && !s.notes.length &&"
                     " s.hits.length === keys.length && s.hits.every(h => keys.includes(h.node + '/' + h.id))"),
            [f"{hit['server']}/{hit['id']}" for hit in puerto], timeout=15_000, detail_js=SEARCH_JS)
    page.screenshot(path=os.path.join(ARTIFACTS, "dashboard-1280-node-read-only.png"))
    check("no alert or other dialog fired, to the end", not log["dialogs"], str(log["dialogs"]))
    uncaught = [e for e in log["errors"] if e.startswith("uncaught")]
    check("no uncaught script errors, to the end", not uncaught, str(uncaught[:3]))


if __name__ == "__main__":
    # Own process group, so run.sh can stop the browser and everything else by its id.
    try:
        os.setsid()
    except OSError:
        pass
    with open(os.path.join(ARTIFACTS, "pgid"), "w") as handle:
        handle.write(str(os.getpgid(0)))
    try:
        sys.exit(main())
    except SystemExit:
        raise
    except BaseException as error:  # a setup failure is a test failure, with its reason
        print(f"FAIL: test could not run -- {type(error).__name__}: {error}", flush=True)
        failed = sum(1 for _, ok in results if not ok)
        print(f"browser: {len(results) - failed} passed, {failed + 1} failed", flush=True)
        sys.exit(1)
