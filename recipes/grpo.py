"""Stage 2 of SynRL: GRPO with the accuracy reward on synthetic videos (round 1, then round 2).

    accelerate launch --config_file recipes/accelerate_configs/zero3.yaml recipes/grpo.py \
        --config recipes/Qwen3-VL-4B-Instruct/grpo/config_round1.yaml

VideoGRPOTrainer makes the video tensors reach generation *and* the loss forward (stock TRL drops
them from the loss), encodes each distinct video once per forward (`vision_dedupe`), suppresses
vision pad tokens in generation, and with `video_mode: images` hands frames to TRL's image path
(vLLM rollouts). Rewards are logged per answer type and task.
"""

from trl import GRPOConfig, ModelConfig, TrlParser, get_peft_config

from synrl_hf.training import run
from synrl_hf.training.configs import SynRLScriptArguments
from synrl_hf.training.data import load_train_eval
from synrl_hf.training.grpo_trainer import VideoGRPOTrainer, check_generation_setup


def main(script_args, training_args, model_args):
    # Settings that would generate without the video fail here, before the model loads.
    check_generation_setup(training_args, None, script_args.video_mode, script_args.frame_budget())
    model, processor = run.load_policy(model_args, training_args, padding_side="left")
    train_dataset, eval_dataset = load_train_eval(script_args, do_eval=training_args.eval_strategy != "no")
    trainer = VideoGRPOTrainer(
        model=model,
        reward_funcs=run.reward_funcs(script_args),
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=get_peft_config(model_args),
        callbacks=run.standard_callbacks(script_args),
        frame_budget=script_args.frame_budget(),
        video_mode=script_args.video_mode,
        video_column=script_args.video_column,
        vision_dedupe=script_args.vision_dedupe,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    run.finish(trainer, processor, "grpo", script_args, training_args, model_args)


if __name__ == "__main__":
    parser = TrlParser((SynRLScriptArguments, GRPOConfig, ModelConfig))
    main(*parser.parse_args_and_config())
