"""bench/search.sh's helpers: the corpus and the queries, the search client, the
index's size, and the report. Python's standard library only.

    python3 bench/search.py corpus WORK SENTENCES QUERIES
        WORK/corpus.txt     SENTENCES sentences of 6 to 14 words, one a line, ending with "."
        WORK/bodies.txt     wrk's POST bodies (bench/search-post.lua), other sentences alike
        WORK/queries.tsv    QUERIES mixed queries, "kind<TAB>q", shuffled
        WORK/warmup.tsv     20 more, not measured
        WORK/common.tsv     50 common-word queries, for --search-window 0
    python3 bench/search.py search URL QUERIES OUT [SECONDS]
        every query of QUERIES in turn on one kept-alive connection to URL/search
        (limit 20); the latencies to OUT (JSON); stops issuing after SECONDS
    python3 bench/search.py sizes DATABASE...
        per database, the FTS5 index's pages and the rest (dbstat), in bytes (JSON)
    python3 bench/search.py report WORK ROOT
        bench/SEARCH.md's text, from WORK/results.txt and the JSON files

The vocabulary: 20,000 word forms, ranked; the most common are Spanish function
words (de, la, que, el, en, y, ...), then common Spanish nouns and verbs with their
accents, then made-up words built from Spanish syllables (some with an accent or
an ñ). A word's frequency is 1/rank (Zipf). Every random choice is seeded, so the
same corpus and queries come out on every run."""
import bisect
import collections
import datetime
import http.client
import itertools
import json
import math
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
import unicodedata
import urllib.parse

VOCABULARY = 20_000
KINDS = ("common", "rare", "prefix", "phrase")

FUNCTION_WORDS = """de la que el en y a los del se las por un para con no una su al lo como más pero sus le
ya o este sí porque esta entre cuando muy sin sobre también me hasta hay donde quien desde todo nos durante
todos uno les ni contra otros ese eso ante ellos e esto mí antes algunos qué unos yo otro otras otra él tanto
esa estos mucho quienes nada muchos cual poco ella estar estas algunas algo nosotros mi mis tú te ti tu tus
ellas nuestro nuestra nuestros nuestras esos esas está están fue ser es son era había han ha sido""".split()
COMMON_WORDS = """año años día días vida tiempo mundo país gobierno parte casa ciudad hombre mujer trabajo
historia agua noche mañana puerto faro barco pan canción acción corazón niño niña señor señora árbol música
lámpara marinero tormenta ola olas viento lluvia sol luna estrella camino calle puerta ventana mesa libro
carta palabra nombre familia amigo madre padre hermano pueblo tierra mar río montaña campo fuego luz sombra
jardín café leche azúcar ciudadano policía médico escuela maestro lección pregunta respuesta razón verdad
información educación nación población situación relación atención dirección decisión opinión televisión
después además quizá allí aquí así aún también difícil fácil útil último único público rápido rápidamente
pequeño grande nuevo viejo bueno malo mejor peor primero segundo tercero siempre nunca mucho poco tarde
temprano escribió escribe escribir leer leyó hablar habló dijo decir hacer hizo tener tuvo poder pudo querer
quiso saber supo llegar llegó pasar pasó deber dejar dejó seguir encontrar encontró llamar llamó venir vino
pensar pensó salir salió volver volvió tomar tomó conocer conoció vivir vivió sentir sintió tratar mirar miró
contar contó empezar empezó esperar esperó buscar buscó existir entrar entró trabajar trabajó perder perdió
""".split()
ONSETS = ["", "b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "ch", "ll", "br", "cr", "dr", "gr",
          "pr", "tr", "pl", "cl", "fl", "j", "z", "qu", "gu", "ñ", "bl", "fr"]
VOWELS = ["a", "e", "i", "o", "u", "a", "e", "o", "a", "e"]
ACCENTED = {"a": "á", "e": "é", "i": "í", "o": "ó", "u": "ú"}
CODAS = ["", "", "", "", "n", "s", "r", "l"]
ENDINGS = ["", "", "", "", "ción", "mente", "ado", "ada", "ido", "ida", "ero", "era", "dad", "oso", "osa", "ista",
           "ismo", "ía", "ez", "ar", "er", "ir", "ando", "iendo"]


def folded(word):
    """The form the index keeps (unicode61, remove_diacritics 2): no case, no accents."""
    return "".join(c for c in unicodedata.normalize("NFD", word.lower()) if not unicodedata.combining(c))


