"""Blocked stratified allocation, concealment, tamper evidence and one-at-a-time reveal."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from tmstarget.exceptions import InputError
from tmstarget.trial import (
    hash_chain,
    make_allocation,
    reveal_next,
    stratum_labels,
    verify_allocation,
)
from tmstarget.trial.io import (
    read_allocation,
    read_concealed,
    read_reveals,
    write_allocation,
    write_reveals,
)

STRATA = stratum_labels({"site": ["A", "B"], "severity": ["moderate", "severe"]})


def test_stratum_labels_cross_the_factors():
    assert STRATA == [
        "site=A;severity=moderate",
        "site=A;severity=severe",
        "site=B;severity=moderate",
        "site=B;severity=severe",
    ]
    assert stratum_labels(None) == ["all"]
    with pytest.raises(InputError, match="distinct"):
        stratum_labels({"site": ["A", "A"]})


def test_same_seed_same_list_other_seed_other_list():
    a = make_allocation(STRATA, 20, seed=42)
    assert a == make_allocation(STRATA, 20, seed=42)
    b = make_allocation(STRATA, 20, seed=43)
    assert [e.arm for e in a.entries] != [e.arm for e in b.entries]
    assert a.chain_head != b.chain_head


def test_blocks_are_balanced_random_sized_and_cover_each_stratum():
    alloc = make_allocation(STRATA, 30, block_sizes=(2, 4, 6), seed=1)
    sizes = Counter()
    for stratum in STRATA:
        entries = [e for e in alloc.entries if e.stratum == stratum]
        assert len(entries) >= 30 and [e.position for e in entries] == list(
            range(1, len(entries) + 1)
        )
        for block in {e.block for e in entries}:
            members = [e for e in entries if e.block == block]
            assert len(members) == members[0].block_size  # whole blocks only
            assert Counter(e.arm for e in members) == {
                "connectivity": len(members) // 2,
                "scalp": len(members) // 2,
            }
            sizes[members[0].block_size] += 1
    assert set(sizes) == {2, 4, 6}  # block sizes really vary
    assert [e.sequence for e in alloc.entries] == list(range(1, len(alloc.entries) + 1))


def test_unequal_ratio_holds_in_every_block():
    alloc = make_allocation(
        ["all"], 24, arms=("active", "sham"), ratio=(2, 1), block_sizes=(3, 6), seed=9
    )
    for block in {e.block for e in alloc.entries}:
        members = [e.arm for e in alloc.entries if e.block == block]
        assert members.count("active") == 2 * members.count("sham")
    with pytest.raises(InputError, match="multiple of 3"):
        make_allocation(
            ["all"], 24, arms=("active", "sham"), ratio=(2, 1), block_sizes=(4,), seed=9
        )


def test_commitments_and_chain_are_sha256_of_the_documented_fields():
    alloc = make_allocation(["all"], 4, seed=3)
    e = alloc.entries[0]
    text = f"tmstarget-allocation\t{e.sequence}\t{e.stratum}\t{e.position}\t{e.arm}\t{e.salt}"
    assert e.commitment == hashlib.sha256(text.encode()).hexdigest()
    first = hashlib.sha256(("0" * 64 + e.commitment).encode()).hexdigest()
    assert alloc.chain[0] == first == hash_chain([e.commitment])[0]
    assert alloc.chain_head == alloc.chain[-1] and len(e.salt) == 32


def test_concealed_file_hides_arms_and_round_trips(tmp_path: Path):
    alloc = make_allocation(STRATA[:2], 10, seed=5)
    write_allocation(alloc, tmp_path / "list.tsv", tmp_path / "key.json")
    text = (tmp_path / "list.tsv").read_text()
    assert "connectivity" not in text and "scalp" not in text and alloc.entries[0].salt not in text
    assert read_allocation(tmp_path / "key.json") == alloc
    concealed = read_concealed(tmp_path / "list.tsv")
    verify_allocation(alloc, concealed)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "key.json",
        "list.tsv",
    ]  # no temporary files left
    assert stat.S_IMODE((tmp_path / "key.json").stat().st_mode) == 0o600  # the key is private
    umask = os.umask(0)
    os.umask(umask)
    assert (
        stat.S_IMODE((tmp_path / "list.tsv").stat().st_mode) == 0o666 & ~umask
    )  # the list follows the umask


def test_any_edit_is_detected():
    alloc = make_allocation(["all"], 8, seed=4)
    concealed = alloc.concealed_rows()
    flipped = dataclasses.replace(
        alloc.entries[2], arm="scalp" if alloc.entries[2].arm == "connectivity" else "connectivity"
    )
    forged = dataclasses.replace(alloc, entries=(*alloc.entries[:2], flipped, *alloc.entries[3:]))
    with pytest.raises(InputError, match="entry 3 does not match its commitment"):
        verify_allocation(forged, concealed)
    swapped = [concealed[1], concealed[0], *concealed[2:]]
    with pytest.raises(InputError, match="altered"):
        verify_allocation(alloc, swapped)
    rechained = [dict(row) for row in concealed]
    rechained[5]["chain"] = "f" * 64
    with pytest.raises(InputError, match="hash chain broken at entry 6"):
        verify_allocation(alloc, rechained)


def test_reveal_goes_one_slot_at_a_time_within_a_stratum(tmp_path: Path):
    alloc = make_allocation(["s=1", "s=2"], 4, block_sizes=(4,), seed=8)
    concealed = alloc.concealed_rows()
    log = tmp_path / "log.tsv"
    reveals = read_reveals(log)
    assert reveals == []
    for pid, stratum in [("p1", "s=2"), ("p2", "s=1"), ("p3", "s=2")]:
        reveals.append(reveal_next(alloc, concealed, reveals, pid, stratum))
        write_reveals(reveals, log)
    reveals = read_reveals(log)
    s2 = [e for e in alloc.entries if e.stratum == "s=2"]
    assert [(r.participant_id, r.arm, r.position) for r in reveals if r.stratum == "s=2"] == [
        ("p1", s2[0].arm, 1),
        ("p3", s2[1].arm, 2),
    ]
    with pytest.raises(InputError, match="already randomized"):
        reveal_next(alloc, concealed, reveals, "p1", "s=2")
    with pytest.raises(InputError, match="unknown stratum"):
        reveal_next(alloc, concealed, reveals, "p9", "s=3")
    forged = [dataclasses.replace(reveals[0], arm="nonsense"), *reveals[1:]]
    with pytest.raises(InputError, match="log was altered"):
        reveal_next(alloc, concealed, forged, "p9", "s=1")
    skipped = [
        r for r in reveals if r.participant_id != "p1"
    ]  # slot 1 of s=2 missing, slot 2 present
    with pytest.raises(InputError, match="skips slots"):
        reveal_next(alloc, concealed, skipped, "p9", "s=2")


def test_a_full_stratum_refuses_more_participants():
    alloc = make_allocation(["all"], 2, block_sizes=(2,), seed=2)
    concealed, reveals = alloc.concealed_rows(), []
    for pid in ("a", "b"):
        reveals.append(reveal_next(alloc, concealed, reveals, pid, "all"))
    assert sorted(r.arm for r in reveals) == ["connectivity", "scalp"]
    with pytest.raises(InputError, match="no slots left"):
        reveal_next(alloc, concealed, reveals, "c", "all")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"arms": ("a",)}, "at least two"),
        ({"arms": ("a", "a")}, "distinct"),
        ({"block_sizes": (3,)}, "multiple of 2"),
        ({"n_per_stratum": 0}, "positive"),
        ({"strata": ["x", "x"]}, "distinct"),
    ],
)
def test_bad_designs_raise(kwargs, message):
    args = {"strata": ["all"], "n_per_stratum": 10, "seed": 1, **kwargs}
    with pytest.raises(InputError, match=message):
        make_allocation(**args)


def test_an_allocation_never_changes_whatever_the_spelling_or_stratum():
    alloc = make_allocation(["s=1", "s=2"], 4, block_sizes=(4,), seed=8)
    concealed, reveals = alloc.concealed_rows(), []
    reveals.append(reveal_next(alloc, concealed, reveals, "01", "s=1"))
    for again, stratum in (("01", "s=2"), ("sub-01", "s=2"), (" sub-01 ", "s=1")):
        with pytest.raises(
            InputError, match=r"already randomized \(as 01, stratum 's=1', sequence"
        ):
            reveal_next(alloc, concealed, reveals, again, stratum)
    for bad in ("02\tconnectivity", "02 scalp", "", "sub-", "P-002", "a/b"):
        with pytest.raises(InputError, match="is not a participant label"):
            reveal_next(alloc, concealed, reveals, bad, "s=2")
    assert (
        len(reveals) == 1
        and reveal_next(alloc, concealed, reveals, "sub-02", "s=2").participant_id == "sub-02"
    )


def test_trial_table_ids_one_spelling_and_labels_only():
    import pandas as pd

    from tmstarget.trial import validate_trial_table

    rows = [
        ("sub-01", "a", "baseline", 30),
        ("sub-01", "a", "month1", 12),
        ("02", "b", "baseline", 28),
        ("02", "b", "month1", 20),
    ]
    table = pd.DataFrame(rows, columns=["participant_id", "arm", "timepoint", "madrs_total"])
    assert validate_trial_table(table).frame["participant_id"].tolist() == [
        "02",
        "02",
        "sub-01",
        "sub-01",
    ]
    mixed = table.copy()
    mixed.loc[1, "participant_id"] = "01"
    with pytest.raises(InputError, match="'sub-01' and '01' \\(row 3\\) name the same participant"):
        validate_trial_table(mixed)
    tabbed = table.copy()
    tabbed.loc[2:3, "participant_id"] = "02\tb"
    with pytest.raises(
        InputError, match=r"participant_id at row 4 '02\\\\tb' is not a participant label"
    ):
        validate_trial_table(tabbed)
