"""The engine protocol: every message survives the wire, and every kind of bad line is refused by name."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.api import protocol as p
from engine.api.jobs import JobInputError, JobSpec
from engine.api.records import DeviceSummary, GenerationRecord, GenerationSettings, ModelInfo, PlanSummary

DEVICE = DeviceSummary("cpu", "a CPU", 24 * 10**9, 20 * 10**9, 24 * 10**9, 20 * 10**9)
TOYWORLD = ModelInfo(
    id="toyworld", preset="toyworld", description="demo", builtin=True, installed=True, verified=True,
    needs_text_features=False, fps=16, frames_per_latent=4, clip_latents=4, trained_seconds=2.0, max_seconds=600,
    aspects={"1:1": 1.0}, default_aspect="1:1", guidance_scale=3.0, tau_video=0.5,
    plan=PlanSummary(True, "fp32", 0.04, ("weights 0.02 GB",)), precisions=("fp32", "bf16"), variants=("fp32",),
)
RECORD = GenerationRecord("toyworld", "toyworld", "fp32", GenerationSettings(seconds=2, seed=3, prompts=("a", "a")))

EXAMPLES = [
    p.Hello("s3cret-token-0123456789"),
    p.Submit({"kind": "generate", "model": "toyworld", "output": "/tmp/a.mp4", "prompts": ["a red ball"]}),
    p.Cancel("job-1"),
    p.Shutdown(),
    p.Move("job-2", "job-1"),
    p.Move("job-2", None),
    p.ListModels("cpu", 2),
    p.Models(DEVICE, [TOYWORLD]),
    p.Ready(1, "0.1.0", 4242),
    p.Accepted("job-1", 2),
    p.Started("job-1", 21, 3, 33, 64, 64, 16, "fp32", "cpu", ["a note"]),
    p.Progress("job-1", 4, 21, 0, 0.02, None),
    p.Progress("job-1", 5, 21, 1, 0.02, 1.5),
    p.ClipReady("job-1", 1, 0, 17, "/tmp/a.clips/clip_01.mp4", "/tmp/a.clips/clip_01.bits", RECORD),
    p.Finished("job-1", "/tmp/a.mp4", "/tmp/a.bits", RECORD, 1.5, 0.4, 1.1),
    p.Failed("job-1", "out_of_memory", "CUDA out of memory", "try nf4"),
    p.Failed(None, "bad_input", "refused a message"),
    p.Cancelled("job-1"),
]


@pytest.mark.parametrize("message", EXAMPLES, ids=lambda m: m.type)
def test_every_message_comes_back_equal_from_one_line(message):
    line = p.encode(message)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert json.loads(line)["v"] == p.PROTOCOL_VERSION
    assert p.decode(line) == message


def test_a_preview_carries_its_pixels_exactly():
    image = np.random.default_rng(0).integers(0, 256, (12, 20, 3), dtype=np.uint8)
    message = p.decode(p.encode(p.Preview.from_image("job-1", 3, 21, 0, image)))
    assert (message.width, message.height) == (20, 12)
    assert np.array_equal(np.frombuffer(message.pixels(), np.uint8).reshape(12, 20, 3), image)


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (b"{not json", "not a JSON message"),
        (b"[" * 100_000, "not a JSON message: the line is nested deeper than 64 levels (line 1, column 65)"),
        (b'{"v": 3, "type": "submit", "job": {"kind": "generate", "model": "toyworld", "output": "o.mp4", '
         b'"prompts": ["a"], "guidance_scale": Infinity}}', "the line holds Infinity, not a finite number"),
        (b'{"v": 3, "type": "progress", "job_id": "a", "index": 0, "total": 2, "clip": 0, "seconds": NaN,'
         b' "eta_seconds": null}', "the line holds NaN, not a finite number"),
        (b'{"v": 3, "type": "progress", "job_id": "a", "index": 0, "total": 2, "clip": 0, "seconds": 1e999,'
         b' "eta_seconds": null}', "holds 1e999, not a finite number"),
        (b"[1, 2]", "must be a JSON object, got list"),
        (b'{"type": "cancel", "job_id": "a"}', "protocol version None is not spoken here; this engine speaks 3"),
        (b'{"v": 99, "type": "cancel", "job_id": "a"}', "protocol version 99 is not spoken here"),
        (b'{"v": 3, "type": "launch"}', "unknown message type 'launch'"),
        (b'{"v": 3, "type": "cancel"}', "a 'cancel' message needs the field 'job_id'"),
        (b'{"v": 3, "type": "cancel", "job_id": 7}', "field 'job_id' of a 'cancel' message must be"),
        (b'{"v": 3, "type": "cancel", "job_id": "a", "now": true}', "a 'cancel' message has no field now"),
        (b'{"v": 3, "type": "progress", "job_id": "a", "index": true, "total": 2, "clip": 0, "seconds": 1,'
         b' "eta_seconds": null}', "field 'index'"),
        (b'{"v": 3, "type": "failed", "job_id": "a", "kind": "oops", "message": "m"}', "failure kind must be one of"),
        (b'{"v": 3, "type": "cancel", "job_id": "' + b"x" * p.MAX_LINE_BYTES + b'"}', "longer than the limit"),
        (b'{"v": 1, "type": "cancel", "job_id": "a"}', "protocol version 1 is not spoken here"),
        (b'{"v": 3, "type": "models", "device": {"device": "cpu"}, "models": []}',
         "field 'device' of a 'models' message: a device needs the field 'name'"),
        (b'{"v": 3, "type": "finished", "job_id": "a", "video": "v", "bits": "b", "seconds": 1, "sampling_seconds": 1,'
         b' "decode_seconds": 0, "record": {"model": "m", "preset": "p", "precision": "fp32",'
         b' "settings": {"seconds": "two", "seed": 1}}}', "field 'seconds' of the settings should be a whole number"),
    ],
)
def test_a_bad_line_is_refused_with_what_is_wrong(line, says):
    with pytest.raises(p.ProtocolError, match=None) as err:
        p.decode(line)
    assert says in str(err.value)


def test_a_refused_line_still_names_its_job_when_it_can():
    assert p.job_id_of(b'{"v": 9, "type": "cancel", "job_id": "abc"}') == "abc"
    assert p.job_id_of(b'{"v": 9, "type": "submit", "job": {"id": "j2"}}') == "j2"
    assert p.job_id_of(b"garbage") is None
    assert p.job_id_of(b'{"v": 3, "type": "submit", "job": {"id": "j3", "tau_video": NaN}}') == "j3"
    assert p.job_id_of(b"[" * 100_000) is None


def test_a_message_that_cannot_be_sent_is_a_protocol_error_naming_it():
    with pytest.raises(p.ProtocolError, match="a 'progress' message cannot be sent: Out of range float values"):
        p.encode(p.Progress("job-1", 0, 21, 0, float("nan"), None))


def test_a_job_round_trips_and_bad_jobs_name_the_field():
    spec = JobSpec(kind="storyboard", model="toyworld", output="/tmp/s.mp4", prompts=("a", "b"), seconds=2, seed=9)
    assert JobSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec
    job = {"kind": "generate", "model": "toyworld", "output": "o.mp4", "prompts": ["a"]}
    cases = [
        ({"kind": "generate", "model": "toyworld", "output": "o.mp4", "prompts": [" "]}, "prompt 1 is empty"),
        ({"kind": "generate", "model": "toyworld", "output": "o.mp4", "prompts": ["x" * 5000]}, "5000 characters"),
        ({"kind": "generate", "model": "toyworld", "output": "o.mp4"}, "needs a prompt"),
        ({"kind": "paint", "model": "toyworld", "output": "o.mp4"}, "job kind must be one of"),
        ({"kind": "continue", "model": "toyworld", "output": "o.mp4"}, "needs 'continue_from'"),
        ({**job, "seconds": -1}, "'seconds'"),
        ({**job, "seed": "7"}, "'seed'"),
        ({**job, "colour": 1}, "no field colour"),
        ({"model": "toyworld", "output": "o.mp4"}, "needs the field(s) kind"),
        ({"kind": "bridge", "model": "m", "output": "o.mp4", "continue_from": "a.bits.safetensors"}, "'bridge_to'"),
    ]
    for body, says in cases:
        with pytest.raises(JobInputError) as err:
            JobSpec.from_json(body)
        assert says in str(err.value), body
