"""VideoMMMU: knowledge acquisition from lecture videos (Hu et al., 2025), three tracks.

Data: Hub ``lmms-eval/VideoMMMU`` ``<Track>/test-00000-of-00001.parquet`` for Perception,
Comprehension and Adaptation (``id, question, options`` (up to 10, or none for open questions),
``answer``, ``question_type``), or github.com/EvolvingLMMs-Lab/VideoMMMU ``data/<track>_video.json``
(``{"<Track>": {"0": {...}}}``). The same ``id`` (``<split>_<Subject>_<n>``) is in all three tracks,
so ids here are ``<Track>/<id>``. Each lecture video is stored once, under its *discipline* folder
(``Art/ Science/ Humanities/ Engineering/ Medicine/ Business/<id>.mp4``, from the subject in the id).
Protocol: lmms-eval ``video_mmmu_*``: Perception/Comprehension: question + options + "Please ignore
the Quiz question in last frame of the video."; Adaptation: "You should watch and learn ..." + the
multi-choice or open-ended instruction + question (+ options); 1024 new tokens; multiple choice by the
shared ``extract_mcq_answer``, open answers by MMMU's ``parse_open_response``/``eval_open``; an empty
reply to an open question is left out of the score (as lmms-eval does); accuracy overall and per track.
With ``--judge-*`` open answers are also judged (VCR-Bench's extraction + consistency prompts):
``acc_judged``.
"""

from __future__ import annotations

from pathlib import Path

from synrl_hf.frame_budget import FrameBudget

from ..common.converters import annotation_files, as_list, find_video, read_records, write_clip, write_local_folder, write_parquet
from ..common.metrics import GroupMean, Mean
from ..common.parsing import extract_mcq_answer, letters_for, mmmu_open_correct
from ..common.tasks import Benchmark, mc_scores
from . import vcrbench

TRACKS = ("Perception", "Comprehension", "Adaptation")
PRE_PROMPT = "You should watch and learn the video content. Then apply what you learned to "
MCQ_PROMPT = "answer the following multi-choice question. The image for this question is at the end of the video.\n"
OPEN_PROMPT = "answer the following open-ended question. The image for this question is at the end of the video.\n"
PC_PROMPT = "\nPlease ignore the Quiz question in last frame of the video."
DISCIPLINES = {  # lmms-eval get_cache_dir
    "Art": ("Art", "Art_Theory", "Design", "Music"),
    "Science": ("Biology", "Chemistry", "Geography", "Math", "Physics"),
    "Humanities": ("History", "Literature", "Sociology", "Psychology"),
    "Engineering": (
        "Agriculture",
        "Architecture_and_Engineering",
        "Computer_Science",
        "Electronics",
        "Energy_and_Power",
        "Materials",
        "Mechanical_Engineering",
    ),
    "Medicine": ("Basic_Medical_Science", "Clinical_Medicine", "Diagnostics_and_Laboratory_Medicine", "Pharmacy", "Public_Health"),
    "Business": ("Accounting", "Economics", "Finance", "Manage", "Marketing"),
}


def discipline(question_id: str) -> str:
    """The folder of a lecture video: ``dev_Art_Theory_3`` -> subject ``Art_Theory`` -> ``Art``."""
    subject = "_".join(question_id.split("_")[1:-1])
    for folder, subjects in DISCIPLINES.items():
        if subject in subjects:
            return folder
    raise ValueError(
        f"videommmu: subject {subject!r} of {question_id!r} is in no discipline; valid: {sorted(sum(DISCIPLINES.values(), ()))}"
    )


def _track_records(path: Path) -> list[tuple[str, dict]]:
    """(track, record) pairs: the track is a parquet's folder, or the GitHub json's top-level key."""
    records = read_records(path)
    if path.suffix == ".json" and len(records) == 1 and records[0].get("__key__") in TRACKS:
        track = records.pop()
        name = track.pop("__key__")
        return [(name, record) for record in track.values()]
    track = next((t for t in TRACKS if t.lower() in (p.lower() for p in path.parts)), None) or next(
        (t for t in TRACKS if path.name.lower().startswith(t.lower())), None
    )
    if track is None:
        raise ValueError(f"videommmu: cannot tell the track of {path}; expected a {'/'.join(TRACKS)} folder or <track>_video.json")
    return [(track, record) for record in records]


def convert(source, videos_root, out):
    rows = []
    for path in annotation_files(source, (".parquet", ".json")):
        for track, r in _track_records(path):
            qid = str(r["id"])
            options = [str(o) for o in as_list(r.get("options"))]
            folder = discipline(qid)
            rows.append(
                {
                    "id": f"{track}/{qid}",
                    "videos": [find_video(videos_root, [f"{folder}/{qid}.mp4", f"videos/{folder}/{qid}.mp4", f"{qid}.mp4"])],
                    "question": str(r["question"]),
                    "options": options,
                    "answer": str(r["answer"]).strip(),
                    "meta": {"track": track, "question_type": str(r.get("question_type") or ("multiple-choice" if options else "open"))},
                }
            )
    return write_local_folder("videommmu", rows, out, videos_root, source)