def vocabulary(rng):
    words, seen = [], set()

    def add(word):
        key = folded(word)
        if key not in seen:
            seen.add(key)
            words.append(word)

    for word in FUNCTION_WORDS + COMMON_WORDS:
        add(word)
    while len(words) < VOCABULARY:
        syllables = [rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS) for _ in range(rng.randint(1, 3))]
        ending = rng.choice(ENDINGS)
        if not any(c in "áéíóú" for c in ending) and rng.random() < 0.15:
            index = rng.randrange(len(syllables))
            syllable = syllables[index]
            vowel = next(i for i, c in enumerate(syllable) if c in "aeiou")
            syllables[index] = syllable[:vowel] + ACCENTED[syllable[vowel]] + syllable[vowel + 1:]
        stem = "".join(syllables)
        if ending[:1] in ("a", "e", "i", "o") and stem[-1] in "aeiouáéíóú":
            stem = stem[:-1]   # guarnalchía, not guarnalchaía
        word = stem + ending
        if len(word) >= 3:
            add(word)
    return words


def corpus(work, sentences, queries):
    rng = random.Random(20261129)
    words = vocabulary(rng)
    cumulative = list(itertools.accumulate(1 / rank for rank in range(1, len(words) + 1)))

    def sentence_words():
        return rng.choices(words, cum_weights=cumulative, k=rng.randint(6, 14))

    def text(tokens):
        return " ".join([tokens[0].capitalize()] + tokens[1:])

    counts = collections.Counter()
    sample = []   # sentences kept for the phrase queries
    with open(f"{work}/corpus.txt", "w", encoding="utf-8") as out:
        for first in range(0, sentences, 10_000):
            lengths = [rng.randint(6, 14) for _ in range(min(10_000, sentences - first))]
            tokens = rng.choices(words, cum_weights=cumulative, k=sum(lengths))
            counts.update(tokens)
            at = 0
            for length in lengths:
                one = tokens[at:at + length]
                at += length
                if len(sample) < 5000 and rng.random() < 5000 / sentences:
                    sample.append(one)
                out.write(text(one) + ".\n")
    # Word forms are distinct once folded, so counting the forms counts the index's terms.
    with open(f"{work}/bodies.txt", "w", encoding="utf-8") as out:
        for _ in range(2000):
            out.write(json.dumps({"author": "User1", "sentence": text(sentence_words())}, ensure_ascii=False) + "\n")

    def present(candidates):
        return [w for w in candidates if counts[w] > 0]

    common = words[:10]
    rare = present(words[5000:20000])
    # Mid-frequency: ranks 100 to 2,000, long enough that 4 or 5 letters are a true prefix.
    middle = [w for w in present(words[100:2000]) if len(w) >= 6]

    def query(kind):
        if kind == "common":
            return rng.choice(common)
        if kind == "rare":
            return rng.choice(rare)
        if kind == "prefix":
            return rng.choice(middle)[:rng.choice((4, 5))] + "*"
        tokens = rng.choice(sample)
        at = rng.randrange(len(tokens) - 1)
        return f'"{tokens[at]} {tokens[at + 1]}"'

    def write(path, kinds):
        with open(path, "w", encoding="utf-8") as out:
            for kind in kinds:
                out.write(f"{kind}\t{query(kind)}\n")

    kinds = [KINDS[i % 4] for i in range(queries)]
    rng.shuffle(kinds)
    write(f"{work}/queries.tsv", kinds)
    write(f"{work}/warmup.tsv", [KINDS[i % 4] for i in range(20)])
    write(f"{work}/common.tsv", ["common"] * 50)
    frequency = [counts[w] for w in words]
    json.dump({
        "sentences": sentences, "tokens": sum(counts.values()), "forms": len(words), "used": sum(1 for f in frequency if f),
        "accented": sum(1 for w in words if w != folded(w)),
        "top": [[w, counts[w]] for w in common], "frequent": words[:50],
        "rank5000": frequency[4999], "rank20000": frequency[-1],
    }, open(f"{work}/corpus.json", "w"), ensure_ascii=False)


def search(url, queries_path, out_path, seconds=None):
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=300)
    results = []
    started = time.monotonic()
    for line in open(queries_path, encoding="utf-8"):
        kind, q = line.rstrip("\n").split("\t")
        if seconds is not None and time.monotonic() - started > seconds:
            break
        path = "/search?" + urllib.parse.urlencode({"q": q, "limit": 20}, quote_via=urllib.parse.quote)
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        elapsed = (time.perf_counter() - start) * 1000
        if response.status != 200:
            sys.exit(f"search: {q!r} answered {response.status}: {body[:300]!r}")
        reply = json.loads(body)
        if reply.get("partial"):
            sys.exit(f"search: {q!r} went without a node: {reply.get('missing')}")
        results.append({"kind": kind, "q": q, "ms": elapsed, "hits": len(reply["hits"]), "truncated": reply["truncated"]})
    connection.close()
    json.dump(results, open(out_path, "w"), ensure_ascii=False)


