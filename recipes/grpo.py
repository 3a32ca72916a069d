"""Stage 2 of SynRL: GRPO with the accuracy reward on synthetic videos (round 1, then round 2).

    accelerate launch --config_file recipes/accelerate_configs/zero3.yaml recipes/grpo.py \
        --config recipes/Qwen3-VL-4B-Instruct/grpo/config_round1.yaml

VideoGRPOTrainer makes the video tensors reach generation *and* the loss forward (stock TRL drops
them from the loss), encodes each distinct video once per forward (`vision_dedupe`), suppresses
vision pad tokens in generation, and with `video_mode: images` hands frames to TRL's image path
(vLLM rollouts). Rewards are logged per answer type and task.

With `online: true` (recipes/<model>/grpo/config_online.yaml) the samples are generated while
training instead of read from dataset_name, never repeat, and each family's difficulty follows the
policy (synrl_hf.online; recipes/README.md).
"""

from trl import GRPOConfig, ModelConfig, TrlParser, get_peft_config

from synrl_hf.online.grpo import OnlineArguments, OnlineRun
from synrl_hf.training import run
from synrl_hf.training.configs import SynRLScriptArguments
from synrl_hf.training.data import load_train_eval
from synrl_hf.training.grpo_trainer import VideoGRPOTrainer, check_generation_setup


def main(script_args, training_args, model_args, online_args=None):
    # Settings that would generate without the video fail here, before the model loads.
    check_generation_setup(training_args, None, script_args.video_mode, script_args.frame_budget())
    rewards, callbacks = run.reward_funcs(script_args), run.standard_callbacks(script_args)
    if online_args is not None and online_args.online:
        OnlineRun.prepare(training_args)
        online = OnlineRun(online_args, script_args.frame_budget(), training_args)
        train_dataset, eval_dataset = online.dataset(), None
        rewards = online.wrap_rewards(rewards, script_args.reward_funcs)
        callbacks.append(online.callback())
    else:
        train_dataset, eval_dataset = load_train_eval(script_args, do_eval=training_args.eval_strategy != "no")
    model, processor = run.load_policy(model_args, training_args, padding_side="left")
    trainer = VideoGRPOTrainer(
        model=model,
        reward_funcs=rewards,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=processor,
        peft_config=get_peft_config(model_args),
        callbacks=callbacks,
        frame_budget=script_args.frame_budget(),
        video_mode=script_args.video_mode,
        video_column=script_args.video_column,
        vision_dedupe=script_args.vision_dedupe,
    )
    trainer.train(resume_from_checkpoint=training_args.resume_from_checkpoint)
    run.finish(trainer, processor, "grpo", script_args, training_args, model_args)


if __name__ == "__main__":
    parser = TrlParser((SynRLScriptArguments, GRPOConfig, ModelConfig, OnlineArguments))
    main(*parser.parse_args_and_config())
