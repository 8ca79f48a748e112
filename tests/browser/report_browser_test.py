#!/usr/bin/env python3
"""Render papersim's HTML report in headless Chromium and check what a user would see.

1. The hostile report written by report_render_test (titles, abstracts, ids and sources
   full of </script>, <img onerror>, ... payloads that set document.title if they run):
   the page loads without script errors, the payloads did not run and made no elements,
   the related-papers table renders, and a search from the URL (#q=...) filters it.
2. The seeds report from the CLI (`papersim report ../shared/data/seeds/*.txt`): no script
   errors, and exactly one duplicate cluster per title that occurs in several seed files.
3. A control page with the payload injected raw, to prove the checks can fail.

Screenshots and dumped DOMs are kept in --out (a CI artifact). Exit 77 (CTest skip)
when Chromium is missing; parts whose inputs are missing are skipped with a message.
"""

import argparse
import glob
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def find_chromium(explicit):
    for name in [explicit] if explicit else ["chromium", "chromium-browser", "google-chrome"]:
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


class Browser:
    def __init__(self, exe, workdir):
        self.exe = exe
        self.workdir = workdir
        self.runs = 0

    def _run(self, url, extra, timeout=120):
        self.runs += 1
        profile = tempfile.mkdtemp(prefix="profile", dir=self.workdir)
        cmd = [self.exe, "--headless", "--disable-gpu", "--no-sandbox", "--disable-dev-shm-usage",
               "--no-first-run", "--no-default-browser-check", "--disable-extensions",
               "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
               "--user-data-dir=" + profile] + extra + [url]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        shutil.rmtree(profile, ignore_errors=True)
        return proc

    def dom(self, path, fragment=""):
        proc = self._run("file://" + os.path.abspath(path) + fragment, ["--dump-dom"])
        out = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0 or "<html" not in out:
            raise AssertionError("chromium --dump-dom failed (%d): %s" %
                                 (proc.returncode, proc.stderr.decode("utf-8", "replace")[-2000:]))
        return out, console_errors(proc.stderr.decode("utf-8", "replace"))

    def screenshot(self, path, png, height):
        proc = self._run("file://" + os.path.abspath(path),
                         ["--screenshot=" + os.path.abspath(png), "--window-size=1280,%d" % height])
        if not os.path.exists(png):
            raise AssertionError("no screenshot written: " + proc.stderr.decode("utf-8", "replace")[-2000:])


def console_errors(stderr):
    """Console messages that report script errors or refused resources."""
    bad = []
    for line in stderr.splitlines():
        if "CONSOLE" in line and re.search(r"Uncaught|Error|Refused|Failed to load", line):
            bad.append(line.strip())
    return bad


class Checks:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
            print("  ok   " + what)
        else:
            self.failures.append(what)
            print("  FAIL " + what)


def html_attr(dom, name):
    m = re.search(r"<html\b[^>]*\b%s=\"([^\"]*)\"" % re.escape(name), dom)
    return html.unescape(m.group(1)) if m else None


def page_title(dom):
    m = re.search(r"<head>.*?<title>(.*?)</title>", dom, re.S)
    return html.unescape(m.group(1)) if m else None


def cluster_titles(dom):
    """Representative titles of the duplicate clusters, as displayed."""
    titles = []
    for m in re.finditer(r"<details class=\"cluster[^\"]*\"[^>]*>\s*<summary>(.*?)</summary>", dom, re.S):
        summary = m.group(1)
        summary = re.sub(r"<span class=\"(size|tag)\">.*?</span>", "", summary)
        titles.append(html.unescape(re.sub(r"<[^>]+>", "", summary)).strip())
    return titles


def related_rows(dom):
    m = re.search(r"<tbody id=\"rel-body\">(.*?)</tbody>", dom, re.S)
    return m.group(1).count("<tr>") if m else -1


def check_page_health(c, name, dom, console):
    c.check(html_attr(dom, "data-ready") == "1", name + ": inline script ran to the end (data-ready)")
    c.check(html_attr(dom, "data-script-errors") is None,
            name + ": no script errors (window error events: %r)" % html_attr(dom, "data-script-errors"))
    c.check(not console, name + ": no console errors %s" % console[:3])


# ----------------------------------------------------------------- seeds

SEED_HEADERS = {"new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
                "by AK and the research community", "byAK and the research community",
                "Poster", "Poster Session 6", "Halle B"}


