"""Blocked, stratified, seeded allocation lists with concealment and tamper evidence.

Within each stratum, arms are allocated in permuted blocks whose sizes are drawn at random from
``block_sizes`` (so the next allocation cannot be deduced from the ones already revealed). Every
entry carries a random salt; its *commitment* is the SHA-256 of ``sequence, stratum, position, arm,
salt``, and the commitments are chained (``chain_i = SHA-256(chain_{i-1} + commitment_i)``). The
concealed list that sites hold shows only the commitments and the chain, never the arms; the key
(arms and salts) stays with whoever reveals allocations. Revealing an entry shows its arm and salt,
which anyone can check against the published commitment, and any edit to the list or the key breaks
a commitment or the chain head.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._utils.ids import participant_label, same_participant
from ..exceptions import InputError

#: The chain starts from this value (64 hex zeros).
GENESIS = "0" * 64


@dataclass(frozen=True)
class AllocationEntry:
    """One slot of the allocation list.

    Attributes
    ----------
    sequence : int
        1-based position in the whole list (strata one after another).
    stratum : str
        Stratum label, e.g. ``"site=A;severity=severe"``.
    position : int
        1-based position within the stratum (slots are revealed in this order).
    block : int
        1-based block number within the stratum.
    block_size : int
        Size of that block.
    arm : str
        Allocated arm.
    salt : str
        32 hex characters of randomness that make the commitment unguessable.
    """

    sequence: int
    stratum: str
    position: int
    block: int
    block_size: int
    arm: str
    salt: str

    @property
    def commitment(self) -> str:
        """SHA-256 (hex) of the entry's identity, arm and salt."""
        return commitment(self.sequence, self.stratum, self.position, self.arm, self.salt)


@dataclass(frozen=True)
class Allocation:
    """A complete allocation list (the *key*: it contains the arms).

    Attributes
    ----------
    arms : tuple of str
        Arm names.
    ratio : tuple of int
        Allocation ratio, one integer per arm.
    block_sizes : tuple of int
        Block sizes drawn from at random.
    seed : int
        Seed of the generator (as secret as the key: it regenerates the list).
    entries : tuple of AllocationEntry
        All slots, stratum by stratum.
    """

    arms: tuple[str, ...]
    ratio: tuple[int, ...]
    block_sizes: tuple[int, ...]
    seed: int
    entries: tuple[AllocationEntry, ...]

    @property
    def strata(self) -> tuple[str, ...]:
        """Stratum labels in list order."""
        return tuple(dict.fromkeys(e.stratum for e in self.entries))

    @property
    def chain(self) -> tuple[str, ...]:
        """Hash chain over the entries' commitments (same length as ``entries``)."""
        return tuple(hash_chain([e.commitment for e in self.entries]))

    @property
    def chain_head(self) -> str:
        """Last value of the hash chain: record it publicly (e.g. in the trial registration)."""
        chain = self.chain
        return chain[-1] if chain else GENESIS

    def concealed_rows(self) -> list[dict[str, object]]:
        """Rows of the concealed list: sequence, stratum, position, commitment, chain (no arms)."""
        return [
            {
                "sequence": e.sequence,
                "stratum": e.stratum,
                "position": e.position,
                "commitment": e.commitment,
                "chain": link,
            }
            for e, link in zip(self.entries, self.chain, strict=True)
        ]


@dataclass(frozen=True)
class Reveal:
    """One revealed allocation, as written to the reveal log."""

    participant_id: str
    arm: str
    stratum: str
    sequence: int
    position: int
    salt: str
    commitment: str


def commitment(sequence: int, stratum: str, position: int, arm: str, salt: str) -> str:
    """SHA-256 hex digest binding a slot to its arm.

    Parameters
    ----------
    sequence, position : int
        Global and within-stratum positions of the slot.
    stratum, arm, salt : str
        Stratum label, allocated arm and the slot's salt.

    Returns
    -------
    str
        64 hexadecimal characters.
    """
    text = f"tmstarget-allocation\t{sequence}\t{stratum}\t{position}\t{arm}\t{salt}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_chain(commitments: Sequence[str]) -> list[str]:
    """Chain commitments: ``chain_i = SHA-256(chain_{i-1} + commitment_i)``.

    The chain starts from :data:`GENESIS`.
    """
    links, previous = [], GENESIS
    for digest in commitments:
        previous = hashlib.sha256((previous + digest).encode("ascii")).hexdigest()
        links.append(previous)
    return links


