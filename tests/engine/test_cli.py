"""`istar` as a person runs it: plans, key tables, and the self-test on the official fixture."""

import json
import re
import shutil
import subprocess
import sys

import pytest
import torch
from reference import FIXTURE, TRANSFORMER_KEYS, VAE_KEYS, requires_reference
from safetensors.torch import load_file, save_file

from engine.cli.main import main


def test_plan_json_is_one_object_with_the_figures(capsys):
    assert main(["plan", "--model", "infinitystar-8b-720p", "--duration", "5", "--precision", "nf4", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in ("passes", "tokens", "params", "flops", "weight_bytes", "peak_bytes", "decode_dtype",
                "decode_chunk_latents", "decode_tiling", "offload_transformer_for_decode"):
        assert key in data
    assert data["passes"] == 85 and data["peak_bytes"] < 12e9
    assert set(data["phases"]) == {"text_encoder", "sampling", "decode"}


def test_presets_list_every_model_and_an_interact_plan_is_one_segment(capsys):
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    assert "infinitystar-interact-480p" in listed and "plans only, this engine does not generate with it" in listed
    assert main(["plan", "--model", "infinitystar-interact-480p", "--duration", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["seconds"], data["passes"], data["tokens"]) == (5, 39, 149_700)


def test_plan_for_people_and_its_errors(capsys):
    assert main(["plan", "--model", "infinitystar-8b-480p", "--duration", "5", "--precision", "nf4"]) == 0
    out = capsys.readouterr().out
    assert "peak" in out and "decode: VAE in bf16, 1 latent frame a chunk, no tiling; transformer resident" in out
    args = ["plan", "--model", "infinitystar-8b-480p", "--duration", "5", "--precision", "nf4", "--memory-gb", "8"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "VAE in fp32" in out and "offloaded to CPU" in out and "(fits 8 GB)" in out
    assert main(["plan", "--model", "nope"]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    assert main(["plan", "--model", "infinitystar-8b-480p", "--aspect", "21:9"]) == 2
    assert "no template" in capsys.readouterr().err


@requires_reference
@pytest.mark.parametrize(("part", "table"), [("transformer", TRANSFORMER_KEYS), ("vae", VAE_KEYS)])
def test_keys_print_the_released_tables(capsys, part, table):
    assert main(["keys", "--model", "infinitystar-8b-720p", "--part", part]) == 0
    printed = capsys.readouterr().out.splitlines()
    expected = ["\t".join(line.split("\t")[:2]) for line in table.read_text().splitlines()[1:]]
    assert printed == expected


@requires_reference
def test_selftest_passes_on_the_official_fixture():
    done = subprocess.run([sys.executable, "-m", "engine.cli.main", "selftest", "--fixture", str(FIXTURE), "--json"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["ok"] and not report["schedule_problems"]
    assert report["parts"]["transformer.logits_cond"]["max_abs_err"] < 1e-4
    assert {"transformer.logits_uncond", "transformer.summed_codes", "vae.decoded", "vae.raw_features"} <= set(
        report["parts"])


@requires_reference
def test_selftest_fails_beyond_tolerance_and_names_the_part(tmp_path, capsys):
    fixture = tmp_path / "tiny-a"
    shutil.copytree(FIXTURE, fixture)
    (fixture / "vae.safetensors").unlink()
    io = load_file(str(fixture / "io.safetensors"))
    io["pass040.logits"] = io["pass040.logits"] + torch.tensor(1e-3)
    save_file(io, str(fixture / "io.safetensors"))
    assert main(["selftest", "--fixture", str(fixture)]) == 1
    out = capsys.readouterr().out
    assert "transformer.logits_cond" in out and "FAIL" in out


def test_selftest_on_a_folder_without_a_fixture(tmp_path, capsys):
    assert main(["selftest", "--fixture", str(tmp_path)]) == 2
    assert f"{tmp_path / 'fixture.json'} is missing" in capsys.readouterr().err


@requires_reference
def test_selftest_names_a_truncated_checkpoint(tmp_path, capsys):
    fixture = tmp_path / "tiny-a"
    shutil.copytree(FIXTURE, fixture)
    data = (fixture / "transformer.safetensors").read_bytes()
    (fixture / "transformer.safetensors").write_bytes(data[: len(data) // 2])
    assert main(["selftest", "--fixture", str(fixture)]) == 2
    assert "transformer.safetensors is truncated: it is" in capsys.readouterr().err


def test_selftest_on_a_device_this_machine_lacks(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA GPU")
    assert main(["selftest", "--fixture", str(FIXTURE), "--device", "cuda"]) == 2
    assert "device 'cuda' is not available" in capsys.readouterr().err
    assert main(["selftest", "--fixture", str(FIXTURE), "--device", "tpu"]) == 2
    assert "use cpu or cuda" in capsys.readouterr().err


def test_plan_for_a_device_chooses_what_fits_and_says_when_nothing_does(capsys):
    args = ["plan", "--model", "infinitystar-8b-480p", "--duration", "5", "--device", "cpu"]
    assert main([*args, "--memory-gb", "64", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fits"] and data["device"]["device"] == "cpu" and data["plan"]["precision"] == "fp32"
    assert data["peak_bytes"] <= data["budget_bytes"] == 64e9
    assert main([*args, "--memory-gb", "4"]) == 1
    out = capsys.readouterr().out
    assert "precision nf4" in out and "DOES NOT FIT" in out


def _figures(text: str) -> dict[str, float]:
    return {name: float(value) for name, value in re.findall(r"(\w+(?: encoder)?) (\d+\.\d\d)\b", text)}


@pytest.mark.parametrize("args", [
    ["--model", "infinitystar-8b-720p", "--device", "cpu", "--memory-gb", "24"],  # the text encoder kept in RAM
    ["--model", "infinitystar-8b-720p", "--precision", "nf4"],
    ["--model", "infinitystar-8b-480p", "--precision", "nf4", "--memory-gb", "8"],  # weights offloaded to decode
])
def test_the_printed_plan_adds_up_to_its_peak(args, capsys):
    main(["plan", *args])
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    peak_line = next(line for line in lines if line.startswith("peak "))
    peak = float(re.match(r"peak (\d+\.\d\d) GB = ", peak_line)[1])
    adds = _figures(next(line for line in lines if line.startswith("each phase")).split(":", 1)[1])
    assert set(adds) == {"text_encoder", "sampling", "decode"}
    resident_line = next((line for line in lines if line.startswith("resident in every phase")), None)
    resident = 0.0
    if resident_line:
        total, parts = resident_line.removeprefix("resident in every phase ").split(" GB: ")
        resident = float(total)
        assert abs(sum(_figures(parts).values()) - resident) <= 0.01 * len(_figures(parts))
        assert f"= resident {total} + " in peak_line
    assert abs(resident + max(adds.values()) - peak) <= 0.015
    if "--device" in args:
        assert "text encoder" in _figures(resident_line) and "transformer" in _figures(resident_line)
        main(["plan", *args, "--json"])
        data = json.loads(capsys.readouterr().out)
        assert data["peak_bytes"] == data["plan"]["peak_bytes"] == max(data["plan"]["phases"].values())
        assert abs(sum(data["plan"]["resident"].values()) / 1e9 - resident) < 0.006
