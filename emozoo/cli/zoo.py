"""``emozoo list`` and ``emozoo info``: the registry on the command line.

emozoo list [PATTERN] [--pretrained] [--json]
emozoo info NAME [--json]
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from emozoo.registry import get_entry, list_models, model_info, model_versions


def _headline_metric(metrics: dict) -> str:
    """The first recorded figure of a weights card, as ``dataset metric=value``."""
    for dataset, figures in metrics.items():
        if isinstance(figures, dict):
            for metric, value in figures.items():
                if isinstance(value, (int, float)):
                    return f"{dataset} {metric}={value:.4g}"
        elif isinstance(figures, (int, float)):
            return f"{dataset}={figures:.4g}"
    return "-"


def format_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    """A plain fixed-width text table."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def models_table(pattern: str | None = None, pretrained: bool | None = None) -> list[dict]:
    """One summary row per model of :func:`emozoo.list_models` (no model is built)."""
    rows = []
    for name in list_models(pattern, pretrained):
        entry = get_entry(name)
        rows.append(
            {
                "name": name,
                "modalities": list(entry.modalities) or ["embeddings"],
                "classes": len(entry.labels),
                "pretrained": entry.pretrained,
                "recommended": entry.headline.get("recommended") == name,
                "metric": _headline_metric(entry.weights.metrics) if entry.weights else "-",
                "description": entry.description,
                "versions": model_versions(name),
            }
        )
    return rows


def _cmd_list(args) -> int:
    rows = models_table(args.pattern, True if args.pretrained else None)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("No registered model matches.")
        return 0
    header = ["name", "modalities", "classes", "pretrained", "test metric", "description"]
    table = [
        [
            r["name"] + (" *" if r["recommended"] else ""),
            "+".join(r["modalities"]),
            str(r["classes"]),
            "yes" if r["pretrained"] else "no",
            r["metric"],
            r["description"],
        ]
        for r in rows
    ]
    print(format_table(table, header))
    if any(r["recommended"] for r in rows):
        print("\n* the recommended encoder for its modality")
    for r in rows:
        if r["versions"]:
            default, *kept = r["versions"]
            print(
                f"\n{r['name']}: weights version {default} (default); earlier versions stay "
                f"loadable as {', '.join(r['versions'][v] for v in kept)}"
            )
    if args.pattern is None:
        print("\n" + picks_text())
    return 0


def picks_text() -> str:
    """Which model to pick for each kind of input, from the cards (``emozoo list``,
    ``emozoo demo`` and the README print it)."""
    from emozoo.registry.picks import model_picks

    lines = [
        "Which model to pick (figures from the cards; speed: LiteRT, batch 1, one core, as a "
        "multiple of fer's face classifier timed beside it by tools/bench_lite.py):"
    ]
    lines += [f"- {pick.describe()}" for pick in model_picks()]
    return "\n".join(lines)


def _format_info(info: dict) -> str:
    lines = [f"{info['name']}: {info['description']}", ""]
    lines.append(f"architecture   {info['architecture']}")
    lines.append(f"modalities     {', '.join(info['modalities']) or 'embeddings (a fusion head)'}")
    params = info["params"]
    lines.append(f"parameters     {f'{params:,}' if params is not None else 'see --build'}")
    lines.append("inputs" + ("" if info["inputs"] is not None else "         see --build"))
    for name, spec in (info["inputs"] or {}).items():
        lines.append(f"  {name:<16} {spec['dtype']:<8} {tuple(spec['shape'])}")
    lines.append(
        f"output         float32 {tuple(info['output']['shape'])} {info['output']['meaning']}"
    )
    lines.append(f"labels         {', '.join(info['labels'])}")
    if info.get("versions"):
        lines.append(
            "versions       "
            + ", ".join(
                f"{version}{' (default)' if i == 0 else ''}: {name}"
                + (" (this)" if version == info.get("version") else "")
                for i, (version, name) in enumerate(info["versions"].items())
            )
        )
    recommended = info.get("recommended")
    if isinstance(recommended, str):
        verdict = "this model" if recommended == info["name"] else recommended
        lines.append(f"recommended    {verdict} (for {', '.join(info['modalities'])})")
    elif isinstance(recommended, dict):
        lines.append(
            "recommended    " + ", ".join(f"{m}: {name}" for m, name in recommended.items())
        )
    lines.append("preprocessing")
    for modality, params in info["preprocessing"].items():
        lines.append(f"  {modality:<6} " + ", ".join(f"{k}={v}" for k, v in params.items()))
    weights = info["weights"]
    if weights is None:
        lines.append(
            "weights        none registered (emozoo.load(name, weights=None) builds it untrained)"
        )
    else:
        lines.append(f"weights        {weights['file']} ({weights.get('size_bytes', '?')} bytes)")
        lines.append(f"  sha256       {weights['sha256']}")
        for key in ("training_data", "recipe", "notes"):
            if weights.get(key):
                lines.append(f"  {key:<12} {weights[key]}")
        for dataset, figures in weights.get("metrics", {}).items():
            lines.append(f"  metrics      {dataset}: {json.dumps(figures)}")
    return "\n".join(lines)


def _cmd_info(args) -> int:
    info = model_info(args.name, build=args.build)
    print(json.dumps(info, indent=2) if args.json else _format_info(info))
    return 0


def register(commands) -> None:
    """Add ``list`` and ``info`` to the ``emozoo`` sub-command parser."""
    list_parser = commands.add_parser("list", help="list the registered models")
    list_parser.add_argument(
        "pattern", nargs="?", default=None, help="shell-style name filter, e.g. '*fusion'"
    )
    list_parser.add_argument(
        "--pretrained", action="store_true", help="only models with pretrained weights"
    )
    list_parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    list_parser.set_defaults(run=_cmd_list)

    info_parser = commands.add_parser(
        "info", help="inputs, outputs, labels, parameters and weights card of a model"
    )
    info_parser.add_argument("name")
    info_parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    info_parser.add_argument(
        "--build",
        action="store_true",
        help="build the model (starts TensorFlow) instead of reading the card and weights file",
    )
    info_parser.set_defaults(run=_cmd_info)
