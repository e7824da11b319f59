"""The HTML report opens in Chromium with every figure and no request leaving the file."""

from __future__ import annotations

from clusterup.cli import main


def _open(page, path):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return requests


def test_run_report_is_self_contained(tmp_path, page):
    run = tmp_path / "run"
    assert main(["run", "lock-in", "--steps", "60", "--firms", "60", "--snapshots", "15", "--out", str(run), "--quiet"]) == 0
    html = tmp_path / "report.html"
    assert main(["report", str(run), "--out", str(html)]) == 0
    requests = _open(page, html)
    assert [u for u in requests if not u.startswith(("data:", html.as_uri()))] == []
    assert not page.bad, page.bad
    imgs = page.locator("img")
    assert imgs.count() == 4  # Figure 2, Figure 1, indicators, warning score; no adoption curves: no new generation
    for i in range(4):  # every figure decoded and drawn
        assert page.evaluate("(i) => document.images[i].complete && document.images[i].naturalWidth > 0", i)
    assert page.get_by_text("Path class:").count() == 1 and page.locator("table").count() >= 3
    assert page.get_by_text("Early warning").count() == 1
    page.get_by_text("[technology]").first.wait_for()  # the configuration


def test_experiment_report_compares_arms(tmp_path, page):
    exp = tmp_path / "exp"
    args = ["ensemble", "lock-in", "policy-pipelines", "--runs", "2", "--steps", "30", "--firms", "40", "--executor", "serial"]
    assert main([*args, "--out", str(exp), "--quiet"]) == 0
    html = tmp_path / "e.html"
    assert main(["report", str(exp), "--out", str(html)]) == 0
    requests = _open(page, html)
    assert [u for u in requests if not u.startswith(("data:", html.as_uri()))] == []
    assert not page.bad, page.bad
    assert page.get_by_text("scenario=policy-pipelines").count() >= 1
    assert page.evaluate("document.images.length === 1 && document.images[0].naturalWidth > 0")