def stratum_labels(factors: Mapping[str, Sequence[str]] | None) -> list[str]:
    """Cross stratification factors into stratum labels.

    Parameters
    ----------
    factors : mapping of str to sequence of str, or None
        Factor name to its levels, e.g. ``{"site": ["A", "B"], "severity": ["moderate",
        "severe"]}``. ``None`` or empty gives the single stratum ``"all"``.

    Returns
    -------
    list of str
        Labels such as ``"site=A;severity=moderate"``, in factor order.
    """
    if not factors:
        return ["all"]
    for name, levels in factors.items():
        if not levels or len(set(levels)) != len(levels):
            raise InputError(
                f"stratification factor {name!r} has levels "
                f"{list(levels)} — give distinct, non-empty "
                "levels"
            )
    combos = itertools.product(
        *([f"{name}={lvl}" for lvl in levels] for name, levels in factors.items())
    )
    return [";".join(c) for c in combos]


def _check_design(arms: Sequence[str], ratio: Sequence[int], block_sizes: Sequence[int]) -> int:
    if len(arms) < 2 or len(set(arms)) != len(arms) or any(not a or a != a.strip() for a in arms):
        raise InputError(f"arms {list(arms)} — give at least two distinct, non-empty arm names")
    if any(ch in a for a in arms for ch in "\t\n;"):
        raise InputError(
            f"arms {list(arms)} contain a tab, newline or "
            "';' — use plain names such as 'connectivity'"
        )
    if len(ratio) != len(arms) or any(int(r) < 1 for r in ratio):
        raise InputError(
            f"ratio {list(ratio)} for arms {list(arms)} — "
            "give one positive integer per arm, e.g. 1 1"
        )
    unit = int(sum(ratio))
    bad = [b for b in block_sizes if b < unit or b % unit]
    if not block_sizes or bad:
        raise InputError(
            f"block sizes {list(block_sizes)} — each must "
            f"be a positive multiple of {unit} (the sum of "
            f"the ratio), e.g. {unit} {2 * unit}"
        )
    return unit


