"""``emozoo train``: fine-tune a registered model on a manifest and register the result;
``emozoo pretrain``: train a built-in model from its recipe.

emozoo train --model NAME --manifest CSV --labels a,b,c [--val-manifest CSV] [--epochs N]
             [--freeze encoders|encoders_but_top|none|lora] [--strategy ...] [--name NEW]
emozoo train --model SMALL --teacher BIG [--teacher BIG2] [--manifest CSV] [--unlabelled DIR]
             [--temperature T] [--alpha A] [--copies K]      (knowledge distillation)
emozoo pretrain zoo_configs/NAME.yaml | NAME [--epochs N] [--out-dir DIR] [--repack]
                                      (a built-in model from its training recipe)
"""

from __future__ import annotations

import json
import tempfile
from functools import partial
from pathlib import Path

# Spelled out here so that `emozoo --help` imports no TensorFlow; a test checks that
# they match emozoo.training.POLICIES and STRATEGIES.
FREEZE_CHOICES = ("encoders", "encoders_but_top", "none", "lora")
STRATEGY_CHOICES = ("auto", "none", "mirrored", "multi_worker", "data_parallel")
MIXED_PRECISION_CHOICES = ("auto", "off", "mixed_float16", "mixed_bfloat16")


def _labels(text: str) -> list[str]:
    labels = [label.strip() for label in text.split(",") if label.strip()]
    if len(labels) < 2:
        raise ValueError(f"--labels needs at least two comma-separated names, got {text!r}")
    return labels


def _train_labels(args) -> list[str]:
    """``--labels``, or with ``--teacher`` and no ``--labels`` the teacher's labels."""
    from emozoo.registry import get_entry

    if args.labels:
        return _labels(args.labels)
    if not args.teacher:
        raise ValueError("--labels is required (comma-separated label names, in order)")
    return list(get_entry(args.teacher[0]).labels)


def _distillation_data(args, model, train_csv):
    """The student's items: its modality's column of the training manifest, plus every
    file of ``--unlabelled``."""
    from emozoo.data.custom import read_manifest
    from emozoo.models import get_labels
    from emozoo.training.distill import DistillationData

    modalities = [t.name for t in model.inputs]
    if len(modalities) != 1:
        raise ValueError(
            f"--teacher distils into a one-modality student; {args.model} takes {modalities}"
        )
    modality = modalities[0]
    data = None
    if train_csv is not None:
        labels = get_labels(model)
        assert labels is not None  # loaded with a classifier
        manifest = read_manifest(train_csv, labels)
        column = {
            "face": manifest.face_paths,
            "text": manifest.texts,
            "audio": manifest.audio_paths,
        }
        rows = [i for i, value in enumerate(column[modality]) if value]
        if rows:
            data = DistillationData(
                modality,
                [column[modality][i] for i in rows],
                manifest.labels[rows],
                str(train_csv),
            )
    if args.unlabelled:
        extra = DistillationData.from_folder(args.unlabelled, modality)
        data = extra if data is None else data + extra
    if data is None:
        raise ValueError(f"no {modality} items in --manifest and no --unlabelled folder")
    return data


