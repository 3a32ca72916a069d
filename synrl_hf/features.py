"""The ``datasets.Features`` of a sample row (docs/data-contract.md), with every number type pinned."""

from __future__ import annotations

from datasets import Features, Json, List, Value, Video

EVENT = {
    "frame": Value("int32"),
    "time": Value("float64"),
    "type": Value("string"),
    "objects": List(Value("string")),
    "detail": Value("string"),
}
OPERATION = {
    "index": Value("int32"),
    "name": Value("string"),
    "args": Value("string"),  # JSON
    "start_frame": Value("int32"),
    "end_frame": Value("int32"),
    "start_time": Value("float64"),
    "end_time": Value("float64"),
}
STATE = {"frame": Value("int32"), "time": Value("float64"), "state": Value("string")}  # state: JSON
OBJECT = {
    "id": Value("string"),
    "shape": Value("string"),
    "color": Value("string"),
    "rgb": List(Value("int32")),
    "size": Value("float64"),
    "label": Value("string"),
}
TRACK = {
    "object": Value("string"),
    "x": List(Value("float32")),
    "y": List(Value("float32")),
    "angle": List(Value("float32")),
    "visible": List(Value("bool")),
}

SAMPLE_FEATURES = Features(
    {
        "id": Value("string"),
        "task": Value("string"),
        "category": Value("string"),
        "primitive": Value("string"),
        "question_type": Value("string"),
        # Stored undecoded: datasets decodes Video only through torchcodec, which CPU machines lack.
        # Use synrl_hf.read_frames(row["video"]) (PyAV), or cast_column("video", Video()) with torchcodec.
        "video": Video(decode=False),
        "fps": Value("int32"),
        "num_frames": Value("int32"),
        "duration": Value("float64"),
        "width": Value("int32"),
        "height": Value("int32"),
        "question": Value("string"),
        "options": List(Value("string")),
        "answer": Value("string"),
        "answer_type": Value("string"),
        # Message lists as JSON, so chat templates see exactly the content blocks written here.
        "prompt": Json(),
        "solution": Value("string"),
        "events": List(EVENT),
        "operations": List(OPERATION),
        "states": List(STATE),
        "objects": List(OBJECT),
        "tracks": List(TRACK),
        "difficulty": Value("string"),  # JSON of the family's parameters
        "preset": Value("string"),
        "level": Value("int32"),  # the ladder level the preset names (round1 = 0, round2 = 1, level<k> = k)
        "split": Value("string"),
        "index": Value("int64"),
        "seed": Value("int64"),
        "generator_version": Value("string"),
        "renderer": Value("string"),
    }
)