def expected_seed_clusters(seed_files):
    """Titles of the papers listed in several seed files, read independently of papersim:
    short non-header lines that occur verbatim in more than one file (abstracts, which
    also repeat, are far longer than 250 characters; author lines occur in one file only)."""
    files_of = {}
    for path in seed_files:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if (not line or line in SEED_HEADERS or len(line) > 250
                        or re.fullmatch(r"[A-Z][a-z]{2} \d{1,2}", line)):
                    continue
                files_of.setdefault(line, set()).add(os.path.basename(path))
    return {t for t, files in files_of.items() if len(files) > 1}


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("PAPERSIM_BIN", ""), help="papersim CLI")
    ap.add_argument("--render-test", default="", help="report_render_test executable")
    ap.add_argument("--data-dir", default=os.environ.get("PAPERSIM_DATA_DIR", ""))
    ap.add_argument("--out", default="report-artifacts", help="where screenshots and DOMs are kept")
    ap.add_argument("--chromium", default=os.environ.get("PAPERSIM_CHROMIUM", ""))
    args = ap.parse_args()

    exe = find_chromium(args.chromium)
    if not exe:
        print("SKIP: chromium not found (install the Debian package 'chromium')")
        return SKIP
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="papersim-browser-")
    browser = Browser(exe, work)
    c = Checks()
    parts = 0
    try:
        # 1. Hostile report from the C++ test.
        hostile = os.path.join(args.out, "hostile.html")
        if args.render_test and os.path.exists(args.render_test):
            env = dict(os.environ, PAPERSIM_REPORT_OUT=os.path.abspath(args.out))
            proc = subprocess.run([args.render_test, "--gtest_filter=ReportRender.WritesReportsForTheBrowserTest"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            c.check(proc.returncode == 0 and os.path.exists(hostile), "render test wrote hostile.html")
        if os.path.exists(hostile):
            parts += 1
            print("hostile report: " + hostile)
            dom, console = browser.dom(hostile)
            with open(os.path.join(args.out, "hostile.dom.html"), "w", encoding="utf-8") as f:
                f.write(dom)
            check_page_health(c, "hostile", dom, console)
            title = page_title(dom)
            c.check(title is not None and "PWNED" not in title and title.startswith("papersim report <hostile>"),
                    "hostile: document.title untouched (%r)" % title)
            c.check("PWNED" not in (html_attr(dom, "data-script-errors") or ""), "hostile: no payload ran")
            c.check(re.search(r"<img\b", dom) is None, "hostile: no <img> element was created")
            c.check(re.search(r"<svg onload", dom) is None and "<b>bold?</b>" not in dom,
                    "hostile: no <svg onload> or <b> element was created")
            c.check("&lt;img src=x onerror=" in dom, "hostile: the payload is shown as text")
            c.check(len(cluster_titles(dom)) == 2, "hostile: 2 clusters shown")
            lazy = os.path.join(args.out, "hostile-lazy.html")
            if os.path.exists(lazy):
                # Every cluster listed by the script from the data blob instead of as markup.
                dom_l, console_l = browser.dom(lazy)
                check_page_health(c, "hostile-lazy", dom_l, console_l)
                c.check("PWNED" not in (page_title(dom_l) or "PWNED") and re.search(r"<img\b", dom_l) is None
                        and re.search(r"<svg onload", dom_l) is None and "<b>bold?</b>" not in dom_l,
                        "hostile-lazy: no payload ran or made elements")
                titles = cluster_titles(dom_l)
                c.check(len(titles) == 2 and titles == cluster_titles(dom),
                        "hostile-lazy: the script lists the same 2 clusters (%r)" % titles[:2])
                c.check("cluster lazy" in dom_l and "&lt;img src=x onerror=" in dom_l,
                        "hostile-lazy: clusters built by the script show the payload as text")
            c.check(related_rows(dom) == 10, "hostile: related table shows 10 rows (got %d)" % related_rows(dom))
            dom_q, console_q = browser.dom(hostile, "#q=revised-of-0")
            check_page_health(c, "hostile#q=", dom_q, console_q)
            c.check(related_rows(dom_q) == 1 and "revised-of-0" in dom_q,
                    "hostile: search from the URL filters the related table to 1 row (got %d)" % related_rows(dom_q))
            browser.screenshot(hostile, os.path.join(args.out, "hostile.png"), 2400)
            c.check(True, "hostile: screenshot " + os.path.join(args.out, "hostile.png"))

            # 3. Control: the same page with a raw payload and no CSP must fail the checks.
            with open(hostile, encoding="utf-8") as f:
                page = f.read()
            page = re.sub(r"<meta http-equiv=\"Content-Security-Policy\"[^>]*>", "", page)
            page = page.replace("<main>", "<main><img src=x onerror=\"document.title='PWNED-control'\">"
                                "<script>undefinedFunctionOfTheControl()</script>", 1)
            control = os.path.join(work, "control.html")
            with open(control, "w", encoding="utf-8") as f:
                f.write(page)
            dom_c, console_c = browser.dom(control)
            c.check(page_title(dom_c) == "PWNED-control" and re.search(r"<img\b", dom_c),
                    "control: an injected payload is detected (title %r)" % page_title(dom_c))
            c.check(any("undefinedFunctionOfTheControl" in l for l in console_c),
                    "control: a script error is detected on the console")
        else:
            print("hostile report not available (pass --render-test)")

        # 2. Seeds report from the CLI.
        seeds = sorted(glob.glob(os.path.join(args.data_dir, "seeds", "*.txt"))) if args.data_dir else []
        has_report = False
        if args.bin and os.path.exists(args.bin):
            has_report = subprocess.run([args.bin, "report", "--help"], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL).returncode == 0
        if not seeds:
            print("seeds part skipped: no seeds under PAPERSIM_DATA_DIR (%r)" % args.data_dir)
        elif not has_report:
            print("seeds part skipped: %r has no 'report' subcommand" % args.bin)
        else:
            parts += 1
            out_html = os.path.join(args.out, "seeds.html")
            proc = subprocess.run([args.bin, "report"] + seeds + ["-o", out_html, "--quiet"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            c.check(proc.returncode == 0, "papersim report on the seeds exits 0 (%s)" %
                    proc.stderr.decode("utf-8", "replace").strip()[-300:])
            print("seeds report: %s (%d bytes)" % (out_html, os.path.getsize(out_html)))
            dom, console = browser.dom(out_html)
            with open(os.path.join(args.out, "seeds.dom.html"), "w", encoding="utf-8") as f:
                f.write(dom)
            check_page_health(c, "seeds", dom, console)
            expected = expected_seed_clusters(seeds)
            shown = cluster_titles(dom)
            c.check(len(expected) == 31, "seeds: 31 titles occur in several files (README) (got %d)" % len(expected))
            missing = sorted(expected - set(shown))
            extra = sorted(set(shown) - expected)
            c.check(not missing, "seeds: every repeated title has a cluster (missing %s)" % missing[:3])
            c.check(not extra and len(shown) == len(expected),
                    "seeds: no other cluster (%d shown, extra %s)" % (len(shown), extra[:3]))
            m = re.search(r"<details class=\"cluster[^\"]*\"[^>]*>\s*<summary>[^<]*(?:<[^>]+>[^<]*)*?"
                          r"Self-Supervised Dataset Distillation for Transfer Learning.*?</details>", dom, re.S)
            c.check(m is not None and "<del>" in m.group(0) and "<ins>" in m.group(0),
                    "seeds: the revised abstract's cluster highlights removed and added words")
            c.check(related_rows(dom) > 0, "seeds: related table rendered (%d rows)" % related_rows(dom))
            browser.screenshot(out_html, os.path.join(args.out, "seeds.png"), 2000)
            c.check(True, "seeds: screenshot " + os.path.join(args.out, "seeds.png"))

            # The same report rebuilt from the JSONL outputs of duplicates and related
            # (load_report_inputs) must show the same clusters and the same related lists.
            pairs = os.path.join(work, "pairs.jsonl")
            related = os.path.join(work, "related.jsonl")
            from_files = os.path.join(args.out, "seeds-from-jsonl.html")
            ok = all(subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0
                     for cmd in ([args.bin, "duplicates"] + seeds + ["-o", pairs, "--quiet"],
                                 [args.bin, "related"] + seeds + ["-o", related, "--quiet"],
                                 [args.bin, "report"] + seeds + ["--pairs", pairs, "--related", related,
                                                                 "-o", from_files, "--quiet"]))
            c.check(ok, "seeds: duplicates, related and report --pairs/--related exit 0")
            if ok:
                with open(out_html, encoding="utf-8") as f:
                    direct = f.read()
                with open(from_files, encoding="utf-8") as f:
                    loaded = f.read()
                c.check(cluster_titles(direct) == cluster_titles(loaded),
                        "seeds: the report from JSONL shows the same clusters, in the same order")
                blob = lambda page: re.search(r"\"nb\":(.*?)\}</script>", page, re.S).group(1)
                c.check(blob(direct) == blob(loaded), "seeds: the report from JSONL has the same related lists")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if parts == 0:
        print("SKIP: neither the hostile report nor the CLI seeds report could be made")
        return SKIP
    print("%d checks passed, %d failed, %d chromium runs" % (c.passed, len(c.failures), browser.runs))
    for f in c.failures:
        print("FAILED: " + f)
    return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main())