def _cmd_train(args) -> int:
    from emozoo.registry import get_entry, list_models

    if args.teacher:
        for teacher in args.teacher:
            get_entry(teacher)  # an unknown name fails here, with suggestions
    elif args.manifest is None:
        raise ValueError("--manifest is required (or --teacher NAME with --unlabelled DIR)")
    if args.unlabelled and not args.teacher:
        raise ValueError("--unlabelled items need a --teacher to label them")
    labels = _train_labels(args)
    if args.freeze is None:
        args.freeze = "none" if args.teacher else "encoders"
    manifest = Path(args.manifest).expanduser() if args.manifest else None
    if manifest is not None and not manifest.is_file():
        raise FileNotFoundError(f"Manifest {manifest} does not exist")
    if args.val_manifest and not Path(args.val_manifest).expanduser().is_file():
        raise FileNotFoundError(f"Validation manifest {args.val_manifest} does not exist")
    get_entry(args.model)  # an unknown name fails here, with suggestions
    # A kept version's name (cnn_lstm_fusion@v1) is no valid name for a new model.
    name = args.name or f"{args.model.replace('@', '_')}_finetuned"
    if name in list_models() and not args.overwrite:
        raise ValueError(
            f"A model named {name!r} is already registered; pass --name or --overwrite"
        )
    out = Path(args.out or Path("runs") / name)

    # Devices and a multi-worker strategy must be set up before TensorFlow runs anything.
    from emozoo.training import distribution, split_cpu

    if args.cpu_replicas:
        split_cpu(args.cpu_replicas)
    dist = distribution(args.strategy)

    import keras

    import emozoo
    from emozoo.data import from_manifest
    from emozoo.training import fit, save_model, split_manifest

    keras.utils.set_random_seed(args.seed)
    weights = None if args.weights == "none" else args.weights
    model = emozoo.load(args.model, weights=weights, labels=labels)
    if args.val_manifest:
        train_csv, val_csv = manifest, Path(args.val_manifest).expanduser()
    elif manifest is None:
        train_csv, val_csv = None, None
    else:
        # Every worker splits the same way (same seed); only the chief writes into --out.
        folder = out / "split" if dist.is_chief else Path(tempfile.mkdtemp(prefix="emozoo-split-"))
        train_csv, val_csv = split_manifest(
            manifest, folder, val_fraction=args.val_fraction, seed=args.seed
        )
    val_ds = (
        None
        if val_csv is None
        else from_manifest(
            val_csv, model=model, batch_size=args.batch_size, shuffle=False, on_error=args.on_error
        )
    )
    if args.teacher:
        from emozoo.training.distill import distill, teacher_description

        data = _distillation_data(args, model, train_csv)
        teacher = args.teacher[0] if len(args.teacher) == 1 else args.teacher
        train_step = partial(
            distill,
            model,
            data,
            teacher,
            val_ds,
            student_preprocessor=emozoo.load_preprocessor(args.model),
            temperature=args.temperature,
            alpha=args.alpha,
            copies=args.copies,
            batch_size=args.batch_size,
            cache_dir=out / "teacher_outputs",
        )
        training_data = f"{data.source}, soft labels of {teacher_description(args.teacher)}"
    else:
        assert train_csv is not None  # --manifest is required without --teacher
        train_ds = from_manifest(
            train_csv,
            model=model,
            batch_size=args.batch_size,
            augment=not args.no_augment,
            seed=args.seed,
            on_error=args.on_error,
        )
        train_step = partial(fit, model, train_ds, val_ds)
        training_data = f"{train_csv} (validation: {val_csv})"
    history = train_step(
        epochs=args.epochs,
        freeze=args.freeze,
        unfreeze_top=args.unfreeze_top,
        encoder_lr_scale=args.encoder_lr_scale,
        lora_rank=args.lora_rank,
        learning_rate=args.learning_rate,
        weight_decay=args.weight_decay,
        warmup_epochs=args.warmup_epochs,
        label_smoothing=args.label_smoothing,
        class_weight=None if args.class_weight == "none" else args.class_weight,
        early_stopping=args.early_stopping,
        mixed_precision=args.mixed_precision,
        strategy=dist,
        log_dir=out,
        resume=not args.no_resume,
        seed=args.seed,
        verbose=args.verbose,
    )
    summary = history.summary
    if not dist.is_chief:
        return 0
    validation = summary.get("validation", {})
    path = save_model(
        model,
        name,
        args.save,
        base=args.model,
        training_data=training_data,
        metrics={"validation": validation} if validation else None,
        recipe=(
            f"emozoo train --model {args.model} --freeze {args.freeze} --epochs {args.epochs} "
            + (
                f"--teacher {' --teacher '.join(args.teacher)} --temperature {args.temperature} "
                f"--alpha {args.alpha} --copies {args.copies} "
                if args.teacher
                else ""
            )
            + f"--learning-rate {args.learning_rate} --batch-size {args.batch_size}: "
            f"{summary['epochs']} epochs in {summary['seconds']} s ({summary['strategy']})"
        ),
        overwrite=args.overwrite,
    )
    best = summary.get("best") or {}
    print(f"trained {name}: {summary['policy']}; {summary['strategy']}")
    if best:
        print(f"best {best['monitor']} {best['value']:.4f} at epoch {best['epoch']}")
    print(f"saved {path}; registered as {name!r}: emozoo.load({name!r})")
    print(f"logs, checkpoints and curves in {out} (tensorboard --logdir {out})")
    print(
        json.dumps(
            {
                "name": name,
                "file": str(path),
                "epochs": summary["epochs"],
                "seconds": summary["seconds"],
                "best": best or None,
                "validation": validation or None,
            }
        )
    )
    return 0


def run_pretrain(args) -> int:
    """Train (or ``--repack``) each recipe or model of ``args.names`` in turn."""
    from emozoo.training.pretrain import pretrain, repack  # lazy: TensorFlow start-up
    from emozoo.training.recipe import load_recipe

    overrides = {
        key: value
        for key, value in (
            ("epochs", args.epochs),
            ("lora_rank", args.lora_rank),
            ("learning_rate", args.learning_rate),
        )
        if value is not None
    }
    for target in args.names:
        recipe = load_recipe(target)
        if args.repack:
            repack(recipe.model)
            continue
        pretrain(
            recipe.replace(**overrides),
            seed=args.seed,
            log_dir=args.log_dir,
            out_dir=args.out_dir,
            verbose=args.verbose,
        )
    return 0


