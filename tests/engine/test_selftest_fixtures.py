"""`istar selftest` on any fixture of the documented format: clips read from schedule.clips, cropped logits,
and a report that says what it could not check. The fixture here is a recorded run of this engine itself
(test-micro, random weights), written the way the official fixtures are."""

import json

import pytest
import torch
from safetensors.torch import load_file, save_file
from tiny_models import random_model

from engine.cli.main import main
from engine.config import get_preset
from engine.sampler import ClipEvent, Guidance, PassEvent, generate
from engine.schedule import build_clips_schedule
from engine.selftest.transformer import pass_record

CLIPS = (1, 4, 2)  # the image, a full 4-frame clip and a shorter last one: two video clips
CROP_OVER = 2  # passes of more latent frames than this keep only their first and last frame's logits


def _write_fixture(root):
    preset = get_preset("test-micro")
    cfg, arch = preset.schedule, preset.transformer
    schedule = build_clips_schedule(cfg, CLIPS, "1:1")
    model = random_model("test-micro")
    text = torch.randn(5, arch.text_channels, generator=torch.Generator().manual_seed(2))
    io = {"text_features": text}
    latents = []
    for event in generate(model, schedule, text, Guidance.from_schedule(cfg), seed=3, return_logits=True):
        if isinstance(event, ClipEvent):
            latents.append(event.latent)
        if not isinstance(event, PassEvent):
            continue
        p, name = schedule.passes[event.index], f"pass{event.index:03d}"
        io[f"{name}.bits"] = event.bits
        logits, area = event.logits, p.h * p.w
        if p.t > CROP_OVER:
            frames = [0, p.t - 1]
            io[f"{name}.logits_frames"] = torch.tensor(frames, dtype=torch.int32)
            logits = torch.cat([logits[:, f * area : (f + 1) * area] for f in frames], dim=1)
        io[f"{name}.logits"] = logits.contiguous()
    io["summed_codes"] = torch.cat(latents, dim=2)
    save_file(io, str(root / "io.safetensors"))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(root / "transformer.safetensors"))
    starts = [0, *torch.tensor(CLIPS).cumsum(0).tolist()]
    meta = {
        "architecture": {"depth": arch.depth, "width": arch.width, "heads": arch.heads, "kv_heads": arch.kv_heads,
                         "block_chunks": arch.block_chunks, "text_channels": arch.text_channels,
                         "text_maxlen": arch.text_maxlen, "mlp_hidden": arch.mlp_hidden_size},
        "latent": {"channels": arch.latent_channels},
        "guidance": {"type": cfg.guidance, "scale": cfg.guidance_scale, "apg_norm_threshold": cfg.apg_norm_threshold,
                     "tau_image": cfg.tau_image, "tau_video": cfg.tau_video},
        "repetitions": {"image_clip": list(cfg.image_repetitions), "video_clip": list(cfg.video_repetitions)},
        # the official schedule's frame table (81 frames: 20-latent-frame clips) says nothing of these clips
        "schedule": {"pn": cfg.resolution, "h_div_w_template": 1.0, "video_frames_table": 81,
                     "clips": [{"clip": i, "kind": "video" if i else "image", "t": t,
                                "latent_frames": [starts[i], starts[i + 1]]} for i, t in enumerate(CLIPS)]},
        "passes": [pass_record(schedule, p, arch.text_maxlen) for p in schedule.passes],
        "tolerances_fp32": {"logits_max_abs": 1e-4, "summed_codes_max_abs": 1e-5},
    }
    (root / "fixture.json").write_text(json.dumps(meta))
    return schedule


@pytest.fixture(scope="module")
def engine_fixture(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine-run")
    return root, _write_fixture(root)


def test_two_video_clips_with_cropped_logits_pass_and_the_report_says_what_was_not_checked(engine_fixture, capsys):
    root, schedule = engine_fixture
    assert main(["selftest", "--fixture", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and not report["schedule_problems"]
    assert report["passes"] == len(schedule.passes)
    cropped = [p.index for p in schedule.passes if p.t > CROP_OVER]
    assert cropped and report["logits_cropped_passes"] == cropped
    assert set(report["parts"]) == {"transformer.logits_cond", "transformer.logits_uncond", "transformer.summed_codes"}
    assert report["not_checked"] == {"vae": "the fixture has no vae.safetensors"}

    assert main(["selftest", "--fixture", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"logits of {len(cropped)} of {len(schedule.passes)} passes compared on the latent frames" in out
    assert "vae: NOT CHECKED (the fixture has no vae.safetensors)" in out
    assert out.rstrip().endswith("PASS")


def test_a_wrong_logit_on_a_kept_frame_fails(engine_fixture, tmp_path, capsys):
    root, schedule = engine_fixture
    for name in ("fixture.json", "transformer.safetensors"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    io = load_file(str(root / "io.safetensors"))
    last = next(p for p in reversed(schedule.passes) if p.t > CROP_OVER)
    kept = io[f"pass{last.index:03d}.logits"]
    kept[0, -1, 0] += 1e-2  # the uncond row is untouched: only the cond part may fail
    save_file(io, str(tmp_path / "io.safetensors"))
    assert main(["selftest", "--fixture", str(tmp_path), "--json"]) == 1
    parts = json.loads(capsys.readouterr().out)["parts"]
    assert not parts["transformer.logits_cond"]["ok"] and parts["transformer.logits_uncond"]["ok"]


def test_logits_cropped_without_saying_which_frames_are_named(engine_fixture, tmp_path, capsys):
    root, schedule = engine_fixture
    for name in ("fixture.json", "transformer.safetensors"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    io = load_file(str(root / "io.safetensors"))
    first = next(p for p in schedule.passes if p.t > CROP_OVER)
    del io[f"pass{first.index:03d}.logits_frames"]
    save_file(io, str(tmp_path / "io.safetensors"))
    assert main(["selftest", "--fixture", str(tmp_path)]) == 2
    assert f"pass{first.index:03d}.logits is [2, {2 * first.h * first.w}," in capsys.readouterr().err
