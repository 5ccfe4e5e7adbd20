"""Results tables, training curves and the demo's HTML report."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from sa3dhp.train.logging import read_history

METRIC_COLUMNS = (
    ("mpjpe", "MPJPE (mm) ↓"),
    ("pa_mpjpe", "PA-MPJPE (mm) ↓"),
    ("pck", "PCK@150 (%) ↑"),
    ("auc", "AUC (%) ↑"),
)


def _fmt(v) -> str:
    if isinstance(v, dict):  # {"mean": m, "std": s, "n": n}
        return f"{v['mean']:.1f} ± {v['std']:.1f}" if v.get("n", 1) > 1 else f"{v['mean']:.1f}"
    return f"{v:.1f}"


def metrics_markdown(rows: dict[str, dict], labels: dict[str, str] | None = None) -> str:
    """A Markdown table ``row | MPJPE | PA-MPJPE | PCK | AUC`` (values or mean/std dicts)."""
    labels = labels or {}
    head = "| | " + " | ".join(c for _, c in METRIC_COLUMNS) + " |\n"
    head += "|---|" + "---:|" * len(METRIC_COLUMNS) + "\n"
    body = "".join(
        f"| {labels.get(name, name)} | "
        + " | ".join(_fmt(m[k]) if k in m else "" for k, _ in METRIC_COLUMNS)
        + " |\n"
        for name, m in rows.items()
    )
    return head + body


def training_curves(run_dirs: dict[str, Path], path: str | Path) -> Path | None:
    """One panel per run: every logged scalar except the learning rate, against the step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = {k: read_history(d) for k, d in run_dirs.items() if (d / "history.jsonl").exists()}
    runs = {k: v for k, v in runs.items() if v}
    if not runs:
        return None
    fig, axes = plt.subplots(1, len(runs), figsize=(4.2 * len(runs), 3.4), squeeze=False)
    for ax, (name, hist) in zip(axes[0], runs.items(), strict=False):
        keys = sorted({k for h in hist for k in h} - {"step", "lr"})
        for k in keys:
            pts = [(h["step"], h[k]) for h in hist if k in h]
            ax.plot(*zip(*pts, strict=False), label=k, lw=1)
        ax.set_title(name)
        ax.set_xlabel("step")
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _img(path: Path | None, caption: str) -> str:
    if path is None or not Path(path).exists():
        return ""
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return (
        f'<figure><img src="data:image/png;base64,{data}" style="max-width:100%">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _md_table_to_html(md: str) -> str:
    lines = [ln.strip().strip("|").split("|") for ln in md.strip().splitlines()]
    head, rows = lines[0], lines[2:]
    out = "<table><tr>" + "".join(f"<th>{html.escape(c.strip())}</th>" for c in head) + "</tr>"
    for r in rows:
        out += "<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in r) + "</tr>"
    return out + "</table>"


def html_report(
    title: str, sections: list[tuple[str, str]], figures: list[tuple[Path | None, str]], path
) -> Path:
    """A self-contained HTML page: Markdown-table or text sections, then embedded PNGs."""
    body = f"<h1>{html.escape(title)}</h1>"
    for heading, content in sections:
        body += f"<h2>{html.escape(heading)}</h2>"
        if content.lstrip().startswith("|"):
            body += _md_table_to_html(content)
        else:
            body += f"<pre>{html.escape(content)}</pre>"
    body += "<h2>Figures</h2>" + "".join(_img(p, c) for p, c in figures)
    style = (
        "body{font-family:sans-serif;max-width:1200px;margin:auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
        "text-align:right}td:first-child{text-align:left}"
    )
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
    page += f"</title><style>{style}</style></head><body>{body}</body></html>\n"
    path = Path(path)
    path.write_text(page)
    return path
