"""The two training commands as a user runs them: a run stops at its time budget with its state saved, and the same
command with a larger budget carries on from that state instead of starting again.

The budget is measured on a clock that ticks a fixed amount each time it is read, not on the machine's: the runs take
the same steps however fast or loaded the machine is (on a loaded one, a real clock once spent the whole budget
before the first step)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.config import get_preset
from engine.model.bsq import quantize_multiscale
from engine.schedule import build_schedule
from engine.train import transformer_train, vae_train
from engine.train.checkpoint import STATE, WEIGHTS
from engine.train.toyworld.world import EVAL_SEED_START, sample_batch

BUDGET = 0.05  # minutes: 3 s of TickingClock, read a few times a step, so each run takes a few steps


class TickingClock:
    """Seconds that move on by `tick` each time they are read, whatever the time."""

    def __init__(self, tick: float = 0.5) -> None:
        self.now, self.tick = 0.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def _run(capsys: pytest.CaptureFixture, main, args: list[str]) -> str:
    main(args, clock=TickingClock())
    return capsys.readouterr().out


def _state(folder: Path) -> dict:
    return json.loads((folder / STATE).read_text())


def _resumes(capsys, main, folder: Path, args: list[str], minutes: float) -> None:
    first_out = _run(capsys, main, [*args, "--minutes", str(minutes)])
    first = _state(folder)
    weights = load_file(folder / WEIGHTS)
    assert "resuming at step 0" in first_out and first["step"] > 0
    assert first["seconds"] >= minutes * 60 and first["log"], first

    # a step can overrun the budget, so the larger one is counted from the time the first run really spent
    more = str((first["seconds"] + 2.0) / 60)
    again_out = _run(capsys, main, [*args, "--minutes", more])
    again = _state(folder)
    assert f"resuming at step {first['step']}" in again_out
    assert again["step"] > first["step"] and again["seconds"] >= float(more) * 60
    assert again["log"][: len(first["log"])] == first["log"]  # the first run's history is kept, not restarted
    new_steps = [entry["step"] for entry in again["log"][len(first["log"]) :]]
    assert new_steps and min(new_steps) > first["step"]
    assert any(not load_file(folder / WEIGHTS)[name].equal(w) for name, w in weights.items())

    done_out = _run(capsys, main, [*args, "--minutes", more])
    assert _state(folder)["step"] == again["step"], "a finished budget must not train further"
    assert f"at step {again['step']}" in done_out


def test_a_vae_run_stops_at_its_budget_and_the_same_command_resumes_it(capsys, tmp_path: Path) -> None:
    out = tmp_path / "vae"
    args = ["--out", str(out), "--batch", "1", "--image-batch", "2", "--report", "1", "--eval-clips", "1",
            "--final-clips", "3", "--cosine", "--bf16"]
    _resumes(capsys, vae_train.main, out, args, BUDGET)
    last = _state(out)["log"][-1]  # each run ends on the larger held-out sample, averaged both ways
    assert last["final_clips"] == 3 and last["final_psnr_mean"] >= last["final_psnr_pooled"] > 0


def test_a_transformer_run_stops_at_its_budget_and_the_same_command_resumes_it(capsys, tmp_path: Path) -> None:
    vae = tmp_path / "vae"
    _run(capsys, vae_train.main, ["--out", str(vae), "--minutes", str(BUDGET / 2), "--batch", "1",
                                  "--image-batch", "2", "--report", "1000", "--final-clips", "0"])
    out = tmp_path / "transformer"
    args = ["--vae", str(vae), "--out", str(out), "--pool", "2", "--batch", "1", "--report", "1", "--bf16"]
    _resumes(capsys, transformer_train.main, out, args, BUDGET)


def test_a_fine_tune_of_the_built_in_model_starts_from_its_weights_and_trains_on_long_storyboards(
        capsys, tmp_path: Path, monkeypatch) -> None:
    """--init starts from the shipped toyworld weights (not from scratch) and --long adds storyboards longer than
    the trained clips, whose teacher-forced steps place the later clips in the trained slots."""
    builtin = Path(__file__).parents[3] / "resources" / "models" / "toyworld"
    shipped = load_file(builtin / "transformer" / "model.safetensors")
    seen_seconds = []
    step_loss = transformer_train.step_loss
    monkeypatch.setattr(transformer_train, "step_loss",
                        lambda model, latents, prompts, seconds, *rest: seen_seconds.append(seconds)
                        or step_loss(model, latents, prompts, seconds, *rest))
    loaded = []
    load_builtin = transformer_train.load_builtin

    def load_and_compare(model, folder):
        load_builtin(model, folder)
        loaded.append(all(model.transformer.state_dict()[k].equal(v) for k, v in shipped.items()))

    monkeypatch.setattr(transformer_train, "load_builtin", load_and_compare)
    out = tmp_path / "tuned"
    args = ["--init", str(builtin), "--out", str(out), "--pool", "2", "--batch", "1", "--report", "1000",
            "--long", "4", "--lr", "1e-4", "--minutes", str(BUDGET * 3)]
    printed = _run(capsys, transformer_train.main, args)
    assert loaded == [True] and "--long 4 --init" in printed
    assert 4 in seen_seconds, seen_seconds
    tuned = load_file(out / WEIGHTS)
    moved = [k for k, v in shipped.items() if not tuned[f"transformer.{k}"].equal(v)]
    assert moved and all((tuned[f"transformer.{k}"] - v).abs().max() < 0.05 for k, v in shipped.items())


def test_a_decoder_only_run_sharpens_the_decoder_and_leaves_the_tokens_as_they_were(capsys, tmp_path: Path) -> None:
    vae = tmp_path / "vae"
    small = ["--batch", "1", "--image-batch", "2", "--eval-clips", "1", "--final-clips", "0"]
    _run(capsys, vae_train.main, ["--out", str(vae), "--minutes", str(BUDGET / 2), "--report", "1000", *small])
    out = tmp_path / "decoder"
    # float32: --bf16 changes how the forward is computed, not which weights train (the VAE run resumes with it)
    args = ["--out", str(out), "--start-from", str(vae), "--decoder-only", "--report", "1", *small]
    _resumes(capsys, vae_train.main, out, args, BUDGET)

    before, after = vae_train.load_vae(vae), vae_train.load_vae(out)
    changed = {name for name, w in after.state_dict().items() if not w.equal(before.state_dict()[name])}
    assert changed and all(name.startswith("decoder.") for name in changed), changed
    # what the transformer is trained on and predicts: the bits of a video, the same through both
    schedule = build_schedule(get_preset("toyworld").schedule, 1, "1:1")
    video = vae_train.to_video(sample_batch([EVAL_SEED_START], 1, 64)[0])
    with torch.no_grad():
        bits = [quantize_multiscale(v.encode(video), schedule, v.cfg.semantic_bits, v.cfg.detail_bits)
                for v in (before, after)]
    assert all(a.equal(b) for a, b in zip(*bits, strict=True))


def test_a_decoder_only_run_without_a_trained_vae_is_refused(capsys, tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        _run(capsys, vae_train.main, ["--out", str(tmp_path / "decoder"), "--decoder-only"])
    assert "give the run with --start-from" in capsys.readouterr().err
    assert not (tmp_path / "decoder").exists()
