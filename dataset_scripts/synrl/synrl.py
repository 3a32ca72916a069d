"""The SynRL ``datasets`` builder.

datasets 5 no longer runs loading scripts, so ``load_dataset("synrl", …)`` reads the folder that
``synrl build`` materialises (parquet + card). This builder is the same generator as a
``GeneratorBasedBuilder`` for direct use: generate on the fly without files, or prepare into a cache.

    from dataset_scripts.synrl import SynRL
    builder = SynRL(config_name="short_term", per_task=8, seed=0)
    stream = builder.as_streaming_dataset(split="train")      # generated while iterating
    builder.download_and_prepare(); ds = builder.as_dataset()  # or materialised in the cache
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets

from synrl_hf.build import resolve_configs
from synrl_hf.families import CATEGORIES, FAMILIES
from synrl_hf.features import SAMPLE_FEATURES
from synrl_hf.sample import DEFAULT_RESOLUTION, generate_sample
from synrl_hf.seeding import SPLITS
from synrl_hf.version import __version__


@dataclass
class SynRLConfig(datasets.BuilderConfig):
    per_task: int = 20
    seed: int = 0
    preset: str = "round1"
    resolution: int = DEFAULT_RESOLUTION
    renderer: str = "pillow"


class SynRL(datasets.GeneratorBasedBuilder):
    BUILDER_CONFIG_CLASS = SynRLConfig
    BUILDER_CONFIGS = [SynRLConfig(name=name, version=datasets.Version(__version__)) for name in ("all", *CATEGORIES, *FAMILIES)]
    DEFAULT_CONFIG_NAME = "all"

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description="Synthetic temporal-reasoning videos with ground truth by construction (SynRL).",
            features=SAMPLE_FEATURES,
            license="apache-2.0",
        )

    def _split_generators(self, dl_manager):
        families = tuple(resolve_configs([self.config.name]))
        # Tuples, not lists: datasets treats a list in gen_kwargs as shards and multiplies rows.
        return [datasets.SplitGenerator(name=split, gen_kwargs={"families": families, "split": split}) for split in SPLITS]

    def _generate_examples(self, families, split):
        cfg = self.config
        for index in range(cfg.per_task):
            for family in families:
                row = generate_sample(family, index, cfg.seed, split, preset=cfg.preset, resolution=cfg.resolution, renderer=cfg.renderer)
                yield row["id"], row