def register(commands) -> None:
    """Add ``train`` and ``pretrain`` to the ``emozoo`` sub-command parser."""
    parser = commands.add_parser(
        "pretrain",
        help="train a built-in model from its recipe (zoo_configs/NAME.yaml) and ship the weights",
        description=(
            "Train a built-in model from its training recipe, zoo_configs/NAME.yaml (data, "
            "epochs, optimiser, method), keep the best validation epoch, evaluate it once on "
            "the recipe's test sets and write its weights card (tools/pretrain.py is the "
            "same command)."
        ),
    )
    parser.add_argument(
        "names",
        nargs="+",
        metavar="RECIPE",
        help="recipe file(s) (zoo_configs/NAME.yaml) or registered model name(s), trained "
        "one after the other",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override the recipe's epochs")
    parser.add_argument(
        "--log-dir", type=Path, default=None, help="TensorBoard logs (default runs/<name>)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--repack",
        action="store_true",
        help="no training: re-save the shipped weights without optimizer state and refresh the card's hash and size",
    )
    parser.add_argument(
        "--verbose", type=int, default=2, help="Keras fit verbosity (1 = progress bar)"
    )
    parser.add_argument(
        "--lora-rank", type=int, default=None, help="override the recipe's lora_rank (0 = off)"
    )
    parser.add_argument(
        "--learning-rate", type=float, default=None, help="override the recipe's learning rate"
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="experiment: write weights, card and reports here; leave the card alone",
    )
    parser.set_defaults(run=run_pretrain)

    parser = commands.add_parser(
        "train",
        help="fine-tune a registered model on a manifest and register the result",
        description=(
            "Fine-tune a registered model on your manifest (CSV with face_path, text, "
            "audio_path, label), save it as .keras and register it under --name."
        ),
    )
    parser.add_argument("--model", required=True, help="registered model to start from")
    parser.add_argument(
        "--manifest", help="training manifest CSV (face_path,text,audio_path,label)"
    )
    parser.add_argument(
        "--labels", help="comma-separated label names, in order (with --teacher: the teacher's)"
    )
    parser.add_argument(
        "--teacher",
        action="append",
        help="distil: train --model on this registered model's soft labels (repeat: an ensemble)",
    )
    parser.add_argument(
        "--unlabelled", help="with --teacher: a folder of unlabelled photos or clips to learn from"
    )
    parser.add_argument(
        "--temperature", type=float, default=4.0, help="with --teacher: softening temperature"
    )
    parser.add_argument(
        "--alpha",
        type=float,
        default=0.7,
        help="with --teacher: the soft labels' share of the loss",
    )
    parser.add_argument(
        "--copies", type=int, default=2, help="with --teacher: augmented copies per item"
    )
    parser.add_argument("--val-manifest", help="validation manifest (default: split --manifest)")
    parser.add_argument(
        "--val-fraction",
        type=float,
        default=0.2,
        help="share of each label held out when there is no --val-manifest (default 0.2)",
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--freeze",
        choices=FREEZE_CHOICES,
        default=None,
        help="what stays fixed (default: encoders; with --teacher: none)",
    )
    parser.add_argument("--unfreeze-top", type=int, default=2)
    parser.add_argument("--encoder-lr-scale", type=float, default=0.1)
    parser.add_argument("--lora-rank", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--warmup-epochs", type=float, default=1.0)
    parser.add_argument("--label-smoothing", type=float, default=0.0)
    parser.add_argument("--class-weight", choices=["balanced", "none"], default="none")
    parser.add_argument(
        "--early-stopping", type=int, default=None, metavar="EPOCHS", help="patience in epochs"
    )
    parser.add_argument("--mixed-precision", choices=MIXED_PRECISION_CHOICES, default="auto")
    parser.add_argument("--strategy", choices=STRATEGY_CHOICES, default="auto")
    parser.add_argument(
        "--cpu-replicas",
        type=int,
        default=0,
        metavar="N",
        help="split the CPU into N logical devices (TensorFlow; with --strategy mirrored)",
    )
    parser.add_argument(
        "--weights",
        default="default",
        help="starting weights: default (pretrained), none, or a .weights.h5/.keras file",
    )
    parser.add_argument(
        "--name", help="name to register the result under (default MODEL_finetuned)"
    )
    parser.add_argument(
        "--save", help="where to write the .keras file (default $EMOZOO_HOME/models)"
    )
    parser.add_argument("--out", help="run folder: logs, checkpoints, curves (default runs/NAME)")
    parser.add_argument("--no-augment", action="store_true", help="no training augmentation")
    parser.add_argument(
        "--no-resume", action="store_true", help="start over even if --out holds checkpoints"
    )
    parser.add_argument("--on-error", choices=["raise", "skip"], default="raise")
    parser.add_argument("--overwrite", action="store_true", help="replace a model of that name")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, help="Keras progress: 0, 1 (bar), 2")
    parser.set_defaults(run=_cmd_train)
