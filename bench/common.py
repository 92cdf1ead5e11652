"""Shared helpers for the benchmarks: a real store in a folder, percentiles, a generated
member CSV, a progress line. Benchmarks print their figures; they are not tests."""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pos_app.services.auth import Actor
from pos_app.services.context import DB_FILENAME, StoreContext, open_store
from pos_app.services.rules import load_rules
from pos_app.services.sign_in import sign_in
from pos_app.services.store_setup import add_operator, init_store

REPO = Path(__file__).resolve().parent.parent
# On the same file system as the data (the repository's disk), ignored by git.
DEFAULT_TMP = REPO / ".bench-tmp"
RULES = REPO / "pos_app" / "resources" / "rules.example.toml"
# The bench stores' key files stay beside them, not in the user's config folder.
os.environ.setdefault("POS_KEY_DIR", str(DEFAULT_TMP / "keys"))
PASSWORD = "bench-secret"

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鑫斌宇浩凯健俊帆帅旭宁龙林欣佳怡嘉琪梓涵子轩雨晨思远"  # noqa: E501


def store_with_rules(data_dir: Path, code: str = "BM01") -> tuple[StoreContext, Actor, Actor]:
    """A new store in `data_dir` with the example rules; returns (ctx, admin, cashier)."""
    ctx = open_store(data_dir)
    init_store(ctx, code, "基准测试门店 Bench Store", "admin", PASSWORD)
    admin = sign_in(ctx, "admin", PASSWORD)
    add_operator(ctx, admin, "cashier", "王收银", "cashier", PASSWORD)
    load_rules(ctx, admin, RULES.read_text(encoding="utf-8"), "rules.example.toml")
    return ctx, admin, sign_in(ctx, "cashier", PASSWORD)


def open_existing(data_dir: Path) -> tuple[StoreContext, Actor, Actor] | None:
    """An existing bench store, signed in; None if there is none."""
    if not (data_dir / DB_FILENAME).exists():
        return None
    ctx = open_store(data_dir)
    return ctx, sign_in(ctx, "admin", PASSWORD), sign_in(ctx, "cashier", PASSWORD)


def member_csv(path: Path, rows: int, seed: int = 2026) -> None:
    """A member file as a previous system would export it: unique mainland mobiles, Chinese
    names, card numbers from printed batches (plus some barcodes and virtual cards), about a
    third with an opening stored value and half with opening points."""
    rng = random.Random(seed)
    # Unique 11-digit mobiles starting 13–19.
    mobiles = rng.sample(range(13_000_000_000, 20_000_000_000), rows)
    genders = ("male", "female", "")
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("mobile,name,card_no,media,birthday,gender,principal,bonus,points\n")
        lines = []
        for i, mobile in enumerate(mobiles):
            roll = rng.random()
            if roll < 0.05:
                media, card_no = "virtual", str(mobile)
            elif roll < 0.15:
                media, card_no = "barcode", f"69{i:010d}"
            elif roll < 0.45:
                media, card_no = "magstripe", f"6688{i:012d}"
            else:
                media, card_no = "ic", f"88{i:08d}"
            name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
            birthday = (
                f"{rng.randrange(1950, 2008)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
                if roll < 0.7
                else ""
            )
            money = rng.random() < 0.33
            principal = f"{rng.randrange(1, 3000)}.{rng.randrange(100):02d}" if money else ""
            bonus = str(rng.randrange(0, 300)) if money else ""
            points = str(rng.randrange(1, 5000)) if rng.random() < 0.5 else ""
            lines.append(
                f"{mobile},{name},{card_no},{media},{birthday},{rng.choice(genders)},"
                f"{principal},{bonus},{points}\n"
            )
            if len(lines) >= 50_000:
                f.writelines(lines)
                lines.clear()
        f.writelines(lines)


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def summary_ms(samples: list[float]) -> tuple[float, float, float]:
    """(p50, p99, mean) in milliseconds of samples in seconds."""
    return (
        percentile(samples, 50) * 1e3,
        percentile(samples, 99) * 1e3,
        statistics.fmean(samples) * 1e3,
    )


class Progress:
    """A progress line on stderr for `progress(done, total)` callbacks."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.started = time.perf_counter()
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.perf_counter()
        if done < total and now - self.last < 0.2:
            return
        self.last = now
        pct = done * 100 // total if total else 100
        sys.stderr.write(
            f"\r{self.label}: {done:,}/{total:,} ({pct}%) {now - self.started:5.1f} s\x1b[K"
        )
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started
