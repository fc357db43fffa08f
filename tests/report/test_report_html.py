"""The report's HTML structure: sections, inline PNGs only, no URLs, escaped names."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from aekit import VAE, AnomalyDetector, Autoencoder
from aekit.cli.main import main
from aekit.report.html import Report, table_html, write_report
from aekit.report.sections import model_report


class Page(HTMLParser):
    """Collects section ids, headings, img sources and every attribute value."""

    def __init__(self):
        super().__init__()
        self.sections, self.images, self.attrs, self.h2 = [], [], [], []
        self.tags, self._in_h2 = [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        self.attrs += [v for v in attrs.values() if v]
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)
            self._in_h2 = False


def parse(path) -> tuple[Page, str]:
    text = path.read_text("utf-8")
    page = Page()
    page.feed(text)
    return page, text


def assert_self_contained(page: Page, text: str) -> None:
    assert page.images, "the report has no images"
    assert all(src.startswith("data:image/png;base64,") for src in page.images)
    assert "http://" not in text and "https://" not in text
    assert "script" not in page.tags and "link" not in page.tags
    assert not any(v.startswith(("http:", "https:", "//")) for v in page.attrs)


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(160, 5)), columns=["a", "b", "<b>bold</b>", "d & e", "f"])
    X.iloc[:, 1] = X.iloc[:, 0] * 2 + 0.1 * rng.normal(size=160)
    y = np.zeros(160, dtype=int)
    y[-8:] = 1
    X.iloc[-8:] += 4.0
    return X, y


def test_detector_report_has_every_section_and_only_inline_images(tabular, tmp_path):
    X, y = tabular
    det = AnomalyDetector(n_estimators=2, max_epochs=3, random_state=0).fit(X)
    path = write_report(model_report(det, X, y, source="data.csv"), tmp_path / "r.html")
    page, text = parse(path)
    assert page.sections == ["model-card", "training", "anomaly-scores", "latent-space",
                             "top-anomalies", "detection-quality"]
    assert len(page.images) == 4  # loss, histogram, latent map, ROC + PR
    assert_self_contained(page, text)
    assert "ROC-AUC" in text and "threshold" in text


def test_user_strings_are_escaped(tabular, tmp_path):
    X, _ = tabular
    ae = Autoencoder(2, max_epochs=2, random_state=0).fit(X)
    path = write_report(model_report(ae, X, source="<script>x</script>.csv"), tmp_path / "r.html")
    _, text = parse(path)
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt;" in text
    assert "d &amp; e" in text
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_vae_on_image_rows_gets_sample_and_interpolation_strips(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(80, 16))
    vae = VAE(2, max_epochs=2, random_state=0).fit(X)
    report = model_report(vae, X, image_shape=(4, 4))
    page, text = parse(write_report(report, tmp_path / "r.html"))
    assert "images" in page.sections
    assert "interpolation" in text
    assert_self_contained(page, text)


def test_model_fitted_on_images_gets_image_strips(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(40, 8, 8)).astype(np.float32)
    vae = VAE(2, max_epochs=1, random_state=0).fit(images)
    page, text = parse(write_report(model_report(vae, images), tmp_path / "r.html"))
    assert "images" in page.sections
    assert_self_contained(page, text)


def test_multiclass_labels_colour_the_map_and_skip_roc(tabular, tmp_path):
    X, _ = tabular
    ae = Autoencoder(2, max_epochs=2, random_state=0).fit(X)
    labels = np.arange(len(X)) % 3
    page, text = parse(write_report(model_report(ae, X, labels), tmp_path / "r.html"))
    assert "detection-quality" in page.sections
    assert "need 0/1 labels" in text


def test_table_html_escapes_cells_and_headers():
    html = table_html([("<i>", 1.23456789)], ("<th>", "value"))
    assert "&lt;i&gt;" in html and "&lt;th&gt;" in html and "1.235" in html


def test_write_report_leaves_no_file_when_the_folder_is_missing(tmp_path):
    from aekit.exceptions import DataError

    with pytest.raises(DataError, match="does not exist"):
        write_report(Report("t"), tmp_path / "missing" / "r.html")


def test_cli_report_end_to_end_with_labels_and_sweep(tabular, tmp_path, capsys):
    X, y = tabular
    data = X.assign(is_anomaly=y)
    csv = tmp_path / "data.csv"
    data.to_csv(csv, index=False)
    assert main(["detect", str(csv), "--labels", "is_anomaly", "--epochs", "2",
                 "--n-estimators", "2", "--seed", "0", "--quiet",
                 "--out", str(tmp_path / "scores.csv")]) == 0
    model = tmp_path / "model"
    AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(X).save(model)
    sweep = tmp_path / "sweep.csv"
    pd.DataFrame({"latent_dim": [1, 2], "ae_mse": [0.5, 0.3], "pca_mse": [0.6, 0.4]}).to_csv(
        sweep, index=False)
    out = tmp_path / "report.html"
    assert main(["report", str(model), str(csv), "--labels", "is_anomaly", "--sweep",
                 str(sweep), "--out", str(out)]) == 0
    page, text = parse(out)
    assert "bottleneck-sweep" in page.sections and "detection-quality" in page.sections
    assert_self_contained(page, text)


def test_cli_report_bad_sweep_exits_2_without_output(tabular, tmp_path, capsys):
    X, _ = tabular
    model = tmp_path / "model"
    Autoencoder(2, max_epochs=2, random_state=0).fit(X).save(model)
    csv = tmp_path / "data.csv"
    X.to_csv(csv, index=False)
    out = tmp_path / "report.html"
    assert main(["report", str(model), str(csv), "--sweep", str(tmp_path / "nope"),
                 "--out", str(out)]) == 2
    assert "no sweep table" in capsys.readouterr().err
    assert not out.exists()


def test_a_mixed_tables_schema_shows_input_columns_and_ranges_of_observed_cells(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"size": rng.normal(10, 1, 200), "colour": rng.choice(["r", "g"], 200)})
    table.loc[3, "size"] = np.nan
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    _, text = parse(write_report(model_report(det, table), tmp_path / "r.html"))
    assert "read as" in text and "categorical, one-hot over 2 values" in text
    shown = re.sub("<[^>]+>", " ", re.sub(r"data:image/png;base64,[^\"]+", "", text))
    assert "colour=" not in shown and " nan " not in shown.lower(), shown[shown.find("colour="):][:200]


def test_the_top_anomalies_are_numbered_as_the_command_line_numbers_rows():
    from aekit.report.sections import top_rows_section

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    X.loc[0, "a"] = 40.0  # the data's first row, "row 1" on the command line
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(X)
    report = Report("t")
    top_rows_section(report, det, X, det.anomaly_score(X), n=1)
    html = report.sections[-1].html()
    first = re.search(r"<tr><td[^>]*>1</td><td[^>]*>(\d+)</td>", html)
    assert first and first[1] == "1" and "numbered from 1" in html
