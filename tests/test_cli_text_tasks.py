"""``main.py predict`` and ``main.py analyse`` for question answering, summarisation and translation:
the removed pipelines' JSON keys, one row per record with where the answer was found, exports,
manifests, resume, and one clear line for each bad input."""

from __future__ import annotations

import csv
import json

import pytest

import main


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Tiny models run fastest on one thread and do not fight other processes for the cores."""


CONTEXT = "Maria Lopez joined Acme Corporation in Berlin last spring."


def run_cli(capsys, *args):
    code = main.main([*map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def lines(out: str) -> list:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# -- predict ----------------------------------------------------------------------------------------
def test_predict_question_answering_prints_the_pipeline_keys(capsys, tiny_bert_qa):
    code, out, err = run_cli(capsys, "predict", "--task", "question-answering", "--model", tiny_bert_qa,
                             "--question", "Who joined Acme?", CONTEXT, "Paris and Rome are lovely.")
    assert code == 0, err
    rows = lines(out)
    assert len(rows) == 2
    for row, context in zip(rows, [CONTEXT, "Paris and Rome are lovely."]):
        assert set(row) == {"answer", "score", "start", "end"}
        assert row["answer"] == context[row["start"]:row["end"]]


def test_predict_question_answering_top_k_prints_a_list(capsys, tiny_roberta_qa):
    code, out, err = run_cli(capsys, "predict", "--task", "question-answering", "--model", tiny_roberta_qa,
                             "--question", "Who joined Acme?", "--top-k", "3", CONTEXT)
    assert code == 0, err
    [answers] = lines(out)
    assert isinstance(answers, list) and len(answers) == 3
    assert [a["score"] for a in answers] == sorted((a["score"] for a in answers), reverse=True)
    for answer in answers:
        assert set(answer) == {"answer", "score", "start", "end"}
        assert answer["answer"] == CONTEXT[answer["start"]:answer["end"]]


def test_predict_summarization_and_translation(capsys, tiny_t5, tiny_marian):
    code, out, err = run_cli(capsys, "predict", "--task", "summarization", "--model", tiny_t5,
                             "--max-new-tokens", "5", "--num-beams", "1", CONTEXT)
    assert code == 0, err
    [row] = lines(out)
    assert set(row) == {"summary_text"} and row["summary_text"]
    code, out, err = run_cli(capsys, "predict", "--task", "translation", "--model", tiny_marian,
                             "--src-lang", "en", "--tgt-lang", "fr", "--max-new-tokens", "5", CONTEXT, "Hello.")
    assert code == 0, err
    rows = lines(out)
    assert len(rows) == 2 and all(set(r) == {"translation_text"} for r in rows)


def test_predict_says_when_the_input_was_cut(capsys, tiny_bart):
    code, out, err = run_cli(capsys, "predict", "--task", "summarization", "--model", tiny_bart,
                             "--max-new-tokens", "3", CONTEXT * 30)
    assert code == 0, err
    assert "note: The input was" in err and "only the first part was used" in err


@pytest.mark.parametrize("args, message", [
    (["--task", "summarization", "--model", "{qa}", "Text."],
     "cannot do summarisation.*It can do: .*Question answering"),
    (["--task", "question-answering", "--model", "{qa}", "Text."], "needs a question.*--question"),
    (["--task", "question-answering", "--model", "{qa}", "--question", "  ", "Text."], "needs a question"),
    (["--task", "question-answering", "--model", "{qa}", "--question", "Who?", "   "], "context is empty"),
    (["--task", "translation", "--model", "{marian}", "--tgt-lang", "xx", "Text."],
     "Unknown target language 'xx'.*It takes: fr"),
    (["--task", "text-classification", "--model", "{qa}", "--question", "Who?", "Text."],
     "--question applies to question answering"),
])
def test_predict_errors_are_one_clear_line(capsys, tiny_bert_qa, tiny_marian, args, message):
    import re

    args = [a.format(qa=tiny_bert_qa, marian=tiny_marian) for a in args]
    code, out, err = run_cli(capsys, "predict", *args)
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert re.search(message, err), err


# -- analyse ----------------------------------------------------------------------------------------
def make_folder(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Maria Lopez joined Acme Corporation in Berlin.\n\nThe hotel room was clean.\n")
    (folder / "b.csv").write_text('text,label\n"Paris and Rome are lovely in the autumn.",x\n"   ",y\n')
    return folder


def test_analyse_question_answering_one_row_per_record_with_where(tmp_path, capsys, tiny_distilbert_qa):
    folder = make_folder(tmp_path)
    out = tmp_path / "out" / "answers.csv"
    code, _out, err = run_cli(capsys, "analyse", folder, "--task", "question-answering", "--model", tiny_distilbert_qa,
                              "--question", "Who joined Acme?", "--top-k", "2", "--out", out)
    assert code == 0, err
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["text"] for r in rows] == ["Maria Lopez joined Acme Corporation in Berlin.", "The hotel room was clean.",
                                        "Paris and Rome are lovely in the autumn.", "   "]
    for row in rows[:3]:
        start, end = int(row["start"]), int(row["end"])
        assert row["answer"] == row["text"][start:end] and float(row["score"]) > 0
        assert len(json.loads(row["answers"])) == 2
        assert row["file"] and row["line"]
    assert rows[3]["answer"] == "" and "empty" in rows[3]["flags"]
    manifest = json.loads((out.parent / "answers.manifest.json").read_text())
    assert manifest["task"] == "question-answering"
    assert manifest["settings"]["engine"]["task_options"]["question"] == "Who joined Acme?"
    assert manifest["counts"]["records"] == 4


def test_analyse_question_answering_file_mode_and_resume(tmp_path, capsys, tiny_bert_qa):
    folder = make_folder(tmp_path)
    (folder / "b.csv").unlink()
    (folder / "long.txt").write_text(" ".join(["The film was a delight from start to finish."] * 80))
    out = tmp_path / "answers.jsonl"
    args = ["analyse", folder, "--task", "question-answering", "--model", tiny_bert_qa, "--mode", "file",
            "--question", "What was a delight?", "--out", out]
    code, _out, err = run_cli(capsys, *args)
    assert code == 0, err
    rows = lines(out.read_text())
    assert len(rows) == 2
    for row in rows:
        assert row["answer"] == row["text"][row["start"]:row["end"]]
    assert max(r["windows"] for r in rows) > 1  # the long file was read in windows, not cut
    manifest = json.loads((tmp_path / "answers.manifest.json").read_text())
    assert manifest["counts"]["records"] == 2


def test_analyse_question_answering_resumes_per_question(tmp_path, tiny_bert_qa):
    from services.analyse.run import AnalyseRequest, analyse
    from services.core.engine import EngineOptions

    folder = make_folder(tmp_path)

    def request(question):
        return AnalyseRequest([str(folder)], "question-answering", str(tiny_bert_qa),
                              engine=EngineOptions(task_options={"question": question}))

    first = analyse(request("Who joined Acme?"), tmp_path / "run" / "results.jsonl")
    assert first.new_rows == 4 and first.complete
    again = analyse(request("Who joined Acme?"), tmp_path / "run" / "results.jsonl")  # same analysis: all resumed
    assert again.resumed_rows == 4 and again.new_rows == 0
    other = analyse(request("Where?"), tmp_path / "run" / "results.jsonl")  # another question: started over
    assert other.resumed_rows == 0 and other.new_rows == 4


def test_analyse_summarization_in_chunks_and_translation(tmp_path, capsys, tiny_bart, tiny_marian):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "long.txt").write_text(" ".join(["The hotel room was clean, quiet and close to the station."] * 40))
    (folder / "short.txt").write_text("Battery life is great.")
    out = tmp_path / "summaries.csv"
    code, _out, err = run_cli(capsys, "analyse", folder, "--task", "summarization", "--model", tiny_bart,
                              "--mode", "file", "--chunk", "--max-new-tokens", "3", "--num-beams", "1", "--out", out)
    assert code == 0, err
    with open(out, newline="") as handle:
        rows = {r["file"].rsplit("/", 1)[-1]: r for r in csv.DictReader(handle)}
    assert int(rows["long.txt"]["chunks"]) > 1 and "chunked" in rows["long.txt"]["flags"]
    assert rows["short.txt"]["chunks"] == ""
    out = tmp_path / "fr.jsonl"
    code, _out, err = run_cli(capsys, "analyse", folder, "--task", "translation", "--model", tiny_marian,
                              "--tgt-lang", "fr", "--max-new-tokens", "3", "--out", out)
    assert code == 0, err
    rows = lines(out.read_text())
    assert len(rows) == 2 and all("translation_text" in r for r in rows)
    assert any("truncated" in r["flags"] for r in rows)  # the long line was cut (no --chunk), and says so


def test_analyse_question_answering_without_a_question(tmp_path, capsys, tiny_bert_qa):
    code, out, err = run_cli(capsys, "analyse", make_folder(tmp_path), "--task", "question-answering",
                             "--model", tiny_bert_qa)
    assert code != 0 and "needs a question" in err and len(err.strip().splitlines()) == 1
