"""Stage 1 of SynRL: SFT on synthetic CoT videos mixed with ~15% general video QA (answer only).

    accelerate launch --config_file recipes/accelerate_configs/zero3.yaml recipes/sft.py \
        --config recipes/Qwen3-VL-4B-Instruct/sft/config_synrl.yaml

Frames are decoded by synrl's read_frames under the recipe's frame budget (video_fps / video_num_frames,
video_max_frames, video_max_pixels) and reach the model with their timestamps; the loss is on the
assistant turns only (VideoSFTCollator). Any recipe key can be overridden on the command line.
"""

from trl import ModelConfig, SFTConfig, SFTTrainer, TrlParser, get_peft_config

from synrl_hf.training import run
from synrl_hf.training.collator import VideoSFTCollator
from synrl_hf.training.configs import SynRLScriptArguments
from synrl_hf.training.data import load_train_eval


def main(script_args, training_args, model_args):
    # Rows are collated from raw columns (video + messages): no TRL-side tokenization or column pruning.
    training_args.remove_unused_columns = False
    training_args.dataset_kwargs = {**(training_args.dataset_kwargs or {}), "skip_prepare_dataset": True}
    model, processor = run.load_policy(model_args, training_args)
    train_dataset, eval_dataset = load_train_eval(script_args, do_eval=training_args.eval_strategy != "no")
    collator = VideoSFTCollator(
        processor,
        script_args.frame_budget(),
        messages_column=script_args.messages_column,
        video_column=script_args.video_column,
        max_length=training_args.max_length,
    )
    trainer = SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        data_collator=collator,
        peft_config=get_peft_config(model_args),
        callbacks=run.standard_callbacks(script_args),
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    run.finish(trainer, processor, "sft", script_args, training_args, model_args)


if __name__ == "__main__":
    parser = TrlParser((SynRLScriptArguments, SFTConfig, ModelConfig))
    main(*parser.parse_args_and_config())
