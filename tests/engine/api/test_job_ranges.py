"""Every number of a job has a finite range, set once in engine.api.jobs: NaN, Infinity and 1e308 are refused
naming the field and what it takes, before the job is accepted."""

from __future__ import annotations

import math

import pytest

from engine.api.jobs import GUIDANCE_SCALE, MAX_SEED, MAX_VIDEO_SECONDS, TAU, JobInputError, JobSpec

JOB = {"kind": "generate", "model": "toyworld", "output": "o.mp4", "prompts": ["a red ball"]}
BRIDGE = {"kind": "bridge", "model": "toyworld", "output": "o.mp4", "continue_from": "a.bits", "bridge_to": "b.mp4",
          "seconds": 2}


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"guidance_scale": math.inf}, "job field 'guidance_scale' must be a number above 0 and up to 50, got inf"),
        ({"guidance_scale": 1e308}, "job field 'guidance_scale' must be a number above 0 and up to 50, got 1e+308"),
        ({"guidance_scale": math.nan}, "'guidance_scale' must be a number above 0 and up to 50, got nan"),
        ({"guidance_scale": 0}, "'guidance_scale' must be a number above 0 and up to 50, got 0"),
        ({"guidance_scale": 10**400}, "'guidance_scale' must be a number above 0 and up to 50"),
        ({"guidance_scale": True}, "'guidance_scale' must be a number"),
        ({"tau_video": math.nan}, "job field 'tau_video' must be a number above 0 and up to 5, got nan"),
        ({"tau_video": -math.inf}, "'tau_video' must be a number above 0 and up to 5, got -inf"),
        ({"tau_image": 5.01}, "job field 'tau_image' must be a number above 0 and up to 5, got 5.01"),
        ({"tau_image": "hot"}, "'tau_image' must be a number above 0 and up to 5, got 'hot'"),
        ({"seed": -1}, "job field 'seed' must be a whole number from 0 to 2^63 - 1"),
        ({"seed": 2**63}, "job field 'seed' must be a whole number from 0 to 2^63 - 1"),
        ({"seconds": 601}, "job field 'seconds' must be whole seconds from 0 to 600"),
    ],
)
def test_a_number_out_of_its_range_is_refused_naming_the_field_and_the_range(change, says):
    with pytest.raises(JobInputError) as err:
        JobSpec.from_json({**JOB, **change})
    assert says in str(err.value)
    assert err.value.field == next(iter(change))


@pytest.mark.parametrize(
    ("fade", "says"),
    [
        (2.5, "job field 'crossfade_seconds' must be a number from 0 up to the job's 2 s (the fade is part of it), "
              "got 2.5"),
        (-0.5, "got -0.5"),
        (math.nan, "got nan"),
        (math.inf, "got inf"),
    ],
)
def test_a_bridges_fade_is_from_0_up_to_its_length(fade, says):
    with pytest.raises(JobInputError) as err:
        JobSpec.from_json({**BRIDGE, "crossfade_seconds": fade})
    assert says in str(err.value)


def test_the_ends_of_each_range_are_accepted():
    edges = {"guidance_scale": GUIDANCE_SCALE.high, "tau_image": TAU.high, "tau_video": 0.01, "seed": MAX_SEED,
             "seconds": MAX_VIDEO_SECONDS}
    spec = JobSpec.from_json({**JOB, **edges})
    assert (spec.guidance_scale, spec.tau_image, spec.seed, spec.seconds) == (50, 5, 2**63 - 1, 600)
    assert JobSpec.from_json({**BRIDGE, "crossfade_seconds": 2}).crossfade_seconds == 2
    assert JobSpec.from_json({**BRIDGE, "crossfade_seconds": 0}).crossfade_seconds == 0


def test_a_fade_on_a_job_that_is_no_bridge_is_named_for_that():
    with pytest.raises(JobInputError, match="'crossfade_seconds' is for bridge jobs only"):
        JobSpec.from_json({**JOB, "crossfade_seconds": 1})
