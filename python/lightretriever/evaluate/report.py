"""An evaluation's results as JSON, a Markdown table and a PNG chart of quality against latency."""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from lightretriever.evaluate.runner import SystemResult


def machine() -> str:
    """CPU model and core count, as `lscpu` would report them (for the record next to timings)."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs"


@dataclass
class EvalReport:
    dataset: str
    split: str
    qrels_file: str
    index: str
    bundle: str
    systems: list[SystemResult]
    machine: str = field(default_factory=machine)
    created: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        data = {key: value for key, value in self.__dict__.items() if key != "systems"}
        data["systems"] = [result.as_dict() for result in self.systems]
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def to_markdown(self) -> str:
        header = (
            "| system | nDCG@10 | R@100 | MRR@10 | p50 ms | p99 ms | QPS | encode share | HNSW R@10 | errors |\n"
            "|---|---|---|---|---|---|---|---|---|---|\n"
        )
        rows = []
        for r in self.systems:
            name = (
                r.name if r.fusion in (None, r.name.removeprefix("hybrid-")) else f"{r.name} (as {r.fusion})"
            )
            hnsw = f"{r.hnsw_recall_at_10:.3f}" if r.hnsw_recall_at_10 is not None else "–"
            rows.append(
                f"| {name} | {r.metrics['nDCG@10']:.4f} | {r.metrics['R@100']:.4f} | {r.metrics['MRR@10']:.4f} "
                f"| {r.latency_ms['p50']:.1f} | {r.latency_ms['p99']:.1f} | {r.qps:.1f} "
                f"| {100 * r.encode_share:.1f}% | {hnsw} | {len(r.errors)} |"
            )
        title = (
            f"**{self.dataset}** ({self.split}, {self.systems[0].queries if self.systems else 0} queries, "
            f"qrels `{Path(self.qrels_file).name}`), index `{self.index}`; one client, sequential; {self.machine}\n\n"
        )
        notes = "".join(f"\n- {note}" for note in self.notes)
        return title + header + "\n".join(rows) + ("\n" + notes if notes else "") + "\n"

    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
        for r in self.systems:
            ax.scatter(r.latency_ms["p50"], r.metrics["nDCG@10"], s=40)
            ax.annotate(
                r.name,
                (r.latency_ms["p50"], r.metrics["nDCG@10"]),
                textcoords="offset points",
                xytext=(5, 4),
                fontsize=8,
            )
        ax.set_xscale("log")
        ax.set_xlabel("p50 query latency, ms (log scale)")
        ax.set_ylabel("nDCG@10")
        ax.set_title(f"{self.dataset} {self.split}: quality vs latency")
        ax.grid(True, which="both", alpha=0.3)
        fig.tight_layout()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path)
        plt.close(fig)
        return path

    def write(self, out_dir: str | Path, stem: str | None = None) -> dict[str, Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        stem = stem or f"{self.dataset}-{self.split}"
        paths = {"json": out / f"{stem}.json", "markdown": out / f"{stem}.md", "png": out / f"{stem}.png"}
        paths["json"].write_text(self.to_json() + "\n", encoding="utf-8")
        paths["markdown"].write_text(self.to_markdown(), encoding="utf-8")
        self.plot(paths["png"])
        return paths
