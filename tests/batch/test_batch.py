"""``emozoo batch``: inputs, rows, the three formats, resuming, and the command."""

from __future__ import annotations

import json

import pytest

import emozoo.batch.local as batch_local
from emozoo.batch import BatchItem, list_inputs, read_rows, row_columns, run_local
from emozoo.batch.outputs import JOURNAL_SUFFIX, csv_header, encode_csv, encode_json
from emozoo.cli import main

FOLDER_KEYS = ["broken.jpg", "clip.mp4", "note.txt", "photos/a.jpg", "photos/b_flipped.png",
               "speech/happy.wav"]  # fmt: skip


class Killed(Exception):
    pass


def by_key(rows):
    return {row["key"]: row for row in rows}


@pytest.fixture(scope="module")
def folder_rows(rec, folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "folder.csv"
    summary = run_local(rec, list_inputs(folder), out, progress=False)
    assert (summary.items, summary.skipped, summary.written, summary.errors) == (6, 0, 6, 1)
    return read_rows(out)


def test_a_folder_gives_a_row_per_file(rec, folder, folder_rows):
    rows = by_key(folder_rows)
    assert list(rows) == FOLDER_KEYS  # sorted, relative keys; readme.md is not an input
    labels = rec.labels
    for key in ("photos/a.jpg", "photos/b_flipped.png"):
        assert rows[key]["modalities"] == "face" and rows[key]["top"] in labels
        assert abs(sum(rows[key][label] for label in labels) - 1) < 2e-3
        assert rows[key]["confidence"] == max(rows[key][label] for label in labels)
    assert rows["photos/a.jpg"]["inputs"] == {"image": str(folder / "photos" / "a.jpg")}
    assert rows["speech/happy.wav"]["modalities"] == "audio"
    assert rows["note.txt"]["modalities"] == "text" and rows["note.txt"]["top"] == "happy"
    video = rows["clip.mp4"]
    assert video["modalities"] == "face" and video["top"] == "happy"
    assert "no audio track" in video["not_used"]["audio"]
    assert all(row["error"] is None for key, row in rows.items() if key != "broken.jpg")


def test_a_corrupt_file_is_a_row_with_its_error(folder_rows, rec):
    broken = by_key(folder_rows)["broken.jpg"]
    assert "could not be decoded" in broken["error"] and broken["top"] is None
    assert broken["modalities"] == "" and all(broken[label] is None for label in rec.labels)
    assert "face" in broken["not_used"]


def test_a_glob_and_a_manifest(rec, folder, manifest, tmp_path):
    assert [i.key for i in list_inputs(str(folder / "photos" / "*"))] == [
        str(folder / "photos" / "a.jpg"),
        str(folder / "photos" / "b_flipped.png"),
    ]
    assert [i.key for i in list_inputs(str(folder / "**" / "*.wav"))] == [
        str(folder / "speech" / "happy.wav")
    ]
    items = list_inputs(manifest)
    assert [i.key for i in items] == ["r1", "r2", "r3", "r4"]
    assert items[0].image == str(folder / "photos" / "a.jpg")  # relative to the manifest
    assert items[1] == BatchItem("r2", text="This is terrible news.")
    run_local(rec, items, tmp_path / "m.jsonl", progress=False)
    rows = by_key(read_rows(tmp_path / "m.jsonl"))
    assert rows["r1"]["modalities"] == "face+text+audio" and rows["r1"]["error"] is None
    assert rows["r2"]["modalities"] == "text"
    # A bad file does not stop its row: the text is still used, the error is recorded.
    assert rows["r3"]["modalities"] == "text" and "broken.jpg" in rows["r3"]["error"]
    assert rows["r4"]["top"] is None and "no face_path" in rows["r4"]["error"]


def test_manifest_without_ids_and_bad_manifests(tmp_path, folder):
    plain = tmp_path / "plain.csv"
    plain.write_text(f"text,face_path\nhello,{folder / 'photos' / 'a.jpg'}\nbye,\n", "utf-8")
    assert [i.key for i in list_inputs(plain)] == ["plain.csv:1", "plain.csv:2"]
    twice = tmp_path / "twice.csv"
    twice.write_text("id,text\na,x\na,y\n", "utf-8")
    with pytest.raises(ValueError, match="same id 'a'"):
        list_inputs(twice)
    other = tmp_path / "other.csv"
    other.write_text("path,label\nx.jpg,happy\n", "utf-8")
    with pytest.raises(ValueError, match="none of the columns"):
        list_inputs(other)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        list_inputs(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="No photo"):
        list_inputs(str(tmp_path / "*.jpg"))


def test_the_three_formats_hold_the_same_rows(rec, folder, folder_rows, tmp_path):
    items = list_inputs(folder)
    for name in ("r.jsonl", "r.parquet"):
        run_local(rec, items, tmp_path / name, progress=False)
        assert by_key(read_rows(tmp_path / name)) == by_key(folder_rows), name
    # JSON Lines keeps inputs and reasons as objects.
    first = json.loads((tmp_path / "r.jsonl").read_text("utf-8").splitlines()[0])
    assert list(first) == row_columns(rec.labels) and isinstance(first["inputs"], dict)


@pytest.mark.parametrize("name", ["k.csv", "k.jsonl", "k.parquet"])
def test_a_killed_run_resumes_where_it_stopped(
    rec, folder, folder_rows, tmp_path, monkeypatch, name
):
    out = tmp_path / name
    items = list_inputs(folder)
    calls, dying = [], [True]
    real = batch_local.predict_rows

    def dies_in_the_second_chunk(recognizer, chunk, **kwargs):
        calls.append([item.key for item in chunk])
        if dying[0] and len(calls) == 2:
            raise Killed  # as a crash or a kill would, half-way
        return real(recognizer, chunk, **kwargs)

    monkeypatch.setattr(batch_local, "predict_rows", dies_in_the_second_chunk)
    with pytest.raises(Killed):
        run_local(rec, items, out, chunk_items=2, progress=False)
    assert [row["key"] for row in read_rows(out)] == FOLDER_KEYS[:2]
    calls.clear()
    dying[0] = False
    summary = run_local(rec, items, out, chunk_items=2, progress=False)
    assert calls == [FOLDER_KEYS[2:4], FOLDER_KEYS[4:6]]  # only what was missing
    assert (summary.skipped, summary.written) == (2, 4)
    assert by_key(read_rows(out)) == by_key(folder_rows)
    assert not (tmp_path / f"{name}{JOURNAL_SUFFIX}").exists()
    assert run_local(rec, items, out, progress=False).written == 0  # a third run adds nothing


@pytest.mark.parametrize("name", ["cut.csv", "cut.jsonl", "cut.parquet"])
def test_a_row_cut_short_is_redone(rec, folder, folder_rows, tmp_path, name):
    columns = row_columns(rec.labels)
    done = folder_rows[:2]
    out = tmp_path / name
    if name.endswith(".csv"):
        text = csv_header(columns) + "\n" + "".join(encode_csv(r, columns) + "\n" for r in done)
        target = out
    else:
        text = "".join(encode_json(r) + "\n" for r in done)
        target = out if name.endswith(".jsonl") else tmp_path / f"{name}{JOURNAL_SUFFIX}"
    cut = (
        encode_json(folder_rows[2])
        if target.suffix != ".csv"
        else encode_csv(folder_rows[2], columns)
    )
    target.write_text(text + cut[:25], encoding="utf-8")  # a kill in the middle of a row
    assert [r["key"] for r in read_rows(out)] == FOLDER_KEYS[:2]
    summary = run_local(rec, list_inputs(folder), out, progress=False)
    assert (summary.skipped, summary.written) == (2, 4)
    assert by_key(read_rows(out)) == by_key(folder_rows)


def test_an_output_of_another_model_is_refused(rec, folder, tmp_path):
    out = tmp_path / "other.csv"
    out.write_text("key,inputs,top,confidence,joy,modalities,not_used,error\n", "utf-8")
    with pytest.raises(ValueError, match="other columns"):
        run_local(rec, list_inputs(folder), out, progress=False)


def test_beam_rows_equal_local_rows(folder, folder_rows, tmp_path):
    from emozoo.batch.beam import run_beam

    items = list_inputs(folder)
    out = tmp_path / "beam.csv"
    counts = run_beam(items, out, ["--direct_running_mode=in_memory"], max_batch_size=4)
    assert counts == {"items": 6, "skipped": 0, "run": 6}
    assert by_key(read_rows(out)) == by_key(folder_rows)
    # Resuming on Beam: the rows already there are kept, only the others run.
    jsonl = tmp_path / "beam.jsonl"
    jsonl.write_text("".join(encode_json(r) + "\n" for r in folder_rows[:3]), "utf-8")
    assert run_beam(items, jsonl, ["--runner=DirectRunner"])["run"] == 3
    assert by_key(read_rows(jsonl)) == by_key(folder_rows)


def test_the_command(folder, tmp_path, capsys):
    out = tmp_path / "cli.parquet"
    assert main(["batch", str(folder / "photos"), "--out", str(out), "--no-progress"]) == 0
    assert "2 items: 0 already" in capsys.readouterr().out
    assert [r["key"] for r in read_rows(out)] == ["a.jpg", "b_flipped.png"]
    code = main(["batch", str(folder / "photos"), "--out", str(out), "--runner", "beam", "--",
                 "--runner=DirectRunner", "--direct_running_mode=in_memory"])  # fmt: skip
    assert code == 0 and "2 already in" in capsys.readouterr().out
    code = main(["batch", str(folder), "--out", str(tmp_path / "x.csv"), "--", "--runner=Flink"])
    assert code == 2 and "add --runner beam" in capsys.readouterr().err
    assert main(["batch", str(folder), "--out", str(tmp_path / "x.txt")]) == 2
    assert "unknown format '.txt'" in capsys.readouterr().err


def test_a_manifest_with_action_units(tmp_path):
    """``au_path`` names an OpenFace 2 CSV, read for models that take ``face_au``."""
    from emozoo import EmotionRecognizer
    from tests.preprocessing.helpers import openface_csv

    openface_csv(tmp_path / "smile.csv", [(0.0, 0.98, 1, 2.5), (0.04, 0.97, 1, 3.0)])
    manifest = tmp_path / "aus.csv"
    manifest.write_text("id,au_path\nsmile,smile.csv\ngone,missing.csv\nnone,\n", "utf-8")
    items = list_inputs(manifest)
    assert items[0] == BatchItem("smile", face_au=str(tmp_path / "smile.csv"))
    assert "au_path" in items[2].error
    rec = EmotionRecognizer("face_au")
    run_local(rec, items, tmp_path / "aus.jsonl", progress=False)
    rows = by_key(read_rows(tmp_path / "aus.jsonl"))
    assert rows["smile"]["error"] is None and rows["smile"]["modalities"] == "face_au"
    expected = rec.predict(face_au=str(tmp_path / "smile.csv"))
    assert rows["smile"]["top"] == expected.top
    assert rows["gone"]["top"] is None and "missing.csv" in rows["gone"]["error"]


def test_a_manifest_with_speakers_for_a_per_speaker_model(tmp_path):
    """A ``speaker`` column: each speaker's rows are standardised together, whatever
    the chunk size; a row without a speaker gets an error; Beam refuses the model."""
    from emozoo import EmotionRecognizer
    from emozoo.batch.beam import run_beam
    from tests.preprocessing.helpers import openface_csv

    lines = ["id,au_path,speaker"]
    for i in range(16):
        speaker = "ann" if i % 2 else "bob"  # interleaved: chunks must regroup them
        value = 0.3 * (i % 5) + (1.5 if speaker == "bob" else 0.0)
        openface_csv(tmp_path / f"{i}.csv", [(0.0, 0.98, 1, value)])
        lines.append(f"r{i},{i}.csv,{speaker}")
    lines.append("lost,0.csv,")
    manifest = tmp_path / "aus.csv"
    manifest.write_text("\n".join(lines) + "\n", "utf-8")
    items = list_inputs(manifest)
    assert items[1].speaker == "ann" and items[-1].speaker is None
    rec = EmotionRecognizer("face_au_per_speaker")
    run_local(rec, items, tmp_path / "out.jsonl", chunk_items=4, progress=False)
    rows = by_key(read_rows(tmp_path / "out.jsonl"))
    assert rows["lost"]["top"] is None and "speaker" in rows["lost"]["error"]
    expected = rec.predict_batch(
        face_aus=[str(tmp_path / f"{i}.csv") for i in range(16)],
        speakers=[item.speaker for item in items[:16]],
    )
    assert [rows[f"r{i}"]["top"] for i in range(16)] == [p.top for p in expected]
    assert all(rows[f"r{i}"]["error"] is None for i in range(16))
    with pytest.raises(ValueError, match="--runner local"):
        run_beam(items, tmp_path / "beam.jsonl", model="face_au_per_speaker")


def test_a_speaker_with_too_few_rows_leaves_only_their_rows_unused(tmp_path):
    from emozoo import EmotionRecognizer
    from tests.preprocessing.helpers import openface_csv

    lines = ["id,au_path,speaker"]
    for i in range(11):
        openface_csv(tmp_path / f"{i}.csv", [(0.0, 0.98, 1, 0.2 * (i % 4))])
        lines.append(f"r{i},{i}.csv,{'ann' if i < 8 else 'bob'}")
    (tmp_path / "m.csv").write_text("\n".join(lines) + "\n", "utf-8")
    rec = EmotionRecognizer("face_au_per_speaker")
    run_local(rec, list_inputs(tmp_path / "m.csv"), tmp_path / "o.jsonl", progress=False)
    rows = by_key(read_rows(tmp_path / "o.jsonl"))
    assert all(rows[f"r{i}"]["top"] is not None for i in range(8))
    for i in range(8, 11):
        assert rows[f"r{i}"]["top"] is None
        assert "speaker 'bob': 3 usable face_au item(s)" in rows[f"r{i}"]["not_used"]["face_au"]
