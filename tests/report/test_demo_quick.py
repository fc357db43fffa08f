"""``aekit demo --quick`` runs end to end and writes the report."""

from __future__ import annotations

from html.parser import HTMLParser


class Sections(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.images = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.ids.append(attrs["id"])
        if tag == "img":
            self.images.append(attrs["src"])


def test_demo_quick_writes_a_report_telling_the_whole_story(demo_report_path):
    text = demo_report_path.read_text("utf-8")
    page = Sections()
    page.feed(text)
    for section in ("summary", "compression-vs-pca", "bottleneck-sweep", "denoising",
                    "anomaly-detection-scores", "anomaly-detection-roc-and-precision-recall",
                    "anomaly-detection-top-anomalies", "vae-samples-and-interpolations"):
        assert section in page.ids
    assert len(page.images) >= 9
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert "IsolationForest" in text and "PCA" in text
    assert "http://" not in text and "https://" not in text


def test_demo_prints_the_summary_table_and_the_report_path(demo_run):
    path, printed = demo_run
    lines = printed.splitlines()
    assert lines[0].split() == ["step", "aekit", "baseline", "note"]
    for step in ("compress", "sweep", "denoise", "detect", "VAE"):
        assert any(line.startswith(step) for line in lines), step
    assert f"report: {path}" in printed