def permuted_blocks(
    n: int,
    arms: Sequence[str],
    ratio: Sequence[int],
    block_sizes: Sequence[int],
    rng: np.random.Generator,
) -> list[tuple[str, int, int]]:
    """Permuted blocks of random size covering at least ``n`` slots.

    Parameters
    ----------
    n : int
        Number of slots needed; whole blocks are kept, so the result can be longer.
    arms, ratio, block_sizes : sequences
        As in :func:`make_allocation`.
    rng : numpy.random.Generator
        Source of randomness (block sizes and within-block order).

    Returns
    -------
    list of (arm, block number, block size)
    """
    unit = _check_design(arms, ratio, block_sizes)
    slots: list[tuple[str, int, int]] = []
    block = 0
    while len(slots) < n:
        block += 1
        size = int(rng.choice(np.asarray(block_sizes)))
        content = [
            arm for arm, r in zip(arms, ratio, strict=True) for _ in range(int(r) * size // unit)
        ]
        slots.extend((content[i], block, size) for i in rng.permutation(size))
    return slots


def make_allocation(
    strata: Sequence[str],
    n_per_stratum: int,
    arms: Sequence[str] = ("connectivity", "scalp"),
    ratio: Sequence[int] | None = None,
    block_sizes: Sequence[int] = (2, 4, 6),
    seed: int | None = None,
) -> Allocation:
    """Generate a stratified, blocked allocation list.

    Parameters
    ----------
    strata : sequence of str
        Stratum labels (see :func:`stratum_labels`).
    n_per_stratum : int
        Slots needed per stratum (the most participants any stratum could enrol); whole blocks are
        kept.
    arms : sequence of str
        Arm names.
    ratio : sequence of int, optional
        Allocation ratio per arm; equal allocation by default.
    block_sizes : sequence of int
        Block sizes to draw from uniformly; each a multiple of ``sum(ratio)``.
    seed : int, optional
        Seed for :func:`numpy.random.default_rng`; a fresh random seed is drawn (and recorded) when
        omitted.

    Returns
    -------
    Allocation
        Same inputs and seed give the identical list.

    Raises
    ------
    InputError
        If the design is inconsistent (block sizes vs ratio, duplicate strata or arms, ...).
    """
    ratio = tuple(int(r) for r in (ratio or [1] * len(arms)))
    _check_design(arms, ratio, block_sizes)
    if int(n_per_stratum) < 1:
        raise InputError(
            f"{n_per_stratum} slots per stratum — give a positive "
            "number (the largest enrolment any stratum may "
            "reach)"
        )
    if not strata or len(set(strata)) != len(strata) or any(not s or "\t" in s for s in strata):
        raise InputError(f"strata {list(strata)} — give distinct, non-empty labels without tabs")
    if seed is None:
        seed = secrets.randbits(63)
    rng = np.random.default_rng(seed)
    entries: list[AllocationEntry] = []
    for stratum in strata:
        for position, (arm, block, size) in enumerate(
            permuted_blocks(n_per_stratum, arms, ratio, block_sizes, rng), 1
        ):
            entries.append(
                AllocationEntry(
                    len(entries) + 1, stratum, position, block, size, arm, rng.bytes(16).hex()
                )
            )
    return Allocation(
        tuple(arms), ratio, tuple(int(b) for b in block_sizes), int(seed), tuple(entries)
    )


def verify_allocation(allocation: Allocation, concealed: Sequence[Mapping[str, object]]) -> None:
    """Check that a key matches the concealed list, entry by entry and along the hash chain.

    Parameters
    ----------
    allocation : Allocation
        The key (arms and salts).
    concealed : sequence of mappings
        Rows of the concealed list (``sequence, stratum, position, commitment, chain``).

    Raises
    ------
    InputError
        At the first mismatch, naming the sequence number.
    """
    if len(concealed) != len(allocation.entries):
        raise InputError(
            f"concealed list has {len(concealed)} entries "
            f"but the key has {len(allocation.entries)} — "
            "use the list and key made together"
        )
    chain = hash_chain([str(row["commitment"]) for row in concealed])
    for entry, row, link in zip(allocation.entries, concealed, chain, strict=True):
        ident = (int(row["sequence"]), str(row["stratum"]), int(row["position"]))
        if (
            ident != (entry.sequence, entry.stratum, entry.position)
            or entry.commitment != row["commitment"]
        ):
            raise InputError(
                f"allocation entry {entry.sequence} does not "
                "match its commitment — the key or the concealed "
                "list was altered; stop and audit"
            )
        if link != row["chain"]:
            raise InputError(
                f"hash chain broken at entry {entry.sequence} "
                "— the concealed list was altered; stop and "
                "audit"
            )


def reveal_next(
    allocation: Allocation,
    concealed: Sequence[Mapping[str, object]],
    reveals: Sequence[Reveal],
    participant_id: str,
    stratum: str,
) -> Reveal:
    """Reveal the next unused slot of ``stratum`` for a participant (pure: nothing is written).

    Parameters
    ----------
    allocation : Allocation
        The key.
    concealed : sequence of mappings
        Rows of the concealed list; verified against the key first.
    reveals : sequence of Reveal
        Allocations revealed so far (the reveal log); each is verified too.
    participant_id : str
        Participant being randomized.
    stratum : str
        Their stratum label.

    Returns
    -------
    Reveal
        The new record to append to the log.

    Raises
    ------
    InputError
        If anything was altered, the participant was already randomized, the stratum is unknown or
        full.
    """
    verify_allocation(allocation, concealed)
    by_sequence = {e.sequence: e for e in allocation.entries}
    for old in reveals:
        entry = by_sequence.get(old.sequence)
        if entry is None or (entry.arm, entry.salt, entry.commitment) != (
            old.arm,
            old.salt,
            old.commitment,
        ):
            raise InputError(
                f"reveal log entry for {old.participant_id} "
                "does not match the key — the log was altered; "
                "stop and audit"
            )
    pid = participant_id.strip()
    label = participant_label(pid, "--participant")
    done = [r for r in reveals if same_participant(r.participant_id, label)]
    if done:
        old = done[0]
        raise InputError(
            f"participant {pid} was already randomized (as "
            f"{old.participant_id}, stratum {old.stratum!r}, "
            "sequence "
            f"{old.sequence}) — an allocation never changes; look it up in the reveal log"
        )
    if stratum not in allocation.strata:
        raise InputError(
            f"unknown stratum {stratum!r} — choose one of: {', '.join(allocation.strata)}"
        )
    used = sorted(r.position for r in reveals if r.stratum == stratum)
    if used != list(range(1, len(used) + 1)):
        raise InputError(
            f"reveal log for stratum {stratum!r} skips slots "
            f"{used} — the log was altered; stop and audit"
        )
    slots = [e for e in allocation.entries if e.stratum == stratum]
    if len(used) >= len(slots):
        raise InputError(
            f"stratum {stratum!r} has no slots left ({len(slots)} "
            "used) — generate a longer list with trial randomize"
        )
    entry = slots[len(used)]
    return Reveal(
        pid, entry.arm, entry.stratum, entry.sequence, entry.position, entry.salt, entry.commitment
    )