def _options(options: list[str]) -> str:
    """lmms-eval ``parse_options``: kept when every option already starts with its letter."""
    letters = letters_for(options)
    if all(o.startswith(f"{letter}.") for o, letter in zip(options, letters)):
        return "\n".join(options)
    return "\n".join(f"{letter}. {o}" for letter, o in zip(letters, options))


def prompt(row) -> str:
    multiple_choice = row["meta"]["question_type"] == "multiple-choice"
    if row["meta"]["track"] != "Adaptation":
        return f"{row['question']}\n{_options(row['options'])}{PC_PROMPT}"
    if multiple_choice:
        return f"{PRE_PROMPT}{MCQ_PROMPT}{row['question']}\n{_options(row['options'])}"
    return f"{PRE_PROMPT}{OPEN_PROMPT}{row['question']}"


def score(spec, text) -> dict:
    track = spec["meta"]["track"]
    if spec["meta"]["question_type"] == "multiple-choice":
        return mc_scores(extract_mcq_answer(text, letters_for(spec["options"])), spec["answer"], track, key="by_track")
    correct = mmmu_open_correct(text, spec["answer"])
    if correct is None:
        return {}  # an empty reply to an open question: left out of the score, as lmms-eval's "API Error" rows are
    return {"acc": float(correct), "by_track": {"group": track, "score": float(correct)}}


def judge(spec, reply, ask) -> float | None:
    if spec["meta"]["question_type"] == "multiple-choice":
        return None
    return vcrbench.judge(spec, reply, ask)


def oracle(spec) -> str:
    return f"({spec['answer']})" if spec["meta"]["question_type"] == "multiple-choice" else f"The answer is {spec['answer']}"


def write_fixture(root) -> tuple[Path, Path]:
    """The Hub's ``<Track>/test-00000-of-00001.parquet`` (``dev_Biology_3`` in all three tracks, with
    the GitHub data's verbatim Perception and open Adaptation questions) and one video per id under
    its discipline folder."""
    root = Path(root)
    repo = root / "VideoMMMU"
    biology = ["3, 3", "3, 4", "3, 5", "3, 6", "4, 3", "4, 4", "4, 5", "4, 6", "5, 5", "5, 6"]
    art = ["Baroque", "Gothic", "Romanesque", "Rococo"]
    tracks = {
        "Perception": [
            (
                "dev_Biology_3",
                "The video gives two examples of aldose and ketose, how many carbon atoms do they have respectively?",
                biology,
                "G",
            ),
            ("test_Art_Theory_5", "Which style does the lecture show first?", art, "A"),
        ],
        "Comprehension": [
            ("dev_Biology_3", "Which sugar in the video has the most carbon atoms?", biology, "C"),
            ("test_Art_Theory_5", "Which style came after the one shown first?", art, "A"),
        ],
        "Adaptation": [
            ("dev_Biology_3", "<image 1> What kind of sugar is this, aldose or ketose?", ["aldose", "ketose", "glucose", "sucrose"], "A"),
            (
                "validation_Chemistry_13",
                "Solutions A and B consisting of calcium hydroxide dissolved in water. <image 1> Solution A has 500 mL. What mass of calcium "
                "hydroxide was dissolved to make this solution? (Note: The molar mass of calcium hydroxide is 74.093 g/mol.)",
                [],
                "12.97",
            ),
        ],
    }
    for track, items in tracks.items():
        rows = [
            {"id": qid, "question": q, "options": options, "answer": answer, "question_type": "multiple-choice" if options else "open"}
            for qid, q, options, answer in items
        ]
        write_parquet(repo / track / "test-00000-of-00001.parquet", rows)
    for i, qid in enumerate(["dev_Biology_3", "test_Art_Theory_5", "validation_Chemistry_13"]):
        write_clip(repo / discipline(qid) / f"{qid}.mp4", seconds=2, seed=120 + i)
    return repo, repo


BENCHMARK = Benchmark(
    name="videommmu",
    title="VideoMMMU",
    group="general",
    source="lmms-eval `video_mmmu` (Hub lmms-eval/VideoMMMU)",
    convert=convert,
    write_fixture=write_fixture,
    prompt=prompt,
    score=score,
    aggregations={"acc": Mean(), "by_track": GroupMean("acc_")},
    headline=("acc",),
    oracle=oracle,
    generation_size=1024,
    deviations="Accuracy over all questions (lmms-eval: instance-weighted over subjects, the same number). The optional judge for open "
    "answers is ours (VCR-Bench's prompts); VideoMMMU's official score has none.",
    frame_budget=FrameBudget(num_frames=32, max_pixels=1_605_632),
    budget_note="32 frames (VideoMMMU README's lmms-eval example)",
    fixture_note="lmms-eval/VideoMMMU <Track>/test-00000-of-00001.parquet (card features); EvolvingLMMs-Lab/VideoMMMU@88b4ac3 "
    "data/*_video.json records dev_Biology_3 and validation_Chemistry_13",
    unverified="`question_type` values on the Perception/Comprehension parquet are not confirmed (multiple choice is inferred from the "
    "options when missing); the Adaptation `image` column is ignored (the image is the video's last frame)",
    judge=judge,
)
