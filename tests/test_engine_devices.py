"""The engine's device plan: the GPU code path (bigger budgets, pinned memory, one batch in flight) is
chosen by device, and the deferred read of results gives the same results as reading each batch at once.

No GPU here: the plan is checked by device name, and the in-flight pipeline runs on the CPU (which
never pins memory); the CUDA test runs only where a GPU is."""

from __future__ import annotations

import dataclasses

import pytest

from services.core.engine import DevicePlan, Engine, EngineOptions
from services.core.models import load_model

TEXTS = ["A short one.", "This text is somewhat longer than the first one, with a clause or two.",
         "Mid length text here.", "Berlin and Paris.", "x", "Another sentence that is fairly long, to make a batch.",
         "Tiny.", "The last of the texts, of middling length."] * 3


def test_gpu_code_path_is_selected_by_device():
    cpu = DevicePlan.for_device("cpu")
    assert (cpu.gpu, cpu.pin_memory, cpu.in_flight, cpu.batch_size, cpu.max_tokens) == (False, False, 0, 32, 4096)
    cuda = DevicePlan.for_device("cuda:0")
    assert (cuda.gpu, cuda.pin_memory, cuda.in_flight, cuda.batch_size, cuda.max_tokens) == (True, True, 1, 256, 65536)
    assert DevicePlan.for_device("cuda:1", "bfloat16").max_tokens == DevicePlan.for_device("cuda", "float16").max_tokens \
        == 131072  # half the bytes per value: twice the tokens
    mps = DevicePlan.for_device("mps")
    assert mps.gpu and not mps.pin_memory and mps.in_flight == 1  # pinned memory is a CUDA feature


def test_engine_follows_the_plan_of_its_device(tiny_classifier):
    engine = Engine(load_model(tiny_classifier, "text-classification"), EngineOptions(threads=-1))
    assert engine.plan == DevicePlan.for_device("cpu")
    assert (engine.batch_size, engine.max_tokens) == (32, 4096)


@pytest.mark.parametrize("fixture, task", [("tiny_classifier", "text-classification"),
                                           ("tiny_ner", "token-classification"),
                                           ("tiny_encoder", "sentence-similarity")])
def test_one_batch_in_flight_same_results_no_wait_per_batch(request, fixture, task):
    loaded = load_model(request.getfixturevalue(fixture), task)
    options = EngineOptions(batch_size=4, threads=-1, embedding_decimals=None)
    expected = Engine(loaded, options).predict_texts(TEXTS)

    engine = Engine(loaded, options)
    engine.plan = dataclasses.replace(engine.plan, in_flight=1)  # the GPU's pipeline, on the CPU
    order = []
    launch, collect = engine._launch, engine._collect

    def launched(batch):
        pending = launch(batch)
        pending.number = len([kind for kind, _n in order if kind == "launch"])
        order.append(("launch", pending.number))
        return pending

    def collected(pending):
        order.append(("collect", pending.number))
        return collect(pending)

    engine._launch, engine._collect = launched, collected
    assert engine.predict_texts(TEXTS) == expected
    launches = [key for kind, key in order if kind == "launch"]
    assert len(launches) == -(-len(TEXTS) // 4)
    # batch k+1 is launched before batch k's results are read: no host wait between batches
    for k in range(len(launches) - 1):
        assert order.index(("launch", launches[k + 1])) < order.index(("collect", launches[k]))
    assert [key for kind, key in order if kind == "collect"] == launches  # read back in launch order


@pytest.mark.skipif("not __import__('torch').cuda.is_available()")
def test_cuda_path_matches_cpu(tiny_classifier):
    cpu = Engine(load_model(tiny_classifier, "text-classification"), EngineOptions()).predict_texts(TEXTS)
    gpu_engine = Engine(load_model(tiny_classifier, "text-classification", device="cuda:0"), EngineOptions())
    assert gpu_engine.plan.pin_memory and gpu_engine.plan.in_flight == 1
    gpu = gpu_engine.predict_texts(TEXTS)
    assert [r["label"] for r in gpu] == [r["label"] for r in cpu]
    assert max(abs(a["score"] - b["score"]) for a, b in zip(gpu, cpu)) < 1e-4
