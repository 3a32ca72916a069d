"""Run by tests/test_online_distributed.py under torchrun: each rank reads its lanes of one online stream
with DataLoader workers (``split_dataset_by_node``), and rank 0 writes every rank's rows to argv[1]."""

from __future__ import annotations

import itertools
import json
import sys

import torch
import torch.distributed as dist
from datasets.distributed import split_dataset_by_node

from synrl_hf.frame_budget import FrameBudget
from synrl_hf.online import online_dataset

WORKERS, BLOCK, BLOCKS = 2, 2, 4


def main(out: str) -> None:
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    dataset = online_dataset("all", levels=1, block_size=BLOCK, lanes=world * WORKERS, budget=FrameBudget(num_frames=4), resolution=64)
    loader = torch.utils.data.DataLoader(
        split_dataset_by_node(dataset, rank=rank, world_size=world), batch_size=BLOCK, num_workers=WORKERS, collate_fn=list
    )
    mine = [(r["id"], r["stream"]["lane"], r["stream"]["position"]) for batch in itertools.islice(loader, BLOCKS) for r in batch]
    everyone: list = [None] * world
    dist.all_gather_object(everyone, mine)
    if rank == 0:
        with open(out, "w") as handle:
            json.dump({"workers": WORKERS, "block": BLOCK, "blocks": BLOCKS, "ranks": everyone}, handle)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
