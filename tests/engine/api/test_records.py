"""The typed records of the API: every provenance the engine ever wrote reads back, clip times agree with the
engine's schedule, and bad JSON is refused naming the field."""

from __future__ import annotations

import json

import pytest

from engine.api.records import (
    BitsHeader,
    GenerationInputs,
    GenerationRecord,
    GenerationSettings,
    ModelInfo,
    RecordError,
    read_provenance,
)
from engine.config import PRESETS
from engine.runtime.hardware import detect_device
from engine.schedule import build_schedule
from engine.service.models_info import describe_model
from engine.weights.catalogue import CATALOGUE

# What the first engine (the in-process `istar generate`) wrote: one prompt, no kind, the passes it continued.
FIRST_ENGINE = {
    "app": "InfinityStar Studio", "engine_version": "0.1.0", "model": "toyworld", "preset": "toyworld",
    "precision": "fp32", "weights_sha256": "ab" * 32,
    "settings": {"seconds": 2, "aspect_h_over_w": 1.0, "resolution": "toyworld", "seed": 7, "guidance": "cfg",
                 "guidance_scale": 3.0, "apg_norm_threshold": 0.05, "tau_image": 0.25, "tau_video": 0.5,
                 "image_to_video": False, "continued_passes": 0},
    "inputs": {"prompt": "a red circle moves up"},
}


def test_a_video_of_the_first_engine_reads_as_one_prompt_generation():
    found = read_provenance(json.dumps(FIRST_ENGINE))
    record = found.generation
    assert record.prompts == ("a red circle moves up",) and record.inputs.kind == "generate"
    assert record.settings.seed == 7 and record.settings.seconds == 2 and not record.inputs.plays_on
    assert found.single == (record, 0.0)


def test_a_record_survives_its_json_and_keeps_every_field_the_engine_writes():
    record = GenerationRecord(
        "infinitystar-8b-480p", "infinitystar-8b-480p", "nf4",
        GenerationSettings(seconds=10, seed=1, prompts=("a", "a", "b"), aspect_h_over_w=0.5625, guidance_scale=7.5,
                           continued_from_clip=3),
        GenerationInputs(kind="bridge", prompts=("a", "b"), continued_from_sha256="c" * 64, continued_from_clip=3,
                         bridge_to_sha256="d" * 64, crossfade_frames=16),
        weights_sha256="e" * 64, engine_version="1.2.3",
    )
    body = json.loads(json.dumps(record.to_json()))
    assert GenerationRecord.from_json(body) == record
    assert body["inputs"]["prompts"] == ["a", "b"] and body["settings"]["guidance_scale"] == 7.5
    assert record.inputs.plays_on


def test_an_exported_timeline_keeps_the_clips_it_can_read():
    good = {"track": "Video 1", "file": "a.mp4", "start_s": 2.0, "end_s": 4.0, "source_in_s": 0.5,
            "provenance": FIRST_ENGINE}
    found = read_provenance(json.dumps([good, {"track": "Video 2", "provenance": {"model": 3}}]))
    assert len(found.clips) == 1 and found.clips[0].video_start_s == 1.5
    record, start = found.single
    assert record.model == "toyworld" and start == 1.5
    # the studio's project file keeps an export's list as {"clips": [...]}
    assert read_provenance({"clips": [good, good]}).single is None


def test_a_sped_clip_of_an_export_says_its_pace_and_is_not_continued_from():
    slow = {"track": "Video 1", "file": "a.mp4", "start_s": 2.0, "end_s": 6.0, "source_in_s": 0.5, "speed": 0.5,
            "provenance": FIRST_ENGINE}
    found = read_provenance([slow])
    assert found.clips[0].speed == 0.5 and found.clips[0].video_start_s == 1.0, "its video's 0.5 s is 1 s in"
    assert found.clips[0].to_json()["speed"] == 0.5
    assert found.single is None, "its frames are not the generation's: nothing continues from them"
    assert read_provenance([slow | {"speed": 0}]) is None and read_provenance([slow | {"speed": "fast"}]) is None
    backwards = read_provenance([slow | {"speed": -1}])
    assert backwards.clips[0].speed == -1 and backwards.single is None, "a reversed clip: backwards, not continued"


@pytest.mark.parametrize("text", ["", "not json", "[]", '{"title": "holiday"}', "42", '[{"x": 1}]', "[" * 100_000,
                                  '{"model": "toyworld", "settings": {"seconds": 2, "seed": 1, "tau_video": NaN}}'])
def test_a_comment_that_is_not_provenance_is_none(text):
    assert read_provenance(text) is None


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"model": None}, "the generation record needs the field 'model'"),
        ({"settings": {"seed": 1}}, "the settings needs the field 'seconds'"),
        ({"settings": {"seconds": 2, "seed": True}}, "field 'seed' of the settings should be a whole number"),
        ({"settings": {"seconds": 2, "seed": 1, "tau_video": float("nan")}}, "should be a finite number"),
        ({"inputs": {"prompts": ["a", 3]}}, "field 'prompts' of the inputs should be a list of texts"),
    ],
)
def test_a_bad_record_names_its_field(change, says):
    body = {**FIRST_ENGINE, **change}
    body = {k: v for k, v in body.items() if v is not None}
    with pytest.raises(RecordError, match=None) as err:
        GenerationRecord.from_json(body)
    assert says in str(err.value)


@pytest.mark.parametrize("name", sorted({entry.preset for entry in CATALOGUE.values()}))
def test_clip_times_are_where_the_engines_schedule_puts_the_clips(name):
    """Frames of a decoded video: one for the first frame's latent, `time_factor` for every later latent frame."""
    preset = PRESETS[name]
    model = ModelInfo.from_json(json.loads(json.dumps(_describe_any(name).to_json())))
    for seconds in (1, 3, 7, 12):
        schedule = build_schedule(preset.schedule, seconds, preset.default_aspect)
        frames, starts = 1, [0]
        for latents in schedule.clip_lengths[1:]:
            frames += latents * preset.vae.time_factor
            starts.append(frames)
        assert model.clip_times(seconds) == pytest.approx([f / preset.schedule.fps for f in starts])
        playing_on = [0, *(f - 1 for f in starts[1:])]  # no first frame of its own
        assert model.clip_times(seconds, first_frame=False) == pytest.approx([f / preset.schedule.fps
                                                                              for f in playing_on])


def test_a_three_second_toyworld_video_has_its_clips_at_frames_0_17_33():
    model = _describe_any("toyworld")
    assert [round(t * 16) for t in model.clip_times(3)] == [0, 17, 33, 49]
    assert [round(t * 16) for t in model.clip_times(3, first_frame=False)] == [0, 16, 32, 48]
    assert model.clip_seconds == 1 and model.aspect_of(1.02) == "1:1" and model.aspect_of(0.5) is None
    with pytest.raises(RecordError, match="0 to 600 s"):
        model.clip_times(601)


def test_a_bits_header_names_the_file_when_it_is_wrong():
    assert BitsHeader.from_json({"model": "toyworld", "aspect_h_over_w": 1, "fps": 16}).aspect_h_over_w == 1.0
    with pytest.raises(RecordError, match="the header of x.bits needs the field 'fps'"):
        BitsHeader.from_json({"model": "toyworld", "aspect_h_over_w": 1}, "the header of x.bits")


def _describe_any(name: str) -> ModelInfo:
    """The model info the engine lists for the catalogue model of preset `name`."""
    model_id = next(m for m, entry in CATALOGUE.items() if entry.preset == name)
    return describe_model(model_id, PRESETS[name], detect_device("cpu"), 2)
