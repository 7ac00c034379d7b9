"""The models event's content: installed models first, then the catalogue's others with the plan they would have."""

from __future__ import annotations

from pathlib import Path

from engine.api import protocol as p
from engine.api.records import DeviceSummary
from engine.service.models_info import describe_models
from engine.weights.store import BUILTIN_ROOT, ModelStore

CPU_ONLY = DeviceSummary("cpu", "cpu", 0, 0, 0, 0)


def test_installed_models_come_first_then_the_installable_ones_with_their_plan(micro_home: Path):
    device, listed = describe_models(ModelStore(micro_home / "models", builtin_root=BUILTIN_ROOT), "cpu", 1)
    models = {m.id: m for m in listed}
    assert list(models) == ["toyworld", "test-micro", "infinitystar-8b-720p", "infinitystar-8b-480p"]

    assert models["toyworld"].installed and models["toyworld"].builtin
    assert models["test-micro"].installed and models["test-micro"].variants == ("fp32",)
    for model_id in ("infinitystar-8b-720p", "infinitystar-8b-480p"):
        model = models[model_id]
        assert not model.installed and not model.builtin and not model.verified
        assert model.variants == () and model.preset == model_id
        assert model.precisions == ("fp32", "bf16", "int8", "nf4"), "a quantised precision is made on first use"
        assert model.plan.precision in ("bf16", "int8", "nf4") and model.plan.lines
        assert model.plan.peak_gb > 5  # an 8B model: a plan of its real size, not a placeholder
        assert model.clip_seconds == 5 and list(model.aspects)[0] == "16:9"
    assert "tiny-a" not in models, "test sizes are listed only once installed"

    assert device.device == "cpu"
    assert p.decode(p.encode(p.Models(device, listed))) == p.Models(device, listed)


def test_a_word_vocabulary_model_lists_the_words_it_knows_so_the_studio_can_say_which_it_leaves_out(micro_home):
    _, listed = describe_models(ModelStore(micro_home / "models", builtin_root=BUILTIN_ROOT), "cpu", 1)
    models = {m.id: m for m in listed}
    toyworld = models["toyworld"]
    assert {"red", "circle", "moves"} <= set(toyworld.vocabulary)
    assert toyworld.unknown_words("A red CIRCLE juggles, juggles quantum-ly") == ["juggles", "quantum", "ly"]
    assert models["infinitystar-8b-720p"].vocabulary is None  # T5 reads any text
    assert models["infinitystar-8b-720p"].unknown_words("anything at all") == []
    again = p.decode(p.encode(p.Models(CPU_ONLY, [toyworld]))).models[0]
    assert again.vocabulary == toyworld.vocabulary