def sizes(paths):
    out = []
    for path in paths:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        pages = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        page_size, page_count, free = (db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_size", "page_count", "freelist_count"))
        fts = sum(v for name, v in pages.items() if name.startswith("sentences_fts"))
        out.append({
            "path": os.path.basename(path), "sentences": db.execute("SELECT count(*) FROM sentences").fetchone()[0],
            "fts": fts, "rest": sum(pages.values()) - fts, "free": free * page_size, "file": page_count * page_size,
            "tables": {name: v for name, v in sorted(pages.items(), key=lambda item: -item[1])},
        })
        db.close()
    print(json.dumps(out))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def report(work, root):
    values = collections.defaultdict(list)
    for line in open(f"{work}/results.txt"):
        name, value = line.split()
        values[name].append(float(value))
    info = json.load(open(f"{work}/corpus.json"))

    def run(*command):
        try:
            return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return "?"

    code = ["Package.swift", "Sources", "scripts", "bench/search.sh", "bench/search.py", "bench/search-post.lua", "bench/lib.sh"]
    commit = run("git", "rev-parse", "--short", "HEAD") + (" (with uncommitted changes to the code)" if run("git", "status", "--porcelain", "--untracked-files=no", "--", *code) else "")
    model = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    mb = lambda b: f"{b / 1e6:,.1f}"
    median = lambda name: statistics.median(values[name])
    lines = [
        "# Search benchmark (`bench/search.sh`)",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
        f"- Machine: {os.cpu_count()} cores ({model}), {memory} GiB, Linux {os.uname().release}",
        f"- Commit: {commit}; release build; everything on 127.0.0.1 (wrk, the client, the nodes and the balancer share the cores)",
        f"- Corpus: {info['sentences']:,} sentences of 6 to 14 words ({info['tokens']:,} words) drawn from {info['forms']:,} word forms "
        f"({info['used']:,} of them used, {info['accented']:,} with an accent or ñ) at frequency 1/rank; the top ten "
        + ", ".join(f"*{w}* {n:,}" for w, n in info["top"])
        + f"; rank 5,000 occurs {info['rank5000']:,} times, rank 20,000 {info['rank20000']:,}.",
        "",
        "## 1. Insert throughput: with the index ÷ without it",
        "",
        f"POST /sentence through the balancer to two nodes, wrk -t2 -c64 for {int(median('wrk_seconds'))} s, as bench/run.sh measures it, "
        "with 2,000 different sentences of the corpus's kind (bench/search-post.lua); fresh databases every run, "
        f"{len(values['insert_with'])} rounds, with and without interleaved (`--no-search-index` for without).",
        "",
        "| | with the index | without (`--no-search-index`) | ratio | target |",
        "|---|---|---|---|---|",
    ]
    ratio = median("insert_with") / median("insert_without")
    lines.append(f"| POST /sentence at 64 connections, req/s (median) | {median('insert_with'):,.0f} | {median('insert_without'):,.0f} | "
                 f"**{ratio:.2f}** | ≥ 0.85 ({'met' if ratio >= 0.85 else '**missed**'}) |")
    lines.append(f"| every round, req/s | {', '.join(f'{v:,.0f}' for v in values['insert_with'])} | "
                 f"{', '.join(f'{v:,.0f}' for v in values['insert_without'])} | | |")
    if "load_with" in values and "load_without" in values:
        lines.append(f"| loader `--batch 1000`, {info['sentences']:,} sentences, sentences/s (one run each) | {median('load_with'):,.0f} | "
                     f"{median('load_without'):,.0f} | {median('load_with') / median('load_without'):.2f} | |")
    lines += [
        "",
        f"## 2. Search latency: {info['sentences']:,} sentences on two nodes, through the balancer",
        "",
        "`GET /search?q=...&limit=20` on the balancer, one query at a time on one kept-alive connection (Python's http.client), "
        "the time until the whole reply is read. Common: one of the ten most frequent words; rare: a word of frequency rank 5,000 "
        "to 20,000; prefix: the first 4 or 5 letters of a word of rank 100 to 2,000 and `*`; phrase: two adjacent words of a "
        "stored sentence, in quotes. The kinds are shuffled together; 20 queries before them are not counted. "
        "\"truncated\": the query matched more than a node's window and only its newest matches were ranked.",
        "",
        "| queries | window | n | p50 ms | p90 ms | p99 ms | max ms | hits (mean) | truncated | slowest query |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    frequent = {folded(w) for w in info["frequent"]}

    def common_pair(r):
        return r["kind"] == "phrase" and all(folded(w) in frequent for w in r["q"].strip('"').split())

    # Phrases of two very common words apart from the others: the window bounds how
    # many matches are ranked, not how far two long lists are walked to find them.
    subsets = {
        "phrase": lambda r: r["kind"] == "phrase",
        f"phrase: both words among the {len(frequent)} commonest": common_pair,
        "phrase: the others": lambda r: r["kind"] == "phrase" and not common_pair(r),
    }

    def latency_rows(results, window, kinds):
        rows = []
        for kind in kinds:
            chosen = [r for r in results if kind == "all" or subsets.get(kind, lambda r: r["kind"] == kind)(r)]
            if not chosen:
                continue
            ms = [r["ms"] for r in chosen]
            slowest = max(chosen, key=lambda r: r["ms"])
            rows.append(
                f"| {'**all**' if kind == 'all' else kind} | {window} | {len(ms)} | {percentile(ms, 50):.1f} | {percentile(ms, 90):.1f} | "
                f"{'**' if kind == 'all' else ''}{percentile(ms, 99):.1f}{'**' if kind == 'all' else ''} | {max(ms):.1f} | "
                f"{statistics.mean(r['hits'] for r in chosen):.1f} | {sum(r['truncated'] for r in chosen)} | `{slowest['q']}` ({slowest['ms']:.0f} ms) |"
            )
        return rows

    mixed = json.load(open(f"{work}/latency.json"))
    lines += latency_rows(mixed, "2,000 (default)", KINDS + tuple(list(subsets)[1:]) + ("all",))
    window0 = json.load(open(f"{work}/latency-window0.json")) if os.path.exists(f"{work}/latency-window0.json") else []
    lines += latency_rows(window0, "0 (rank every match)", ("common",))
    p99 = percentile([r["ms"] for r in mixed], 99)
    lines.append("")
    lines.append(f"Target p99 ≤ 50 ms over all kinds: {p99:.1f} ms, {'met' if p99 <= 50 else '**missed**'}."
                 + (f" Window 0 ran {len(window0)} of 50 common-word queries (bounded to {int(median('window0_seconds'))} s)." if window0 else ""))
    empty = [r for r in mixed if r["hits"] == 0]
    if empty:
        lines.append(f"Queries with no hits: {len(empty)} (e.g. `{empty[0]['q']}`), though every query was taken from the stored text.")
    lines += [
        "",
        f"## 3. Index size ÷ data size, the same {info['sentences']:,} sentences",
        "",
        "Pages per table and index by SQLite's `dbstat` after the nodes stopped: the FTS5 index is every `sentences_fts*` "
        "b-tree (data, idx, docsize, config); the rest is the sentences table and its indexes. Built by the triggers while the "
        "loader stored the sentences (`--batch 1000`), and, for node A of part 4, by the catch-up at first start.",
        "",
        "| node | sentences | FTS5 index MB | rest MB | index ÷ rest | database file MB |",
        "|---|---|---|---|---|---|",
    ]
    for label, name in (("loaded with the index", "sizes-indexed.json"), ("indexed at first start", "sizes-catchup.json")):
        if not os.path.exists(f"{work}/{name}"):
            continue
        for node in json.load(open(f"{work}/{name}")):
            lines.append(f"| {node['path'].split('.')[0].upper()}, {label} | {node['sentences']:,} | {mb(node['fts'])} | {mb(node['rest'])} | "
                         f"**{node['fts'] / node['rest']:.2f}** | {mb(node['file'])} |")
    if os.path.exists(f"{work}/sizes-plain.json"):
        for node in json.load(open(f"{work}/sizes-plain.json")):
            lines.append(f"| {node['path'].split('.')[0].upper()}, `--no-search-index` | {node['sentences']:,} | – | {mb(node['rest'])} | – | {mb(node['file'])} |")
    lines += [
        "",
        "## 4. Indexing an existing database at first start",
        "",
        "Node A's database from a load with `--no-search-index`, started normally: the node indexes the stored sentences "
        "before it listens (with a progress line per 50,000), then started once more. Until it listens, as scripts/cluster.sh "
        "sees the port file; includes the start-up `quick_check`.",
        "",
        "| start | sentences | until listening (s) | progress lines logged |",
        "|---|---|---|---|",
        f"| first, indexing | {int(median('catchup_sentences')):,} | **{median('catchup_first'):.2f}** | {int(median('catchup_lines'))} |",
        f"| second | {int(median('catchup_sentences')):,} | **{median('catchup_second'):.2f}** | {int(median('catchup_second_lines'))} |",
        f"| for comparison: the same database's first start with `--no-search-index` | {int(median('catchup_sentences')):,} | {median('catchup_plain'):.2f} | |",
        "",
        f"Whole benchmark: {median('total_seconds') / 60:.1f} minutes (without the build).",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    command, arguments = sys.argv[1], sys.argv[2:]
    if command == "corpus":
        corpus(arguments[0], int(arguments[1]), int(arguments[2]))
    elif command == "search":
        search(arguments[0], arguments[1], arguments[2], float(arguments[3]) if len(arguments) > 3 else None)
    elif command == "sizes":
        sizes(arguments)
    elif command == "report":
        report(arguments[0], arguments[1])
    else:
        sys.exit(f"unknown command {command}")
