"""Ledger benchmarks: append, audit, Merkle, peak memory — each as a ratio to its raw ceiling.

Run: ``python -m benchmarks.ledger_bench [--entries N] [--pg URL] [--million]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.ceilings import executemany_rows_per_s, sign_per_s, verify_per_s
from ledger import KeySecret, Ledger, Store, audit, merkle
from ledger.entry import signing_input
from ledger.tiles import TileHashes
from scenarios.synthetic import SYNTHETIC_AUTHORIZATION, SyntheticParties, synthetic_bodies

SEED = 2024
BENCH_SECRET = KeySecret(hashlib.sha256(b"dxsim benchmark key secret").digest())


def _write(target: str, entries: int) -> tuple[float, int, list[bytes]]:
    """Append ``entries`` synthetic entries; return (seconds, signatures, sample signing inputs)."""
    parties = SyntheticParties.derive(BENCH_SECRET, SEED)
    ledger = Ledger.create(target, parties.log, SYNTHETIC_AUTHORIZATION)
    for signer in parties.all_signers():
        ledger.register(signer)
    bodies = synthetic_bodies(SEED, entries, parties)  # lazily: memory figures are the ledger's
    signatures = 0
    samples: list[bytes] = []
    origin = ledger.origin.encode()
    started = time.perf_counter()
    for step, (kind, body, signers) in enumerate(bodies):
        entry = ledger.record(kind, body, step, signers)
        signatures += len(signers)
        if step < 2000:
            samples.append(signing_input(origin, entry.statement))
    ledger.close()
    return time.perf_counter() - started, signatures, samples


def bench_append_and_audit(entries: int, pg_url: str | None) -> dict[str, Any]:
    results: dict[str, Any] = {"entries": entries}
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'ledger.db'}"
        seconds, signatures, samples = _write(db, entries)
        per_entry_sigs = signatures / entries
        sign_s = sign_per_s(samples * 4)
        verify_1 = verify_per_s(samples * 4, threads=1)
        verify_2 = verify_per_s(samples * 4, threads=2)
        crypto_ceiling = 1 / (per_entry_sigs / sign_s + per_entry_sigs / verify_1)
        append_rate = entries / seconds
        results["signatures_per_entry"] = round(per_entry_sigs, 3)
        results["ceiling_sign_per_s"] = round(sign_s)
        results["ceiling_verify_per_s_1t"] = round(verify_1)
        results["ceiling_verify_per_s_2t"] = round(verify_2)
        results["append_sqlite_per_s"] = round(append_rate)
        results["append_crypto_ceiling_per_s"] = round(crypto_ceiling)
        results["append_sqlite_ratio"] = round(append_rate / crypto_ceiling, 3)

        store = Store(db)
        rows = [row for chunk in store.iter_rows() for row in chunk]
        store.close()
        raw_rate = executemany_rows_per_s(rows, batch=1024)
        results["ceiling_executemany_rows_per_s"] = round(raw_rate)

        for threads in (1, 2):
            report = audit(db, threads=threads)
            assert report.ok, report.summary()
            rate = report.entries / report.seconds
            ceiling = (verify_1 if threads == 1 else verify_2) / per_entry_sigs
            results[f"audit_{threads}t_per_s"] = round(rate)
            results[f"audit_{threads}t_ratio"] = round(rate / ceiling, 3)

        results.update(bench_merkle(rows))

    if pg_url:
        store = Store(pg_url, create=True)
        store.drop_all()
        store.close()
        count = min(entries, 20_000)
        seconds, signatures, _ = _write(pg_url, count)
        rate = count / seconds
        ceiling = 1 / (signatures / count / sign_s + signatures / count / verify_1)
        results["append_postgres_per_s"] = round(rate)
        results["append_postgres_ratio"] = round(rate / ceiling, 3)
        report = audit(pg_url, threads=2)
        assert report.ok
        results["audit_postgres_2t_per_s"] = round(report.entries / report.seconds)
        store = Store(pg_url, create=True)
        store.drop_all()
        store.close()
    return results


def bench_merkle(rows: list[tuple[int, int, str, str, bytes]]) -> dict[str, Any]:
    hashes = [merkle.leaf_hash(row[4]) for row in rows]
    tree = merkle.MerkleTree()
    started = time.perf_counter()
    for digest in hashes:
        tree.append_leaf_hash(digest)
    append_rate = len(hashes) / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(1000):
        tree.root()
    root_us = (time.perf_counter() - started) / 1000 * 1e6
    size = tree.size
    root = tree.root()
    started = time.perf_counter()
    proofs = 200
    for i in range(proofs):
        index = (i * 7919) % size
        proof = tree.inclusion_proof(index)
        assert merkle.verify_inclusion(hashes[index], index, size, proof, root)
    proof_rate = proofs / (time.perf_counter() - started)
    tiles = TileHashes.in_memory(hashes)
    started = time.perf_counter()
    for i in range(5000):
        index = (i * 7919) % size
        assert merkle.verify_inclusion(
            hashes[index], index, size, tiles.inclusion_proof(index), root
        )
    tile_rate = 5000 / (time.perf_counter() - started)
    return {
        "merkle_tiles_inclusion_prove_and_verify_per_s": round(tile_rate),
        "merkle_append_per_s": round(append_rate),
        "merkle_root_us": round(root_us, 2),
        "merkle_inclusion_prove_and_verify_per_s": round(proof_rate),
    }


def _prove(db: str, proofs: int) -> dict[str, float]:
    """Open the ledger as ``dxsim prove`` does, time the first proof (cold) and then ``proofs``
    random inclusion proofs read from its stored tile rows, each verified against the root."""
    started = time.perf_counter()
    store = Store(db)
    tree = store.tile_hashes()
    size = tree.size
    first = tree.inclusion_proof(size // 3)
    cold_ms = (time.perf_counter() - started) * 1000
    root = tree.root()
    assert merkle.verify_inclusion(
        store.leaf_hashes(size // 3, size // 3 + 1)[0], size // 3, size, first, root
    )
    chooser = random.Random(1)
    indexes = [chooser.randrange(size) for _ in range(proofs)]
    started = time.perf_counter()
    built = [tree.inclusion_proof(i) for i in indexes]
    build_s = time.perf_counter() - started
    hashes = {i: store.leaf_hashes(i, i + 1)[0] for i in indexes[:2000]}
    assert all(
        merkle.verify_inclusion(hashes[i], i, size, proof, root)
        for i, proof in zip(indexes[:2000], built, strict=False)
    )
    store.close()
    return {"proofs_per_s": proofs / build_s, "cold_first_proof_ms": cold_ms}


def bench_million(entries: int) -> dict[str, Any]:
    """Write and audit ``entries`` in a child process each, reporting each child's peak RSS.

    The peak is ``VmHWM`` of the child's own address space: Linux carries ``ru_maxrss`` over
    ``exec``, so that would report the parent's high-water mark instead.
    """
    results: dict[str, Any] = {"million_entries": entries}
    with tempfile.TemporaryDirectory() as folder:
        db = f"sqlite:///{Path(folder) / 'ledger.db'}"
        for phase in ("write", "audit", "prove"):
            step = {
                "write": f"_write({db!r}, {entries})\n",
                "audit": f"r = audit({db!r}, threads=2); assert r.ok, r.summary()\n",
                "prove": f"p = _prove({db!r}, 20000); print(json.dumps(p))\n",
            }[phase]
            code = (
                "import json, sys, time\n"
                "from benchmarks.ledger_bench import _prove, _write\n"
                "from ledger import audit\n"
                "t = time.perf_counter()\n"
                + step
                + "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
                + "print(json.dumps({'s': time.perf_counter() - t,"
                " 'rss_kb': int(hwm[0].split()[1])}))\n"
            )
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
            lines = out.strip().splitlines()
            figures = json.loads(lines[-1])
            if phase == "prove":
                proved = json.loads(lines[-2])
                results["million_proofs_per_s"] = round(proved["proofs_per_s"])
                results["million_cold_first_proof_ms"] = round(proved["cold_first_proof_ms"], 1)
                results["million_prove_peak_rss_mb"] = round(figures["rss_kb"] / 1024, 1)
                continue
            results[f"million_{phase}_s"] = round(figures["s"], 1)
            results[f"million_{phase}_per_s"] = round(entries / figures["s"])
            results[f"million_{phase}_peak_rss_mb"] = round(figures["rss_kb"] / 1024, 1)
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=20_000)
    parser.add_argument("--pg", default=os.environ.get("DXSIM_TEST_PG_URL"))
    parser.add_argument("--million", type=int, default=0, help="also write+audit this many")
    args = parser.parse_args(argv)
    results = bench_append_and_audit(args.entries, args.pg)
    if args.million:
        results.update(bench_million(args.million))
    results["python_peak_rss_mb"] = round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1
    )
    return results


if __name__ == "__main__":
    from benchmarks.report import print_results

    print_results("ledger", main())
