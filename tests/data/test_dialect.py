"""CSV files are read in their own dialect: delimiter, decimal mark and encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aekit import AnomalyDetector
from aekit.cli.main import main
from aekit.data.dialect import sniff_csv
from aekit.data.io import read_data, write_table
from aekit.exceptions import DataError
from aekit.streaming import score_file


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    values = np.round(rng.normal(size=(300, 4)) * 100, 3)
    values[::30] *= 8
    return pd.DataFrame(values, columns=["alpha", "beta", "gamma", "delta"])


def _european(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, sep=";", decimal=",")


def test_a_semicolon_file_with_decimal_commas_reads_as_the_comma_version(tmp_path, frame):
    (tmp_path / "eu.csv").write_text(_european(frame))
    frame.to_csv(tmp_path / "us.csv", index=False)
    dialect = sniff_csv(tmp_path / "eu.csv")
    assert (dialect.delimiter, dialect.decimal) == (";", ",")
    pd.testing.assert_frame_equal(read_data(tmp_path / "eu.csv").X, read_data(tmp_path / "us.csv").X)


def test_a_semicolon_file_scores_as_the_comma_version_in_memory_and_streamed(tmp_path, frame):
    (tmp_path / "eu.csv").write_text(_european(frame))
    frame.to_csv(tmp_path / "us.csv", index=False)
    det = AnomalyDetector(n_estimators=2, max_epochs=2, random_state=0).fit(
        read_data(tmp_path / "eu.csv").X)
    expected = det.anomaly_score(read_data(tmp_path / "us.csv").X)
    score_file(det, tmp_path / "eu.csv", tmp_path / "s.parquet", chunk_rows=64, progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet").score, expected)


def test_thousands_separators_with_a_decimal_comma(tmp_path):
    (tmp_path / "t.csv").write_text("a;b\n1.234,5;2\n10,25;3\n-7,5;4\n")
    dialect = sniff_csv(tmp_path / "t.csv")
    assert (dialect.delimiter, dialect.decimal, dialect.thousands) == (";", ",", ".")
    assert read_data(tmp_path / "t.csv").X["a"].tolist() == [1234.5, 10.25, -7.5]


def test_integers_in_groups_of_three_beside_decimal_commas_are_thousands(tmp_path):
    rows = "".join(f"{i * 1000 + 925:,};{57 + i},5;{32_526_562 + i:,}\n".replace(",", ".")
                   .replace(".5;", ",5;") for i in range(1, 40))
    (tmp_path / "t.csv").write_text("income;health;population\n" + rows)
    dialect = sniff_csv(tmp_path / "t.csv")
    assert (dialect.decimal, dialect.thousands) == (",", ".")
    X = read_data(tmp_path / "t.csv").X
    assert X["income"].tolist()[:2] == [1925, 2925] and X["health"].tolist()[0] == 58.5
    assert X["population"].tolist()[0] == 32_526_563
    (tmp_path / "p.csv").write_text("a;b\n1.925;x\n2.5;y\n")  # no decimal comma: points
    assert read_data(tmp_path / "p.csv").X["a"].tolist() == [1.925, 2.5]


@pytest.mark.parametrize("sep", ["\t", "|", ","])
def test_tab_pipe_and_comma_delimiters_are_detected(tmp_path, frame, sep):
    (tmp_path / "t.csv").write_text(frame.to_csv(index=False, sep=sep))
    assert sniff_csv(tmp_path / "t.csv").delimiter == sep
    pd.testing.assert_frame_equal(read_data(tmp_path / "t.csv").X, frame)


def test_quoted_delimiters_do_not_mislead_the_sniffer(tmp_path):
    (tmp_path / "t.csv").write_text('a,b\n"1;2",3\n"4;5",6\n')
    assert sniff_csv(tmp_path / "t.csv").delimiter == ","


def test_a_header_with_a_delimiter_over_unsplittable_rows_is_refused(tmp_path):
    (tmp_path / "t.csv").write_text("a;b;c\n1\n2\n3\n")
    with pytest.raises(DataError, match=r"t\.csv: malformed CSV: the header holds ';'"):
        read_data(tmp_path / "t.csv")


def test_a_single_column_file_is_still_a_table(tmp_path):
    (tmp_path / "t.csv").write_text("value\n1.5\n2.5\n")
    assert read_data(tmp_path / "t.csv").X.columns.tolist() == ["value"]


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path, frame):
    (tmp_path / "t.csv").write_bytes(b"\xef\xbb\xbf" + frame.to_csv(index=False).encode())
    assert read_data(tmp_path / "t.csv").X.columns[0] == "alpha"
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(frame)
    score_file(det, tmp_path / "t.csv", tmp_path / "s.csv", progress=False)
    assert len(pd.read_csv(tmp_path / "s.csv")) == len(frame)


def test_a_windows_1252_file_is_refused_with_the_fix_and_read_when_named(tmp_path, frame):
    renamed = frame.rename(columns={"alpha": "température"})
    (tmp_path / "t.csv").write_bytes(renamed.to_csv(index=False).encode("cp1252"))
    with pytest.raises(DataError, match=r"not valid UTF-8 text .*--encoding cp1252"):
        read_data(tmp_path / "t.csv")
    assert read_data(tmp_path / "t.csv", encoding="cp1252").X.columns[0] == "température"
    with pytest.raises(DataError, match=r"unknown encoding 'nope'"):
        read_data(tmp_path / "t.csv", encoding="nope")


def test_the_cli_reads_a_named_encoding_in_fit_and_streamed_score(tmp_path, frame, capsys):
    renamed = frame.rename(columns={"alpha": "température"})
    (tmp_path / "t.csv").write_bytes(_european(renamed).encode("cp1252"))
    assert main(["fit", str(tmp_path / "t.csv"), "--detector", "--n-estimators", "1",
                 "--epochs", "1", "--seed", "0", "--out", str(tmp_path / "det"), "-q"]) == 2
    assert "--encoding cp1252" in capsys.readouterr().err
    assert main(["fit", str(tmp_path / "t.csv"), "--encoding", "cp1252", "--detector",
                 "--n-estimators", "1", "--epochs", "1", "--seed", "0",
                 "--out", str(tmp_path / "det"), "-q"]) == 0
    assert main(["score", str(tmp_path / "det"), str(tmp_path / "t.csv"), "--encoding",
                 "cp1252", "--out", str(tmp_path / "s.parquet"), "-q"]) == 0
    assert f"rows: {len(frame)}" in capsys.readouterr().out


def test_a_line_above_the_header_is_refused_not_read_as_the_header(tmp_path, frame, capsys):
    path = tmp_path / "preamble.csv"
    path.write_text("Weather export, 2024\n" + frame.to_csv(index=False))
    with pytest.raises(DataError, match="line 1 .* it looks like a title or note"):
        read_data(path)
    assert main(["detect", str(path), "--out", str(tmp_path / "s.csv"), "-q"]) == 2
    assert not (tmp_path / "s.csv").exists()


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_excels_sep_line_names_the_delimiter_and_is_skipped_everywhere(tmp_path, frame, sep):
    body = frame.to_csv(index=False, sep=sep, decimal="," if sep == ";" else ".")
    path = tmp_path / "excel.csv"
    path.write_text(f"sep={sep}\n" + body)
    pd.testing.assert_frame_equal(read_data(path).X, frame)
    det = AnomalyDetector(n_estimators=1, max_epochs=1, random_state=0).fit(frame)
    score_file(det, path, tmp_path / "s.csv", progress=False)
    np.testing.assert_allclose(pd.read_csv(tmp_path / "s.csv")["score"],
                               det.anomaly_score(frame), rtol=1e-9)
    gaps = frame.astype({frame.columns[0]: float})
    gaps.iloc[2, 0] = np.nan
    path.write_text(f"sep={sep}\n" + gaps.to_csv(index=False, sep=sep,
                                                 decimal="," if sep == ";" else "."))
    assert main(["impute", str(path), "--out", str(tmp_path / "f.csv"), "--epochs", "2",
                 "-q"]) == 0
    written = (tmp_path / "f.csv").read_text().splitlines()
    if sep == "\t":  # a .csv out of a tab file is comma-separated: no hint to keep
        assert written[0] == ",".join(frame.columns)
    else:  # the file's own text, its hint line first
        assert written[0] == f"sep={sep}" and written[1] == body.splitlines()[0]
    assert read_data(tmp_path / "f.csv").X.notna().all().all()


def test_rs_header_over_row_names_still_reads(tmp_path, frame):
    path = tmp_path / "r.csv"
    body = frame.to_csv(sep=",")  # the index column, its header cell then dropped, as R does
    path.write_text(body.split("\n", 1)[0].lstrip(",") + "\n" + body.split("\n", 1)[1])
    assert read_data(path).X.shape[0] == len(frame)


def test_none_is_a_value_and_na_a_missing_cell_alike_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(0)
    n = 300
    damage = rng.choice(["None", "Minor", "Substantial"], n, p=[0.8, 0.15, 0.05])
    speed = np.round(rng.normal(100, 10, n), 1).astype(object)
    speed[::25] = "NA"
    path = tmp_path / "strikes.csv"
    pd.DataFrame({"damage": damage, "speed": speed}).to_csv(path, index=False)
    frame = read_data(path).X
    assert frame["damage"].eq("None").sum() == (damage == "None").sum()  # never missing
    assert frame["speed"].isna().sum() == 12
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


def test_utf16_with_its_byte_order_mark_reads_in_memory_and_streamed(tmp_path, frame):
    path = tmp_path / "unicode.tsv"
    path.write_bytes(frame.to_csv(sep="\t", index=False).encode("utf-16"))
    assert sniff_csv(path).encoding == "utf-16"
    read = read_data(path).X
    pd.testing.assert_frame_equal(read, frame)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(read)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


def _airports(n: int = 240) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    continent = rng.choice(["NA", "EU", "AS", "SA"], n, p=[0.4, 0.3, 0.2, 0.1]).astype(object)
    continent[::30] = None
    return pd.DataFrame({"continent": continent,
                         "elevation": np.round(rng.normal(300, 80, n), 1)})


def test_a_quoted_na_is_text_and_an_unquoted_one_missing_in_memory_and_streamed(tmp_path):
    table = _airports()
    path = tmp_path / "airports.csv"
    # as writers that quote text write it: "NA" is North America, a bare NA a gap
    lines = ["continent,elevation"] + [
        f"{'NA' if pd.isna(c) else chr(34) + c + chr(34)},{e}"
        for c, e in zip(table["continent"], table["elevation"])]
    path.write_text("\n".join(lines) + "\n")
    frame = read_data(path).X
    assert frame["continent"].eq("NA").sum() == table["continent"].eq("NA").sum()
    assert frame["continent"].isna().sum() == 8
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    assert "NA" in det.input_spec_.columns[0].levels
    assert "'NA' read as a value (quoted in the file)" in det.input_spec_.columns[0].describe()
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


@pytest.mark.parametrize(("na_rep", "continent_na_is"), [("", "text"), ("NA", "missing")])
def test_a_quoted_na_is_missing_text_where_missing_numbers_are_written_so_too(
        tmp_path, na_rep, continent_na_is):
    import csv

    table = _airports()
    table.loc[::45, "elevation"] = np.nan
    path = tmp_path / "quoted.csv"
    table.to_csv(path, index=False, quoting=csv.QUOTE_ALL, na_rep=na_rep)
    frame = read_data(path).X
    text = table["continent"].eq("NA").sum()
    if continent_na_is == "text":  # the gaps are "", so a quoted "NA" is North America
        assert frame["continent"].eq("NA").sum() == text
        assert frame["continent"].isna().sum() == table["continent"].isna().sum()
    else:  # missing numbers are "NA": so are missing continents, not North America
        assert not frame["continent"].eq("NA").any()
        assert frame["continent"].isna().sum() == table["continent"].isna().sum() + text
    np.testing.assert_array_equal(frame["elevation"], table["elevation"])
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


def test_text_that_spells_a_missing_value_is_written_quoted_and_reads_back_as_text(tmp_path):
    table = _airports()
    back = read_data(write_table(tmp_path / "out.csv", table)).X
    pd.testing.assert_series_equal(back["continent"].astype(object),
                                   table["continent"].astype(object), check_names=False)


def test_quoted_fields_across_lines_past_the_sampled_lines_read(tmp_path):
    notes = ["line one\nline two\nline three" if i % 2 else "short" for i in range(150)]
    table = pd.DataFrame({"id": range(150), "note": notes, "value": np.arange(150) * 0.5})
    path = tmp_path / "notes.csv"
    table.to_csv(path, index=False)  # the 100th record starts past the 200th line
    pd.testing.assert_frame_equal(read_data(path).X, table)


def test_a_short_row_is_named_by_its_line_below_multi_line_records(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_text('a,b,c\n1,"two\nlines",3\n4,5\n')
    with pytest.raises(DataError, match="line 4 has 2 fields"):
        sniff_csv(path)


@pytest.mark.parametrize("name", ["table.tsv", "table.csv"])
def test_a_space_separated_table_is_refused_with_how_to_convert_it(tmp_path, name):
    path = tmp_path / name
    path.write_text("height weight age\n1.70 65 31\n1.82 80 45\n1.64 58 27\n")
    with pytest.raises(DataError, match=r"separated by spaces.*sep=r'\\s\+'"):
        read_data(path)


def test_a_long_space_separated_header_is_quoted_cut_with_an_ellipsis(tmp_path):
    path = tmp_path / "wide.dat"
    names = " ".join(f"measure_{j}" for j in range(12))
    path.write_text(names + "\n" + "\n".join(" ".join(["1.5"] * 12) for _ in range(4)) + "\n")
    with pytest.raises(DataError, match=r"line 1: 'measure_0 measure_1 .{30,}\.\.\.'\)"):
        read_data(path)


def test_a_file_without_a_header_is_refused_not_read_one_row_short(tmp_path):
    rows = np.random.default_rng(0).normal(size=(20, 3))
    np.savetxt(tmp_path / "saved.csv", rows, delimiter=",")
    with pytest.raises(DataError, match=r"saved.csv: the first line holds only numbers.*no "
                                        r"header"):
        read_data(tmp_path / "saved.csv")
    assert main(["detect", str(tmp_path / "saved.csv"), "--out", str(tmp_path / "s.csv"),
                 "-q"]) == 2 and not (tmp_path / "s.csv").exists()
    # numbered columns (pandas' names for unnamed ones) and years name their columns
    for names in ([0, 1, 2], [2019, 2020, 2021]):
        pd.DataFrame(rows, columns=names).to_csv(tmp_path / "named.csv", index=False)
        assert read_data(tmp_path / "named.csv").X.shape == (20, 3)


@pytest.mark.parametrize("first", ["6,4,setosa,versicolor,virginica", "6,4,setosa,versicolor"])
def test_scikit_learns_line_of_counts_and_class_names_is_no_header(tmp_path, first):
    path = tmp_path / "iris.csv"
    rows = ["5.1,3.5,1.4,0.2,0", "4.9,3.0,1.4,0.2,0", "7.0,3.2,4.7,1.4,1",
            "6.4,3.2,4.5,1.5,1", "6.3,3.3,6.0,2.5,2", "5.8,2.7,5.1,1.9,2"]
    path.write_text("\n".join([first, *rows]) + "\n")
    with pytest.raises(DataError, match=r"number of rows \(6\) and of features \(4\).*no "
                                        r"header"):
        read_data(path)
    path.write_text("\n".join(["2019,2020,a,b,c", *rows]) + "\n")  # years name columns
    assert read_data(path).X.shape == (6, 5)


def test_a_single_column_of_two_word_names_is_still_a_table(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("full name\nAnn Lee\nBo Park\nCy Diaz\n")
    assert read_data(path).X["full name"].tolist() == ["Ann Lee", "Bo Park", "Cy Diaz"]
    path.write_text("city\nNew York City\nSalt Lake City\nSan Jose Ca\n")
    assert read_data(path).X["city"].tolist()[0] == "New York City"


def test_fills_in_a_semicolon_file_keep_its_thousands_dots_and_decimal_comma(tmp_path):
    rng = np.random.default_rng(0)
    size = rng.normal(10, 2, 200)
    price = [f"{v * 1000:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
             for v in size]
    lines = ["size;price"] + [f"{s:.3f}".replace(".", ",") + ";" + ("" if i in (4, 9) else p)
                              for i, (s, p) in enumerate(zip(size, price))]
    path = tmp_path / "prices.csv"
    path.write_text("\n".join(lines) + "\n")
    assert main(["impute", str(path), "--out", str(tmp_path / "filled.csv"), "--epochs", "5",
                 "-q"]) == 0
    written = (tmp_path / "filled.csv").read_text().splitlines()
    assert written[5].split(";")[1].count(".") == 1  # 9.876,54: grouped as the column is
    assert written[5].split(";")[1].rsplit(",", 1)[1].isdigit()
    assert written[1:4] == lines[1:4]


def test_a_delimiter_ending_every_row_but_not_the_header_shifts_no_column(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"order_id": [f"A{i}" for i in range(200)],
                          "amount": np.round(rng.lognormal(3, 1, 200), 2),
                          "city": rng.choice(["Paris", "Lyon", "Nice"], 200)})
    path = tmp_path / "orders.csv"
    body = table.to_csv(index=False).splitlines()
    path.write_text("\n".join([body[0]] + [line + "," for line in body[1:]]) + "\n")
    frame = read_data(path).X
    pd.testing.assert_frame_equal(frame, table, check_dtype=False)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    streamed = pd.read_parquet(tmp_path / "s.parquet")
    assert streamed["order_id"].tolist() == table["order_id"].tolist()
    np.testing.assert_array_equal(streamed["score"], det.anomaly_score(frame))


def test_a_value_after_the_trailing_delimiter_is_refused_in_memory_and_streamed(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"amount": np.round(rng.lognormal(3, 1, 300), 2),
                          "count": rng.integers(0, 9, 300)})
    path = tmp_path / "orders.csv"
    body = table.to_csv(index=False).splitlines()
    rows = [line + "," for line in body[1:]]
    rows[250] += "late note"  # far past the sniffer's sample: only the full read sees it
    path.write_text("\n".join([body[0]] + rows) + "\n")
    with pytest.raises(DataError, match="row 251 has a value there .'late note'."):
        read_data(path)
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(table)
    with pytest.raises(DataError, match="row 251 has a value there .'late note'."):
        score_file(det, path, tmp_path / "s.parquet", progress=False, chunk_rows=64)
    assert not (tmp_path / "s.parquet").exists()


def test_r_row_names_under_a_short_header_are_an_identifier_carried_through(tmp_path):
    rng = np.random.default_rng(0)
    cars = pd.DataFrame({"mpg": np.round(rng.normal(20, 5, 120), 1),
                         "cyl": rng.choice([4, 6, 8], 120)},
                        index=[f"car {i}" for i in range(120)])
    path = tmp_path / "mtcars.csv"
    body = cars.to_csv().splitlines()  # write.table: no header cell over the row names
    path.write_text("\n".join([body[0].lstrip(",")] + body[1:]) + "\n")
    frame = read_data(path).X
    assert frame.columns.tolist() == ["Unnamed: 0", "mpg", "cyl"]
    assert frame["Unnamed: 0"].tolist() == cars.index.tolist()
    det = AnomalyDetector(n_estimators=1, max_epochs=2, random_state=0).fit(frame)
    assert det.input_spec_.identifiers == ["Unnamed: 0"]
    score_file(det, path, tmp_path / "s.parquet", progress=False)
    np.testing.assert_array_equal(pd.read_parquet(tmp_path / "s.parquet")["score"],
                                  det.anomaly_score(frame))


@pytest.mark.parametrize("encoding, line_end", [("cp1252", "\r\n"), ("utf-8-sig", "\r\n"),
                                                ("utf-8", "\n")])
def test_a_filled_csv_keeps_its_encoding_byte_order_mark_and_line_endings(
        tmp_path, encoding, line_end):
    rng = np.random.default_rng(0)
    names = rng.choice(["Müller", "Béa", "Zoë"], 120)
    lines = ["name;Betrag;Menge"] + [f"{n};{v:.2f};{m}".replace(".", ",") if i not in (3, 7)
                                     else f"{n};;{m}" for i, (n, v, m) in enumerate(zip(
                                         names, rng.normal(50, 5, 120), rng.integers(1, 9, 120)))]
    path = tmp_path / "kunden.csv"
    path.write_bytes(line_end.join(lines).encode(encoding) + line_end.encode())
    given = ["--encoding", "cp1252"] if encoding == "cp1252" else []
    assert main(["impute", str(path), *given, "--out", str(tmp_path / "filled.csv"),
                 "--epochs", "2", "-q"]) == 0
    written = (tmp_path / "filled.csv").read_bytes()
    assert written.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert written.decode(encoding).split(line_end)[1] == lines[1]  # é, ü as they were


def test_latin_1_named_for_a_windows_1252_file_is_refused_with_the_right_name(tmp_path):
    path = tmp_path / "euro.csv"
    path.write_bytes("name;Betrag\nMüller;€ 12,50\nBéa;€ 3,10\n".encode("cp1252"))
    with pytest.raises(DataError, match="control character in latin-1.*--encoding cp1252"):
        read_data(path, encoding="latin-1")
    assert read_data(path, encoding="cp1252").X["name"].tolist() == ["Müller", "Béa"]


def test_a_pipe_separated_file_named_psv_reads_as_the_table_it_is(tmp_path, frame):
    path = tmp_path / "table.psv"
    path.write_text(frame.to_csv(sep="|", index=False))
    pd.testing.assert_frame_equal(read_data(path).X, frame)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_a_quoted_na_is_text_under_a_byte_order_mark_too(tmp_path, encoding):
    path = tmp_path / "airports.csv"
    path.write_bytes('continent,x\n"NA",1\n"EU",2\nNA,3\n"NA",4\n'.encode(encoding))
    assert read_data(path).X["continent"].tolist()[:2] == ["NA", "EU"]
    assert read_data(path).X["continent"].isna().sum() == 1


@pytest.mark.parametrize("text, message", [
    ("city,n\nNew York, NY,20\nBoston, MA,30\nNew York, NY,25\n", "unquoted inside a field"),
    ("a,b\n1,2,\n3,4,x\n5,6,\n", "row 2 has a value there"),
    ("a,b,c\n1,2,3,4\n5,6,7\n8,9,10\n", "a row has more fields than the header")])
def test_rows_longer_than_the_header_are_refused_never_shifted(tmp_path, text, message):
    path = tmp_path / "ragged.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        read_data(path)


@pytest.mark.parametrize("text", ["address\n123 Main\n9 Elm\n", "born on\n12 Mar\n3 Jan\n",
                                  "total sales\n12 345\n9 870\n"])
def test_one_column_of_words_and_numbers_is_no_space_separated_table(tmp_path, text):
    path = tmp_path / "one.csv"
    path.write_text(text)
    assert read_data(path).X.shape == (2, 1)
